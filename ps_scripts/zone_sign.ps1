<#
.SYNOPSIS
Sign a zone (Invoke-DnsServerZoneSign).
.DESCRIPTION
SignWithDefault signs with a default KSK and ZSK; with DoResign on a signed zone it drops the
keys first. Prints the zone afterwards (ZoneName, ZoneType, IsSigned, ...).
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [switch]$SignWithDefault,
    [switch]$DoResign
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

# windns:include _projection.ps1

$arguments = @{ ZoneName = $ZoneName; Force = $true }
if ($PSBoundParameters.ContainsKey('SignWithDefault')) { $arguments['SignWithDefault'] = $SignWithDefault }
if ($PSBoundParameters.ContainsKey('DoResign')) { $arguments['DoResign'] = $DoResign }
Invoke-DnsServerZoneSign @arguments | Out-Null
$zone = Get-DnsServerZone -Name $ZoneName
ConvertTo-Json -InputObject (ConvertTo-WindnsZone $zone) -Depth 3 -Compress
