"""Python twins of ``ps_scripts/_projection.ps1``, function by function, in its order.

Each twin is a transliteration: the same members read the same way (``$Obj.Name`` is ``prop``,
``Get-WindnsMember`` is ``get_member``), the same casts (``ps_string``, ``ps_long``, ``ps_bool``),
the same order of keys in the ``[ordered]@{}`` it returns. The objects are what the cmdlet fakes
(``toolkit.testing.simulator.cmdlets``) return: dicts of CIM properties, TimeSpans as ``timedelta``,
DateTimes as ``datetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.testing.simulator.powershell import (
    has_member,
    iso,
    member,
    prop,
    ps_array,
    ps_bool,
    ps_long,
    ps_string,
)

__all__ = [
    "convert_bool",
    "convert_iso_time",
    "convert_key",
    "convert_number",
    "convert_seconds",
    "convert_text",
    "convert_text_items",
    "convert_trust_anchor",
    "convert_trust_point",
    "convert_zone",
    "convert_zone_setting",
    "get_member",
    "test_member",
]

_MIN_DATE = datetime.min.replace(tzinfo=UTC)


# _projection.ps1 L10-L16 Get-WindnsMember
def get_member(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if not has_member(obj, name):  # $property = $Object.PSObject.Properties[$Name]; if ($null -eq ...)
        return None
    return member(obj, name)


# L18-L21 Test-WindnsMember
def test_member(obj: Any, name: str) -> bool:
    if obj is None:
        return False
    return has_member(obj, name)


# L23-L28 ConvertTo-WindnsText
def convert_text(value: Any) -> str | None:
    if value is None:
        return None
    text = ps_string(value)
    if len(text) == 0:
        return None
    return text


# L30-L36 ConvertTo-WindnsTextItems: streams one string per element of @($Values); the caller's
# @(...) makes the stream an array (here: the list this returns).
def convert_text_items(values: Any) -> list[str]:
    out: list[str] = []
    for value in ps_array(values):  # foreach ($value in @($Values))
        if value is not None:
            out.append(ps_string(value))
    return out


# L38-L41 ConvertTo-WindnsNumber
def convert_number(value: Any) -> int | None:
    if value is None:
        return None
    return ps_long(value)


# L43-L46 ConvertTo-WindnsBool
def convert_bool(value: Any) -> bool | None:
    if value is None:
        return None
    return ps_bool(value)


# L48-L51 ConvertTo-WindnsSeconds: [double]$Span.TotalSeconds
def convert_seconds(span: Any) -> float | None:
    if span is None:
        return None
    if isinstance(span, timedelta):
        return span.total_seconds()
    total = prop(span, "TotalSeconds")  # not a TimeSpan: the member is $null, [double]$null is 0
    return float(total) if total is not None else 0.0


# L53-L58 ConvertTo-WindnsIsoTime
def convert_iso_time(date: Any) -> str | None:
    if date is None:
        return None
    d = date if isinstance(date, datetime) else datetime.fromisoformat(str(date).replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)  # UNCONFIRMED: the Kind of a CIM timestamp (reference section 6)
    if d == _MIN_DATE:  # if ($d -eq [datetime]::MinValue) { return $null }
        return None
    return iso(d)  # $d.ToUniversalTime().ToString('o')


# L60-L84 ConvertTo-WindnsZoneSetting
def convert_zone_setting(setting: Any) -> dict[str, Any]:
    s = setting
    return {
        "ZoneName": convert_text(prop(s, "ZoneName")),
        "DenialOfExistence": convert_text(prop(s, "DenialOfExistence")),
        "NSec3HashAlgorithm": convert_text(prop(s, "NSec3HashAlgorithm")),
        "NSec3Iterations": convert_number(prop(s, "NSec3Iterations")),
        "NSec3OptOut": convert_bool(prop(s, "NSec3OptOut")),
        "NSec3RandomSaltLength": convert_number(prop(s, "NSec3RandomSaltLength")),
        "NSec3UserSalt": convert_text(prop(s, "NSec3UserSalt")),
        "NSec3CurrentSalt": convert_text(get_member(s, "NSec3CurrentSalt")),
        "DistributeTrustAnchor": convert_text_items(prop(s, "DistributeTrustAnchor")),
        "EnableRfc5011KeyRollover": convert_bool(prop(s, "EnableRfc5011KeyRollover")),
        "DSRecordGenerationAlgorithm": convert_text_items(prop(s, "DSRecordGenerationAlgorithm")),
        "DSRecordSetTtl": convert_seconds(prop(s, "DSRecordSetTtl")),
        "DnsKeyRecordSetTtl": convert_seconds(prop(s, "DnsKeyRecordSetTtl")),
        "SignatureInceptionOffset": convert_seconds(prop(s, "SignatureInceptionOffset")),
        "SecureDelegationPollingPeriod": convert_seconds(prop(s, "SecureDelegationPollingPeriod")),
        "PropagationTime": convert_seconds(prop(s, "PropagationTime")),
        "ParentHasSecureDelegation": convert_bool(prop(s, "ParentHasSecureDelegation")),
        "IsKeyMasterServer": convert_bool(prop(s, "IsKeyMasterServer")),
        "KeyMasterServer": convert_text(prop(s, "KeyMasterServer")),
        "KeyMasterStatus": convert_text(prop(s, "KeyMasterStatus")),
        "IsSigned": convert_bool(get_member(s, "IsSigned")),
    }


# L86-L113 ConvertTo-WindnsKey
def convert_key(key: Any) -> dict[str, Any]:
    k = key
    key_id = convert_text(prop(k, "KeyId"))
    if key_id is not None:
        key_id = key_id.strip("{}").lower()  # $keyId.Trim('{}').ToLowerInvariant()
    return {
        "ZoneName": convert_text(prop(k, "ZoneName")),
        "KeyId": key_id,
        "KeyType": convert_text(prop(k, "KeyType")),
        "CurrentState": convert_text(prop(k, "CurrentState")),
        "KeyStorageProvider": convert_text(prop(k, "KeyStorageProvider")),
        "StoreKeysInAD": convert_bool(prop(k, "StoreKeysInAD")),
        "CryptoAlgorithm": convert_text(prop(k, "CryptoAlgorithm")),
        "KeyLength": convert_number(prop(k, "KeyLength")),
        "DnsKeySignatureValidityPeriod": convert_seconds(prop(k, "DnsKeySignatureValidityPeriod")),
        "DSSignatureValidityPeriod": convert_seconds(prop(k, "DSSignatureValidityPeriod")),
        "ZoneSignatureValidityPeriod": convert_seconds(prop(k, "ZoneSignatureValidityPeriod")),
        "InitialRolloverOffset": convert_seconds(prop(k, "InitialRolloverOffset")),
        "RolloverPeriod": convert_seconds(prop(k, "RolloverPeriod")),
        "RolloverType": convert_text(prop(k, "RolloverType")),
        "NextRolloverAction": convert_text(prop(k, "NextRolloverAction")),
        "LastRolloverTime": convert_iso_time(prop(k, "LastRolloverTime")),
        "NextRolloverTime": convert_iso_time(prop(k, "NextRolloverTime")),
        "CurrentRolloverStatus": convert_text(prop(k, "CurrentRolloverStatus")),
        "ActiveKey": convert_text(prop(k, "ActiveKey")),
        "StandbyKey": convert_text(prop(k, "StandbyKey")),
        "NextKey": convert_text(prop(k, "NextKey")),
        "IsRolloverEnabled": convert_bool(get_member(k, "IsRolloverEnabled")),
    }


# L115-L128 ConvertTo-WindnsTrustAnchor
def convert_trust_anchor(anchor: Any) -> dict[str, Any]:
    data = get_member(anchor, "TrustAnchorData")
    return {
        "TrustAnchorName": convert_text(prop(anchor, "TrustAnchorName")),
        "TrustAnchorType": convert_text(prop(anchor, "TrustAnchorType")),
        "KeyTag": convert_number(prop(anchor, "KeyTag")),
        "TrustAnchorState": convert_text(prop(anchor, "TrustAnchorState")),
        "EnteredStateTime": convert_iso_time(prop(anchor, "EnteredStateTime")),
        "NextStateTime": convert_iso_time(prop(anchor, "NextStateTime")),
        "CryptoAlgorithm": convert_text(get_member(data, "CryptoAlgorithm")),
        "DigestType": convert_text(get_member(data, "DigestType")),
    }


# L130-L140 ConvertTo-WindnsTrustPoint
def convert_trust_point(point: Any) -> dict[str, Any]:
    p = point
    return {
        "TrustPointName": convert_text(prop(p, "TrustPointName")),
        "TrustPointState": convert_text(prop(p, "TrustPointState")),
        "LastActiveRefreshTime": convert_iso_time(prop(p, "LastActiveRefreshTime")),
        "NextActiveRefreshTime": convert_iso_time(prop(p, "NextActiveRefreshTime")),
        "LastSuccessfulActiveRefreshTime": convert_iso_time(prop(p, "LastSuccessfulActiveRefreshTime")),
        "LastActiveRefreshResult": convert_number(prop(p, "LastActiveRefreshResult")),
        "LastActiveRefreshResultDescription": convert_text(prop(p, "LastActiveRefreshResultDescription")),
    }


# L142-L153 ConvertTo-WindnsZone
def convert_zone(zone: Any) -> dict[str, Any]:
    return {
        "ZoneName": convert_text(prop(zone, "ZoneName")),
        "ZoneType": convert_text(prop(zone, "ZoneType")),
        "IsSigned": convert_bool(get_member(zone, "IsSigned")),
        "IsDsIntegrated": convert_bool(prop(zone, "IsDsIntegrated")),
        "IsReverseLookupZone": convert_bool(prop(zone, "IsReverseLookupZone")),
        "IsAutoCreated": convert_bool(prop(zone, "IsAutoCreated")),
        "ReplicationScope": convert_text(get_member(zone, "ReplicationScope")),
    }
