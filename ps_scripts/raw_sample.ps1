<#
.SYNOPSIS
A raw sample of what the DnsServer cmdlets print on this server, exactly as ConvertTo-Json prints
it here, for a bug report. Prints one JSON document.
.DESCRIPTION
`Get-DnsServerZone | ConvertTo-Json -Depth <Depth>` (the first -MaxZones zones when given) and,
with -ZoneName, `Get-DnsServerSigningKey -ZoneName <zone>` and
`Get-DnsServerDnsSecZoneSetting -ZoneName <zone>` the same way: no projection, the cmdlets'
objects as this server's PowerShell serialises them (the layout an admin gets with
`... | ConvertTo-Json -Depth 4`). Prints {Schema, SchemaVersion, ZoneName, Depth, Samples}: one
{Command, ZoneName, Count, Json, Error} per cmdlet, Json the text ConvertTo-Json printed (null
when the cmdlet printed nothing), Error {Stage, Code, Message, FullyQualifiedErrorId} when the
cmdlet failed (a failure is recorded and the next cmdlet still runs).

Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only and prints one JSON document.
#>
[CmdletBinding()]
param(
    [string]$ZoneName,
    [int]$MaxZones,
    [int]$Depth = 4
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function New-WindnsSampleError([string]$Stage, $Record) {
    # As inventory.ps1 records a failed cmdlet: the Win32 code from ErrorData.error_Code, else
    # from FullyQualifiedErrorId "WIN32 9601,Get-DnsServerZone".
    $code = $null
    $message = $null
    $fqid = $null
    if ($null -ne $Record) {
        $fqid = [string]$Record.FullyQualifiedErrorId
        if ($null -ne $Record.Exception) {
            $message = [string]$Record.Exception.Message
            $data = $Record.Exception.PSObject.Properties['ErrorData']
            if (($null -ne $data) -and ($null -ne $data.Value)) {
                $raw = $data.Value.PSObject.Properties['error_Code']
                if (($null -ne $raw) -and ($null -ne $raw.Value)) { $code = [long]$raw.Value }
            }
        }
    }
    if (($null -eq $code) -and ($fqid -match '^WIN32 (\d+),')) { $code = [long]$Matches[1] }
    return [ordered]@{ Stage = $Stage; Code = $code; Message = $message; FullyQualifiedErrorId = $fqid }
}

function New-WindnsSample([string]$Command, [string]$Zone) {
    return [ordered]@{ Command = $Command; ZoneName = $Zone; Count = $null; Json = $null; Error = $null }
}

function Set-WindnsSampleJson($Sample, $Objects) {
    # Piped, as an admin runs it: one object prints as an object, several as an array.
    $items = @($Objects | Where-Object { $null -ne $_ })
    $Sample['Count'] = [long]$items.Count
    if ($items.Count -gt 0) { $Sample['Json'] = [string]($items | ConvertTo-Json -Depth $Depth) }
}

$samples = New-Object System.Collections.ArrayList

$zones = New-WindnsSample 'Get-DnsServerZone' $null
try {
    $found = @(Get-DnsServerZone)
    if ($PSBoundParameters.ContainsKey('MaxZones')) { $found = @($found | Select-Object -First $MaxZones) }
    Set-WindnsSampleJson $zones $found
}
catch {
    $zones['Error'] = New-WindnsSampleError 'Get-DnsServerZone' $_
}
$null = $samples.Add($zones)

$zone = $null
if ($PSBoundParameters.ContainsKey('ZoneName')) {
    $zone = $ZoneName
    $keys = New-WindnsSample 'Get-DnsServerSigningKey' $ZoneName
    try {
        Set-WindnsSampleJson $keys @(Get-DnsServerSigningKey -ZoneName $ZoneName)
    }
    catch {
        $keys['Error'] = New-WindnsSampleError 'Get-DnsServerSigningKey' $_
    }
    $null = $samples.Add($keys)

    $setting = New-WindnsSample 'Get-DnsServerDnsSecZoneSetting' $ZoneName
    try {
        Set-WindnsSampleJson $setting @(Get-DnsServerDnsSecZoneSetting -ZoneName $ZoneName)
    }
    catch {
        $setting['Error'] = New-WindnsSampleError 'Get-DnsServerDnsSecZoneSetting' $_
    }
    $null = $samples.Add($setting)
}

$doc = [ordered]@{
    Schema        = 'windns.doctor.raw-sample'
    SchemaVersion = 1
    ZoneName      = $zone
    Depth         = $Depth
    Samples       = $samples.ToArray()
}
Write-Output (ConvertTo-Json -InputObject $doc -Depth 5 -Compress)
