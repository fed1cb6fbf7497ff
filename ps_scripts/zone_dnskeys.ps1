<#
.SYNOPSIS
Read each named zone's own DNSKEY RRset from the server's zone data (Get-DnsServerResourceRecord).
.DESCRIPTION
For each zone in -ZoneName: the DNSKEY records at the zone apex (-Name '@' -RRType DnsKey), KSKs
and ZSKs alike, each projected as {HostName, RecordType, TimeToLive, RecordData} with RecordData
{KeyTag, KeyFlags, KeyProtocol, CryptoAlgorithm, SecureEntryPoint, ZoneKey, Revoked, Base64Data}.
Prints {Zones: [{ZoneName, Records, Error}]}; a zone whose read fails gets Error
{Stage, Code, Message, FullyQualifiedErrorId} and empty Records, and the other zones are read.
Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only and prints one JSON document.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$ZoneName
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'

# windns:include _projection.ps1

function ConvertTo-WindnsDnsKey($Record) {
    # RecordData is a DnsServerResourceRecordDnsKey; its members are read by name.
    $data = Get-WindnsMember $Record 'RecordData'
    return [ordered]@{
        HostName   = ConvertTo-WindnsText $Record.HostName
        RecordType = ConvertTo-WindnsText $Record.RecordType
        TimeToLive = ConvertTo-WindnsSeconds $Record.TimeToLive
        RecordData = [ordered]@{
            KeyTag           = ConvertTo-WindnsNumber (Get-WindnsMember $data 'KeyTag')
            KeyFlags         = ConvertTo-WindnsNumber (Get-WindnsMember $data 'KeyFlags')
            KeyProtocol      = ConvertTo-WindnsText (Get-WindnsMember $data 'KeyProtocol')
            CryptoAlgorithm  = ConvertTo-WindnsText (Get-WindnsMember $data 'CryptoAlgorithm')
            SecureEntryPoint = ConvertTo-WindnsBool (Get-WindnsMember $data 'SecureEntryPoint')
            ZoneKey          = ConvertTo-WindnsBool (Get-WindnsMember $data 'ZoneKey')
            Revoked          = ConvertTo-WindnsBool (Get-WindnsMember $data 'Revoked')
            Base64Data       = ConvertTo-WindnsText (Get-WindnsMember $data 'Base64Data')
        }
    }
}

$zones = New-Object System.Collections.ArrayList
foreach ($name in $ZoneName) {
    $entry = [ordered]@{ ZoneName = $name; Records = @(); Error = $null }
    try {
        $entry['Records'] = @(Get-DnsServerResourceRecord -ZoneName $name -Name '@' -RRType 'DnsKey' |
                ForEach-Object { ConvertTo-WindnsDnsKey $_ })
    }
    catch {
        $entry['Error'] = New-WindnsError 'Get-DnsServerResourceRecord' $_
    }
    $null = $zones.Add($entry)
}
$doc = [ordered]@{ Zones = $zones.ToArray() }
Write-Output (ConvertTo-Json -InputObject $doc -Depth 6 -Compress)
