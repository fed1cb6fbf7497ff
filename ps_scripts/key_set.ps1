<#
.SYNOPSIS
Change a signing key's rollover period, signature validity or next action (Set-DnsServerSigningKey).
.DESCRIPTION
Prints the key after the change, projected as inventory.ps1 projects a row of its key table.
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

# windns:include _projection.ps1

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
