<#
.SYNOPSIS
Change a zone's DNSSEC settings (Set-DnsServerDnsSecZoneSetting).
.DESCRIPTION
Prints the zone's DnsSecSetting afterwards, projected like inventory.ps1 projects it.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [ValidateSet('NSec', 'NSec3')][string]$DenialOfExistence,
    [uint16]$NSec3Iterations,
    [byte]$NSec3RandomSaltLength,
    [string]$NSec3UserSalt,
    [bool]$NSec3OptOut,
    [ValidateSet('None', 'Sha1', 'Sha256', 'Sha384')][string[]]$DSRecordGenerationAlgorithm,
    [ValidateSet('None', 'DnsKey')][string[]]$DistributeTrustAnchor
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

function ConvertTo-WindnsSeconds($Span) {
    if ($null -eq $Span) { return $null }
    return [double]$Span.TotalSeconds
}

function ConvertTo-WindnsNumber($Value) {
    if ($null -eq $Value) { return $null }
    return [long]$Value
}

function ConvertTo-WindnsSetting($Setting) {
    $names = @($Setting.PSObject.Properties | ForEach-Object { $_.Name })
    $current = $null
    if ($names -contains 'NSec3CurrentSalt') { $current = [string]$Setting.NSec3CurrentSalt }
    $signed = $null
    if ($names -contains 'IsSigned') { $signed = [bool]$Setting.IsSigned }
    return [ordered]@{
        ZoneName                      = [string]$Setting.ZoneName
        DenialOfExistence             = [string]$Setting.DenialOfExistence
        NSec3HashAlgorithm            = [string]$Setting.NSec3HashAlgorithm
        NSec3Iterations               = ConvertTo-WindnsNumber $Setting.NSec3Iterations
        NSec3OptOut                   = [bool]$Setting.NSec3OptOut
        NSec3RandomSaltLength         = ConvertTo-WindnsNumber $Setting.NSec3RandomSaltLength
        NSec3UserSalt                 = [string]$Setting.NSec3UserSalt
        NSec3CurrentSalt              = $current
        DistributeTrustAnchor         = @($Setting.DistributeTrustAnchor | ForEach-Object { [string]$_ })
        EnableRfc5011KeyRollover      = [bool]$Setting.EnableRfc5011KeyRollover
        DSRecordGenerationAlgorithm   = @($Setting.DSRecordGenerationAlgorithm | ForEach-Object { [string]$_ })
        DSRecordSetTtl                = ConvertTo-WindnsSeconds $Setting.DSRecordSetTtl
        DnsKeyRecordSetTtl            = ConvertTo-WindnsSeconds $Setting.DnsKeyRecordSetTtl
        SignatureInceptionOffset      = ConvertTo-WindnsSeconds $Setting.SignatureInceptionOffset
        SecureDelegationPollingPeriod = ConvertTo-WindnsSeconds $Setting.SecureDelegationPollingPeriod
        PropagationTime               = ConvertTo-WindnsSeconds $Setting.PropagationTime
        ParentHasSecureDelegation     = [bool]$Setting.ParentHasSecureDelegation
        IsKeyMasterServer             = [bool]$Setting.IsKeyMasterServer
        KeyMasterServer               = [string]$Setting.KeyMasterServer
        KeyMasterStatus               = [string]$Setting.KeyMasterStatus
        IsSigned                      = $signed
    }
}

$arguments = @{ ZoneName = $ZoneName; PassThru = $true }
foreach ($name in 'DenialOfExistence', 'NSec3Iterations', 'NSec3RandomSaltLength', 'NSec3UserSalt',
    'NSec3OptOut', 'DSRecordGenerationAlgorithm', 'DistributeTrustAnchor') {
    if ($PSBoundParameters.ContainsKey($name)) { $arguments[$name] = $PSBoundParameters[$name] }
}
Set-DnsServerDnsSecZoneSetting @arguments | Out-Null
$setting = Get-DnsServerDnsSecZoneSetting -ZoneName $ZoneName | Select-Object -First 1
ConvertTo-Json -InputObject (ConvertTo-WindnsSetting $setting) -Depth 4 -Compress
