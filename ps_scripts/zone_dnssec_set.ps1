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

# windns:include _projection.ps1

$arguments = @{ ZoneName = $ZoneName; PassThru = $true }
foreach ($name in 'DenialOfExistence', 'NSec3Iterations', 'NSec3RandomSaltLength', 'NSec3UserSalt',
    'NSec3OptOut', 'DSRecordGenerationAlgorithm', 'DistributeTrustAnchor') {
    if ($PSBoundParameters.ContainsKey($name)) { $arguments[$name] = $PSBoundParameters[$name] }
}
# MS-DNSP 3.1.1.2.3: NSEC3UserSalt "MUST be ignored unless the NSEC3RandomSaltLength property is
# set to 0", so a user salt (or '-', none) only takes effect with a random salt length of 0.
if ($PSBoundParameters.ContainsKey('NSec3UserSalt') -and -not $PSBoundParameters.ContainsKey('NSec3RandomSaltLength')) {
    $arguments['NSec3RandomSaltLength'] = [byte]0
}
Set-DnsServerDnsSecZoneSetting @arguments | Out-Null
$setting = Get-DnsServerDnsSecZoneSetting -ZoneName $ZoneName | Select-Object -First 1
ConvertTo-Json -InputObject (ConvertTo-WindnsZoneSetting $setting) -Depth 4 -Compress
