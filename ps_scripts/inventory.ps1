<#
.SYNOPSIS
Inventory of one Windows DNS server's DNSSEC state, printed as one JSON document.
.DESCRIPTION
Prints the `windns.inventory` document described in docs/inventory-schema.md (schema 2): server
identity and DNSSEC settings, every zone (or the zones named in -ZoneName) with its DNSSEC
settings, every zone's signing keys as one table (Keys: a column per key property, a row per
key, each zone's rows together and in zone order), the trust anchors and the trust points, and a
self-check: what the script was asked (Request) and counts taken apart from the zone loop (Check,
and each zone's KeysListed), which the toolkit compares with what the document holds.

A failing cmdlet for one zone (or for trust anchors/points) is recorded in that zone's (or the
document's) Errors as {Stage, Code, Message, FullyQualifiedErrorId} and the script goes on; a zone
named in -ZoneName that does not exist becomes a zone entry whose Errors holds code 9601. Only a
failure to read the server itself (Get-DnsServerSetting, or listing all zones) ends the script.

Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only and prints one JSON document.
#>
[CmdletBinding()]
param(
    [string[]]$ZoneName
)
$ErrorActionPreference = 'Stop'
# Progress records become CLIXML noise on stderr over WinRM; nobody watches them.
$ProgressPreference = 'SilentlyContinue'
# No Set-StrictMode: properties differ between Windows Server versions (IsSigned, ReplicationScope,
# RootTrustAnchorsURL, IsRolloverEnabled...), so every optional one is read through
# Get-WindnsMember, which gives $null when the object lacks it.

# windns:include _projection.ps1

# The columns of the key table: the properties ConvertTo-WindnsKey projects, in its order.
$WindnsKeyColumns = @(
    'ZoneName', 'KeyId', 'KeyType', 'CurrentState', 'KeyStorageProvider', 'StoreKeysInAD',
    'CryptoAlgorithm', 'KeyLength', 'DnsKeySignatureValidityPeriod', 'DSSignatureValidityPeriod',
    'ZoneSignatureValidityPeriod', 'InitialRolloverOffset', 'RolloverPeriod', 'RolloverType',
    'NextRolloverAction', 'LastRolloverTime', 'NextRolloverTime', 'CurrentRolloverStatus',
    'ActiveKey', 'StandbyKey', 'NextKey', 'IsRolloverEnabled'
)

function Get-WindnsZoneEntry($Zone, $KeyTable) {
    # The zone's entry; its keys are appended to $KeyTable, one row each, ZoneName the entry's.
    $entry = [ordered]@{
        ZoneName            = ConvertTo-WindnsText $Zone.ZoneName
        ZoneType            = ConvertTo-WindnsText $Zone.ZoneType
        IsDsIntegrated      = ConvertTo-WindnsBool $Zone.IsDsIntegrated
        IsReverseLookupZone = ConvertTo-WindnsBool $Zone.IsReverseLookupZone
        IsAutoCreated       = ConvertTo-WindnsBool $Zone.IsAutoCreated
    }
    # Only primary zones have IsSigned/ReplicationScope; elsewhere the key stays absent.
    $signed = $false
    if (Test-WindnsMember $Zone 'IsSigned') {
        $signed = [bool]$Zone.IsSigned
        $entry['IsSigned'] = $signed
    }
    if (Test-WindnsMember $Zone 'ReplicationScope') {
        $entry['ReplicationScope'] = ConvertTo-WindnsText $Zone.ReplicationScope
    }
    $entry['DnsSecSetting'] = $null
    $keys = New-Object System.Collections.ArrayList
    $errors = New-Object System.Collections.ArrayList

    $dnssecRelevant = ($entry.ZoneType -eq 'Primary') -and (-not $entry.IsAutoCreated) -and ($entry.ZoneName -ne 'TrustAnchors')
    if ($dnssecRelevant) {
        # Asked even for unsigned zones: an unsigned zone holding only a KSK (or only a ZSK) is
        # exactly the zone that fails with 9104 the day someone signs it.
        try {
            $listedKeys = @(Get-DnsServerSigningKey -ZoneName $entry.ZoneName)
            foreach ($key in $listedKeys) {
                if ($null -ne $key) { $null = $keys.Add((ConvertTo-WindnsKey $key)) }
            }
            # Self-check: how many objects the cmdlet returned, counted apart from the projection,
            # and recorded once every key was projected: a key that cannot be projected costs its
            # zone an error (in Errors), not the whole server a failed self-check.
            $entry['KeysListed'] = $listedKeys.Count
        }
        catch {
            $null = $errors.Add((New-WindnsError 'Get-DnsServerSigningKey' $_))
        }
        # Settings only for zones that use DNSSEC (signed, or holding keys); when the key list
        # could not be read on an unsigned zone there is nothing to compare the settings with.
        if ($signed -or ($keys.Count -gt 0)) {
            try {
                $setting = Get-DnsServerDnsSecZoneSetting -ZoneName $entry.ZoneName | Select-Object -First 1
                if ($null -ne $setting) { $entry['DnsSecSetting'] = ConvertTo-WindnsZoneSetting $setting }
            }
            catch {
                $null = $errors.Add((New-WindnsError 'Get-DnsServerDnsSecZoneSetting' $_))
            }
        }
    }
    foreach ($record in $keys) {
        $record['ZoneName'] = $entry.ZoneName
        foreach ($column in $WindnsKeyColumns) { $null = $KeyTable[$column].Add($record[$column]) }
    }
    $entry['Errors'] = $errors.ToArray()
    return $entry
}

# -- server ---------------------------------------------------------------------------------------
$topErrors = New-Object System.Collections.ArrayList
$serverSetting = Get-DnsServerSetting -All

$computerName = ConvertTo-WindnsText (Get-WindnsMember $serverSetting 'ComputerName')
if ($null -eq $computerName) { $computerName = $env:COMPUTERNAME }

$osVersion = $null
try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object -First 1
    $osVersion = ('{0} {1}' -f ([string]$os.Caption).Trim(), [string]$os.Version).Trim()
}
catch {
    $null = $topErrors.Add((New-WindnsError 'Get-CimInstance Win32_OperatingSystem' $_))
}

$dnsVersion = $null
$major = Get-WindnsMember $serverSetting 'MajorVersion'
if ($null -ne $major) {
    $dnsVersion = '{0}.{1}.{2}' -f $major, (Get-WindnsMember $serverSetting 'MinorVersion'), (Get-WindnsMember $serverSetting 'BuildNumber')
}

$server = [ordered]@{
    ComputerName = $computerName
    OsVersion    = $osVersion
    DnsVersion   = $dnsVersion
    Settings     = [ordered]@{
        EnableDnsSec                            = ConvertTo-WindnsBool (Get-WindnsMember $serverSetting 'EnableDnsSec')
        EnableOnlineSigning                     = ConvertTo-WindnsBool (Get-WindnsMember $serverSetting 'EnableOnlineSigning')
        MaximumSignatureScanPeriod              = ConvertTo-WindnsSeconds (Get-WindnsMember $serverSetting 'MaximumSignatureScanPeriod')
        MaximumTrustAnchorActiveRefreshInterval = ConvertTo-WindnsSeconds (Get-WindnsMember $serverSetting 'MaximumTrustAnchorActiveRefreshInterval')
        # Not on Windows Server 2012 (added in 2012 R2).
        RootTrustAnchorsURL                     = ConvertTo-WindnsText (Get-WindnsMember $serverSetting 'RootTrustAnchorsURL')
    }
}

# -- zones ----------------------------------------------------------------------------------------
$zones = New-Object System.Collections.ArrayList
$documentKeys = [ordered]@{}
foreach ($column in $WindnsKeyColumns) { $documentKeys[$column] = New-Object 'System.Collections.Generic.List[object]' }
# Branch on whether -ZoneName was bound, never on its value: an unbound [string[]] is $null and
# @($null).Count is 1 (about_Arrays, about_Automatic_Variables: $PSBoundParameters).
if ($PSBoundParameters.ContainsKey('ZoneName')) {
    foreach ($name in $ZoneName) {
        if ([string]::IsNullOrWhiteSpace($name)) { continue }
        $found = $null
        try {
            $found = Get-DnsServerZone -Name $name | Select-Object -First 1
        }
        catch {
            $failure = New-WindnsError 'Get-DnsServerZone' $_
            # A zone that is not there is an answer about that zone, not a failed inventory.
            if ($failure.Code -ne 9601) { throw }
            $null = $zones.Add([ordered]@{
                    ZoneName      = $name
                    ZoneType      = $null
                    DnsSecSetting = $null
                    Errors        = @($failure)
                })
            continue
        }
        if ($null -ne $found) { $null = $zones.Add((Get-WindnsZoneEntry $found $documentKeys)) }
    }
}
else {
    foreach ($zone in @(Get-DnsServerZone)) {
        if ($null -ne $zone) { $null = $zones.Add((Get-WindnsZoneEntry $zone $documentKeys)) }
    }
}

# -- self-check -----------------------------------------------------------------------------------
# What the script was asked, and counts taken apart from the zone loop above, so that a script that
# drops zones or keys can never pass for a clean server (docs/inventory-schema.md, "Self-check").
# The condition is written again here on purpose, not shared with the branch above: a wrong branch
# there then shows as a mismatch here. In PowerShell 3+ foreach over $null runs zero times
# (about_Foreach), which is how a wrong branch empties the document without an error.
$request = [ordered]@{ AllZones = $true; ZoneName = @() }
$zonesListed = $null
$primaryZonesListed = $null
if ($PSBoundParameters.ContainsKey('ZoneName')) {
    $asked = New-Object System.Collections.ArrayList
    foreach ($name in @($ZoneName)) {
        if (-not [string]::IsNullOrWhiteSpace($name)) { $null = $asked.Add([string]$name) }
    }
    $request['AllZones'] = $false
    $request['ZoneName'] = $asked.ToArray()
}
else {
    # A second listing, separate from the one the zones were read from.
    $listing = @(Get-DnsServerZone)
    $zonesListed = $listing.Count
    $primaryZonesListed = @($listing | Where-Object { [string]$_.ZoneType -eq 'Primary' }).Count
}
$check = [ordered]@{
    ZonesListed        = $zonesListed
    PrimaryZonesListed = $primaryZonesListed
    ZonesEmitted       = $zones.Count
    KeyRowsEmitted     = $documentKeys['KeyId'].Count
}

# -- trust points and anchors ---------------------------------------------------------------------
# Anchors are read per trust point name: Get-DnsServerTrustAnchor documents -Name as required.
$points = New-Object System.Collections.ArrayList
$anchors = New-Object System.Collections.ArrayList
$pointsRead = $false
try {
    foreach ($point in @(Get-DnsServerTrustPoint)) {
        if ($null -ne $point) { $null = $points.Add((ConvertTo-WindnsTrustPoint $point)) }
    }
    $pointsRead = $true
}
catch {
    $failure = New-WindnsError 'Get-DnsServerTrustPoint' $_
    # Trust points live in the TrustAnchors zone; without that zone there are simply none.
    if ($failure.Code -eq 9601) { $pointsRead = $true }
    else { $null = $topErrors.Add($failure) }
}
if ($pointsRead) {
    foreach ($point in $points) {
        try {
            foreach ($anchor in @(Get-DnsServerTrustAnchor -Name $point.TrustPointName)) {
                if ($null -ne $anchor) { $null = $anchors.Add((ConvertTo-WindnsTrustAnchor $anchor)) }
            }
        }
        catch {
            $null = $topErrors.Add((New-WindnsError 'Get-DnsServerTrustAnchor' $_))
        }
    }
}
else {
    $null = $topErrors.Add([ordered]@{
            Stage                 = 'Get-DnsServerTrustAnchor'
            Code                  = $null
            Message               = 'Trust anchors not read: the trust points they belong to could not be listed.'
            FullyQualifiedErrorId = $null
        })
}

# -- the document ---------------------------------------------------------------------------------
$doc = [ordered]@{
    Schema        = 'windns.inventory'
    SchemaVersion = 2
    CollectedAt   = [datetime]::UtcNow.ToString('o')
    Server        = $server
    Request       = $request
    Check         = $check
    Zones         = $zones.ToArray()
    Keys          = $documentKeys
    TrustAnchors  = $anchors.ToArray()
    TrustPoints   = $points.ToArray()
    Errors        = $topErrors.ToArray()
}
Write-Output (ConvertTo-Json -InputObject $doc -Depth 8 -Compress)
