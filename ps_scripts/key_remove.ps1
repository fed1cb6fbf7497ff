<#
.SYNOPSIS
Remove signing keys from a zone (Remove-DnsServerSigningKey).
.DESCRIPTION
Prints the removed keys as a JSON array, each projected as inventory.ps1 projects a row of its key table.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [Parameter(Mandatory = $true)][string[]]$KeyId
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

# windns:include _projection.ps1

$ids = @($KeyId | ForEach-Object { [guid]$_ })
$doomed = @(Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $ids | ForEach-Object { ConvertTo-WindnsKey $_ })
Remove-DnsServerSigningKey -ZoneName $ZoneName -KeyId $ids -Force | Out-Null
ConvertTo-Json -InputObject $doomed -Depth 4 -Compress
