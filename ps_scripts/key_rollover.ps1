<#
.SYNOPSIS
Enable, disable, step or start a key rollover (Enable-/Disable-/Step-/Invoke-DnsServerSigningKeyRollover).
.DESCRIPTION
Action: enable | disable | step | now. Prints the key afterwards, projected like inventory.ps1.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateSet('enable', 'disable', 'step', 'now')][string]$Action,
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [Parameter(Mandatory = $true)][string]$KeyId,
    [double]$RolloverPeriodSeconds,
    [double]$InitialRolloverOffsetSeconds
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

# windns:include _projection.ps1

$id = [guid]$KeyId
switch ($Action) {
    'enable' {
        $arguments = @{ ZoneName = $ZoneName; KeyId = $id; Force = $true }
        if ($PSBoundParameters.ContainsKey('RolloverPeriodSeconds')) {
            $arguments['RolloverPeriod'] = [TimeSpan]::FromSeconds($RolloverPeriodSeconds)
        }
        if ($PSBoundParameters.ContainsKey('InitialRolloverOffsetSeconds')) {
            $arguments['InitialRolloverOffset'] = [TimeSpan]::FromSeconds($InitialRolloverOffsetSeconds)
        }
        Enable-DnsServerSigningKeyRollover @arguments | Out-Null
    }
    'disable' { Disable-DnsServerSigningKeyRollover -ZoneName $ZoneName -KeyId $id -Force | Out-Null }
    'step' { Step-DnsServerSigningKeyRollover -ZoneName $ZoneName -KeyId $id -Force | Out-Null }
    'now' { Invoke-DnsServerSigningKeyRollover -ZoneName $ZoneName -KeyId @($id) -Force | Out-Null }
}
$key = Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $id | Select-Object -First 1
ConvertTo-Json -InputObject (ConvertTo-WindnsKey $key) -Depth 4 -Compress
