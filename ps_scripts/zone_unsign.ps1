<#
.SYNOPSIS
Unsign a zone (Invoke-DnsServerZoneUnsign).
.DESCRIPTION
Prints the zone afterwards (ZoneName, ZoneType, IsSigned, ...).
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

function ConvertTo-WindnsZone($Zone) {
    $signed = $null
    if ($Zone.PSObject.Properties['IsSigned']) { $signed = [bool]$Zone.IsSigned }
    $scope = $null
    if ($Zone.PSObject.Properties['ReplicationScope']) { $scope = [string]$Zone.ReplicationScope }
    return [ordered]@{
        ZoneName            = [string]$Zone.ZoneName
        ZoneType            = [string]$Zone.ZoneType
        IsSigned            = $signed
        IsDsIntegrated      = [bool]$Zone.IsDsIntegrated
        IsReverseLookupZone = [bool]$Zone.IsReverseLookupZone
        IsAutoCreated       = [bool]$Zone.IsAutoCreated
        ReplicationScope    = $scope
    }
}

Invoke-DnsServerZoneUnsign -ZoneName $ZoneName -Force | Out-Null
$zone = Get-DnsServerZone -Name $ZoneName
ConvertTo-Json -InputObject (ConvertTo-WindnsZone $zone) -Depth 3 -Compress
