# windns-toolkit: the projections every script shares (ps_scripts/README.md).
# Not run on its own: a script includes it with the line
#     # windns:include _projection.ps1
# and the toolkit sends the script with this text in that line's place, so a key, zone setting,
# trust anchor or trust point is printed the same way by the inventory and by every change.
# Values are projected explicitly: enums as strings, dates as ISO 8601 UTC, TimeSpans as seconds.
# Optional members (they differ between Windows Server versions) are read with Get-WindnsMember,
# which gives $null when the object lacks them, so this also runs under Set-StrictMode 2.0.

function Get-WindnsMember($Object, [string]$Name) {
    # For scalar members only: a function's output is unrolled, so an array would lose its shape.
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Test-WindnsMember($Object, [string]$Name) {
    if ($null -eq $Object) { return $false }
    return ($null -ne $Object.PSObject.Properties[$Name])
}

function ConvertTo-WindnsText($Value) {
    if ($null -eq $Value) { return $null }
    $text = [string]$Value
    if ($text.Length -eq 0) { return $null }
    return $text
}

function ConvertTo-WindnsTextItems($Values) {
    # Streams one string per element; the caller wraps the call in @() so that zero, one or many
    # elements all stay a JSON array.
    foreach ($value in @($Values)) {
        if ($null -ne $value) { [string]$value }
    }
}

function ConvertTo-WindnsNumber($Value) {
    if ($null -eq $Value) { return $null }
    return [long]$Value
}

function ConvertTo-WindnsBool($Value) {
    if ($null -eq $Value) { return $null }
    return [bool]$Value
}

function ConvertTo-WindnsSeconds($Span) {
    if ($null -eq $Span) { return $null }
    return [double]$Span.TotalSeconds
}

function ConvertTo-WindnsIsoTime($Date) {
    if ($null -eq $Date) { return $null }
    $d = [datetime]$Date
    if ($d -eq [datetime]::MinValue) { return $null }
    return $d.ToUniversalTime().ToString('o')
}

function ConvertTo-WindnsZoneSetting($Setting) {
    return [ordered]@{
        ZoneName                      = ConvertTo-WindnsText $Setting.ZoneName
        DenialOfExistence             = ConvertTo-WindnsText $Setting.DenialOfExistence
        NSec3HashAlgorithm            = ConvertTo-WindnsText $Setting.NSec3HashAlgorithm
        NSec3Iterations               = ConvertTo-WindnsNumber $Setting.NSec3Iterations
        NSec3OptOut                   = ConvertTo-WindnsBool $Setting.NSec3OptOut
        NSec3RandomSaltLength         = ConvertTo-WindnsNumber $Setting.NSec3RandomSaltLength
        NSec3UserSalt                 = ConvertTo-WindnsText $Setting.NSec3UserSalt
        NSec3CurrentSalt              = ConvertTo-WindnsText (Get-WindnsMember $Setting 'NSec3CurrentSalt')
        DistributeTrustAnchor         = @(ConvertTo-WindnsTextItems $Setting.DistributeTrustAnchor)
        EnableRfc5011KeyRollover      = ConvertTo-WindnsBool $Setting.EnableRfc5011KeyRollover
        DSRecordGenerationAlgorithm   = @(ConvertTo-WindnsTextItems $Setting.DSRecordGenerationAlgorithm)
        DSRecordSetTtl                = ConvertTo-WindnsSeconds $Setting.DSRecordSetTtl
        DnsKeyRecordSetTtl            = ConvertTo-WindnsSeconds $Setting.DnsKeyRecordSetTtl
        SignatureInceptionOffset      = ConvertTo-WindnsSeconds $Setting.SignatureInceptionOffset
        SecureDelegationPollingPeriod = ConvertTo-WindnsSeconds $Setting.SecureDelegationPollingPeriod
        PropagationTime               = ConvertTo-WindnsSeconds $Setting.PropagationTime
        ParentHasSecureDelegation     = ConvertTo-WindnsBool $Setting.ParentHasSecureDelegation
        IsKeyMasterServer             = ConvertTo-WindnsBool $Setting.IsKeyMasterServer
        KeyMasterServer               = ConvertTo-WindnsText $Setting.KeyMasterServer
        KeyMasterStatus               = ConvertTo-WindnsText $Setting.KeyMasterStatus
        IsSigned                      = ConvertTo-WindnsBool (Get-WindnsMember $Setting 'IsSigned')
    }
}

function ConvertTo-WindnsKey($Key) {
    $keyId = ConvertTo-WindnsText $Key.KeyId
    if ($null -ne $keyId) { $keyId = $keyId.Trim('{}').ToLowerInvariant() }
    return [ordered]@{
        ZoneName                      = ConvertTo-WindnsText $Key.ZoneName
        KeyId                         = $keyId
        KeyType                       = ConvertTo-WindnsText $Key.KeyType
        CurrentState                  = ConvertTo-WindnsText $Key.CurrentState
        KeyStorageProvider            = ConvertTo-WindnsText $Key.KeyStorageProvider
        StoreKeysInAD                 = ConvertTo-WindnsBool $Key.StoreKeysInAD
        CryptoAlgorithm               = ConvertTo-WindnsText $Key.CryptoAlgorithm
        KeyLength                     = ConvertTo-WindnsNumber $Key.KeyLength
        DnsKeySignatureValidityPeriod = ConvertTo-WindnsSeconds $Key.DnsKeySignatureValidityPeriod
        DSSignatureValidityPeriod     = ConvertTo-WindnsSeconds $Key.DSSignatureValidityPeriod
        ZoneSignatureValidityPeriod   = ConvertTo-WindnsSeconds $Key.ZoneSignatureValidityPeriod
        InitialRolloverOffset         = ConvertTo-WindnsSeconds $Key.InitialRolloverOffset
        RolloverPeriod                = ConvertTo-WindnsSeconds $Key.RolloverPeriod
        RolloverType                  = ConvertTo-WindnsText $Key.RolloverType
        NextRolloverAction            = ConvertTo-WindnsText $Key.NextRolloverAction
        LastRolloverTime              = ConvertTo-WindnsIsoTime $Key.LastRolloverTime
        NextRolloverTime              = ConvertTo-WindnsIsoTime $Key.NextRolloverTime
        CurrentRolloverStatus         = ConvertTo-WindnsText $Key.CurrentRolloverStatus
        ActiveKey                     = ConvertTo-WindnsText $Key.ActiveKey
        StandbyKey                    = ConvertTo-WindnsText $Key.StandbyKey
        NextKey                       = ConvertTo-WindnsText $Key.NextKey
        IsRolloverEnabled             = ConvertTo-WindnsBool (Get-WindnsMember $Key 'IsRolloverEnabled')
    }
}

function ConvertTo-WindnsTrustAnchor($Anchor) {
    # Algorithm and digest live in the embedded record data (DnsKey: CryptoAlgorithm; DS: both).
    $data = Get-WindnsMember $Anchor 'TrustAnchorData'
    return [ordered]@{
        TrustAnchorName  = ConvertTo-WindnsText $Anchor.TrustAnchorName
        TrustAnchorType  = ConvertTo-WindnsText $Anchor.TrustAnchorType
        KeyTag           = ConvertTo-WindnsNumber $Anchor.KeyTag
        TrustAnchorState = ConvertTo-WindnsText $Anchor.TrustAnchorState
        EnteredStateTime = ConvertTo-WindnsIsoTime $Anchor.EnteredStateTime
        NextStateTime    = ConvertTo-WindnsIsoTime $Anchor.NextStateTime
        CryptoAlgorithm  = ConvertTo-WindnsText (Get-WindnsMember $data 'CryptoAlgorithm')
        DigestType       = ConvertTo-WindnsText (Get-WindnsMember $data 'DigestType')
    }
}

function ConvertTo-WindnsTrustPoint($Point) {
    return [ordered]@{
        TrustPointName                     = ConvertTo-WindnsText $Point.TrustPointName
        TrustPointState                    = ConvertTo-WindnsText $Point.TrustPointState
        LastActiveRefreshTime              = ConvertTo-WindnsIsoTime $Point.LastActiveRefreshTime
        NextActiveRefreshTime              = ConvertTo-WindnsIsoTime $Point.NextActiveRefreshTime
        LastSuccessfulActiveRefreshTime    = ConvertTo-WindnsIsoTime $Point.LastSuccessfulActiveRefreshTime
        LastActiveRefreshResult            = ConvertTo-WindnsNumber $Point.LastActiveRefreshResult
        LastActiveRefreshResultDescription = ConvertTo-WindnsText $Point.LastActiveRefreshResultDescription
    }
}

function ConvertTo-WindnsZone($Zone) {
    # A zone as the change scripts print it (the inventory adds DNSSEC settings, keys, errors).
    return [ordered]@{
        ZoneName            = ConvertTo-WindnsText $Zone.ZoneName
        ZoneType            = ConvertTo-WindnsText $Zone.ZoneType
        IsSigned            = ConvertTo-WindnsBool (Get-WindnsMember $Zone 'IsSigned')
        IsDsIntegrated      = ConvertTo-WindnsBool $Zone.IsDsIntegrated
        IsReverseLookupZone = ConvertTo-WindnsBool $Zone.IsReverseLookupZone
        IsAutoCreated       = ConvertTo-WindnsBool $Zone.IsAutoCreated
        ReplicationScope    = ConvertTo-WindnsText (Get-WindnsMember $Zone 'ReplicationScope')
    }
}

# The error record the read scripts (inventory.ps1, zone_dnskeys.ps1) print for a failed cmdlet.
function New-WindnsError([string]$Stage, $Record) {
    # $Record is the ErrorRecord of a catch block. The Win32 code is ErrorData.error_Code on a
    # CimException, else the number in FullyQualifiedErrorId "WIN32 9104,Invoke-DnsServerZoneSign".
    $code = $null
    $message = $null
    $fqid = $null
    if ($null -ne $Record) {
        $fqid = ConvertTo-WindnsText (Get-WindnsMember $Record 'FullyQualifiedErrorId')
        $exception = Get-WindnsMember $Record 'Exception'
        if ($null -ne $exception) {
            $message = ConvertTo-WindnsText $exception.Message
            $raw = Get-WindnsMember (Get-WindnsMember $exception 'ErrorData') 'error_Code'
            if ($null -ne $raw) { $code = [long]$raw }
        }
    }
    if (($null -eq $code) -and ($null -ne $fqid) -and ($fqid -match '^WIN32 (\d+),')) {
        $code = [long]$Matches[1]
    }
    return [ordered]@{
        Stage                 = $Stage
        Code                  = $code
        Message               = $message
        FullyQualifiedErrorId = $fqid
    }
}
