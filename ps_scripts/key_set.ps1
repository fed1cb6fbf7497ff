<#
.SYNOPSIS
Change a signing key's rollover period, signature validity or next action (Set-DnsServerSigningKey).
.DESCRIPTION
Prints the key after the change, projected like inventory.ps1 projects SigningKeys.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [Parameter(Mandatory = $true)][string]$KeyId,
    [double]$RolloverPeriodSeconds,
    [double]$DnsKeySignatureValidityPeriodSeconds,
    [double]$DSSignatureValidityPeriodSeconds,
    [double]$ZoneSignatureValidityPeriodSeconds,
    [ValidateSet('Normal', 'RevokeStandby', 'Retire')][string]$NextRolloverAction
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

function ConvertTo-WindnsSeconds($Span) {
    if ($null -eq $Span) { return $null }
    return [double]$Span.TotalSeconds
}

function ConvertTo-WindnsIsoTime($Date) {
    if ($null -eq $Date) { return $null }
    return ([datetime]$Date).ToUniversalTime().ToString('o')
}

function ConvertTo-WindnsNumber($Value) {
    if ($null -eq $Value) { return $null }
    return [long]$Value
}

function ConvertTo-WindnsText($Value) {
    if ($null -eq $Value) { return $null }
    $text = [string]$Value
    if ($text.Length -eq 0) { return $null }
    return $text
}

function ConvertTo-WindnsKey($Key) {
    $enabled = $null
    if ($Key.PSObject.Properties['IsRolloverEnabled']) { $enabled = [bool]$Key.IsRolloverEnabled }
    return [ordered]@{
        ZoneName                      = [string]$Key.ZoneName
        KeyId                         = ([string]$Key.KeyId).Trim('{}').ToLowerInvariant()
        KeyType                       = ConvertTo-WindnsText $Key.KeyType
        CurrentState                  = ConvertTo-WindnsText $Key.CurrentState
        KeyStorageProvider            = ConvertTo-WindnsText $Key.KeyStorageProvider
        StoreKeysInAD                 = [bool]$Key.StoreKeysInAD
        CryptoAlgorithm               = ConvertTo-WindnsText $Key.CryptoAlgorithm
        KeyLength                     = ConvertTo-WindnsNumber $Key.KeyLength
        DnsKeySignatureValidityPeriod = ConvertTo-WindnsSeconds $Key.DnsKeySignatureValidityPeriod
        DSSignatureValidityPeriod     = ConvertTo-WindnsSeconds $Key.DSSignatureValidityPeriod
        ZoneSignatureValidityPeriod   = ConvertTo-WindnsSeconds $Key.ZoneSignatureValidityPeriod
        InitialRolloverOffset         = ConvertTo-WindnsSeconds $Key.InitialRolloverOffset
        RolloverPeriod                = ConvertTo-WindnsSeconds $Key.RolloverPeriod
        RolloverType                  = ConvertTo-WindnsText $Key.RolloverType
        NextRolloverAction            = ConvertTo-WindnsText $Key.NextRolloverAction
        LastRolloverTime              = ConvertTo-WindnsIsoTime $Key.LastRolloverTime
        NextRolloverTime              = ConvertTo-WindnsIsoTime $Key.NextRolloverTime
        CurrentRolloverStatus         = ConvertTo-WindnsText $Key.CurrentRolloverStatus
        ActiveKey                     = ConvertTo-WindnsText $Key.ActiveKey
        StandbyKey                    = ConvertTo-WindnsText $Key.StandbyKey
        NextKey                       = ConvertTo-WindnsText $Key.NextKey
        IsRolloverEnabled             = $enabled
    }
}

$id = [guid]$KeyId
$arguments = @{ ZoneName = $ZoneName; KeyId = $id; PassThru = $true }
$spans = @{
    RolloverPeriodSeconds                = 'RolloverPeriod'
    DnsKeySignatureValidityPeriodSeconds = 'DnsKeySignatureValidityPeriod'
    DSSignatureValidityPeriodSeconds     = 'DSSignatureValidityPeriod'
    ZoneSignatureValidityPeriodSeconds   = 'ZoneSignatureValidityPeriod'
}
foreach ($name in $spans.Keys) {
    if ($PSBoundParameters.ContainsKey($name)) {
        $arguments[$spans[$name]] = [TimeSpan]::FromSeconds($PSBoundParameters[$name])
    }
}
if ($PSBoundParameters.ContainsKey('NextRolloverAction')) { $arguments['NextRolloverAction'] = $NextRolloverAction }

Set-DnsServerSigningKey @arguments | Out-Null
$key = Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $id | Select-Object -First 1
ConvertTo-Json -InputObject (ConvertTo-WindnsKey $key) -Depth 4 -Compress
