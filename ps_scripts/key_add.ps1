<#
.SYNOPSIS
Add a signing key to a zone (Add-DnsServerSigningKey).
.DESCRIPTION
Prints the new key, projected like inventory.ps1 projects SigningKeys.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [Parameter(Mandatory = $true)][ValidateSet('KeySigningKey', 'ZoneSigningKey')][string]$KeyType,
    [string]$CryptoAlgorithm,
    [uint32]$KeyLength,
    [double]$RolloverPeriodSeconds,
    [double]$InitialRolloverOffsetSeconds,
    [double]$DnsKeySignatureValidityPeriodSeconds,
    [double]$DSSignatureValidityPeriodSeconds,
    [double]$ZoneSignatureValidityPeriodSeconds,
    [bool]$StoreKeysInAD,
    [string]$KeyStorageProvider
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

$arguments = @{ ZoneName = $ZoneName; Type = $KeyType; PassThru = $true }
if ($PSBoundParameters.ContainsKey('CryptoAlgorithm')) { $arguments['CryptoAlgorithm'] = $CryptoAlgorithm }
if ($PSBoundParameters.ContainsKey('KeyLength')) { $arguments['KeyLength'] = $KeyLength }
$spans = @{
    RolloverPeriodSeconds                = 'RolloverPeriod'
    InitialRolloverOffsetSeconds         = 'InitialRolloverOffset'
    DnsKeySignatureValidityPeriodSeconds = 'DnsKeySignatureValidityPeriod'
    DSSignatureValidityPeriodSeconds     = 'DSSignatureValidityPeriod'
    ZoneSignatureValidityPeriodSeconds   = 'ZoneSignatureValidityPeriod'
}
foreach ($name in $spans.Keys) {
    if ($PSBoundParameters.ContainsKey($name)) {
        $arguments[$spans[$name]] = [TimeSpan]::FromSeconds($PSBoundParameters[$name])
    }
}
if ($PSBoundParameters.ContainsKey('StoreKeysInAD')) { $arguments['StoreKeysInAD'] = $StoreKeysInAD }
if ($PSBoundParameters.ContainsKey('KeyStorageProvider')) { $arguments['KeyStorageProvider'] = $KeyStorageProvider }

$key = Add-DnsServerSigningKey @arguments | Select-Object -First 1
ConvertTo-Json -InputObject (ConvertTo-WindnsKey $key) -Depth 4 -Compress
