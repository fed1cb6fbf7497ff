<#
.SYNOPSIS
Add a signing key to a zone (Add-DnsServerSigningKey).
.DESCRIPTION
Prints the new key, projected as inventory.ps1 projects a row of its key table.
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

# windns:include _projection.ps1

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
