<#
.SYNOPSIS
Export a signed zone's public keys as DNSKEY or DS records (Export-DnsServerDnsSecPublicKey).
.DESCRIPTION
Without DigestType: the KSK DNSKEY set; with DigestType (Sha1, Sha256, Sha384): the DS set to hand
to the parent zone. The cmdlet writes a file; the script uses a private temporary directory,
prints {ZoneName, Kind, Records, File} and deletes the directory.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only (TimeSpans as seconds, key ids as GUID text) and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [ValidateSet('Sha1', 'Sha256', 'Sha384')][string[]]$DigestType
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0

function ConvertTo-WindnsRecord($Record) {
    $data = $Record.RecordData
    $names = @($data.PSObject.Properties | ForEach-Object { $_.Name })
    $projected = [ordered]@{}
    foreach ($name in 'KeyTag', 'KeyFlags', 'KeyProtocol', 'CryptoAlgorithm', 'SecureEntryPoint', 'ZoneKey',
        'Base64Data', 'DigestType', 'Digest') {
        if ($names -contains $name) {
            $value = $data.$name
            if ($value -is [bool] -or $value -is [int] -or $value -is [uint16] -or $null -eq $value) {
                $projected[$name] = $value
            }
            else {
                $projected[$name] = [string]$value
            }
        }
    }
    return [ordered]@{
        HostName   = [string]$Record.HostName
        RecordType = [string]$Record.RecordType
        TimeToLive = [double]$Record.TimeToLive.TotalSeconds
        RecordData = $projected
    }
}

$directory = Join-Path ([System.IO.Path]::GetTempPath()) ('windns-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $directory | Out-Null
try {
    # -PassThru: "By default, this cmdlet does not generate any output" (Export-DnsServerDnsSecPublicKey).
    $arguments = @{ ZoneName = $ZoneName; Path = $directory; Force = $true; PassThru = $true }
    $kind = 'DnsKey'
    if ($PSBoundParameters.ContainsKey('DigestType')) {
        $arguments['DigestType'] = $DigestType
        $kind = 'DS'
    }
    $records = @(Export-DnsServerDnsSecPublicKey @arguments | ForEach-Object { ConvertTo-WindnsRecord $_ })
    $text = @(Get-ChildItem -LiteralPath $directory -File | ForEach-Object {
            [System.IO.File]::ReadAllText($_.FullName)
        }) -join "`n"
    $result = [ordered]@{ ZoneName = $ZoneName; Kind = $kind; Records = $records; File = $text }
    ConvertTo-Json -InputObject $result -Depth 5 -Compress
}
finally {
    Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
}
