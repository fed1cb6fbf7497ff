"""Deserialised CIM objects (what a PSRP pipeline of DnsServer cmdlets returns) -> our inventory.

On a JEA endpoint the toolkit cannot run ``inventory.ps1``: it runs the DnsServer cmdlets as
commands (``toolkit.services.jea``) and gets back the objects themselves, deserialised from
CLIXML by pypsrp: CIM instances whose type names are
``[Deserialized.]Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DNS/
DnsServerSigningKey`` and kin, properties in ``adapted_properties``/``extended_properties``,
DateTimes as CLIXML ``DT`` text and TimeSpans as ``TS`` text (xs:duration, ``P7DT1H``).

This module projects them exactly as ``ps_scripts/_projection.ps1`` does on the server
(``ConvertTo-WindnsKey`` and the others: enums as text, times as ISO 8601 UTC, TimeSpans as
seconds, optional members through a presence check) and ``InventoryBuilder`` assembles the same
``windns.inventory`` document (schema 2) ``inventory.ps1`` prints, self-check counts included, so
the one normaliser (``normalise_inventory``) and its self-check read both paths alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "KEY_COLUMNS",
    "InventoryBuilder",
    "cim_class",
    "iso_time",
    "key_row",
    "properties",
    "seconds",
    "trust_anchor",
    "trust_point",
    "zone_setting",
]

#: the key table's columns, in ConvertTo-WindnsKey's order (inventory.ps1 $WindnsKeyColumns)
KEY_COLUMNS = (
    "ZoneName", "KeyId", "KeyType", "CurrentState", "KeyStorageProvider", "StoreKeysInAD",
    "CryptoAlgorithm", "KeyLength", "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod",
    "ZoneSignatureValidityPeriod", "InitialRolloverOffset", "RolloverPeriod", "RolloverType",
    "NextRolloverAction", "LastRolloverTime", "NextRolloverTime", "CurrentRolloverStatus",
    "ActiveKey", "StandbyKey", "NextKey", "IsRolloverEnabled",
)  # fmt: skip

_CIM = re.compile(r"^(?:Deserialized\.)?Microsoft\.Management\.Infrastructure\.CimInstance#(?:.*/)?(\w+)$")
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_MIN_YEAR = 1


# -- one object ---------------------------------------------------------------------------------
def cim_class(obj: Any) -> str | None:
    """``DnsServerSigningKey`` for a (deserialised) CIM instance of that class, else None."""
    for name in getattr(obj, "types", None) or ():
        m = _CIM.match(str(name))
        if m is not None:
            return m.group(1)
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "adapted_properties") or hasattr(value, "extended_properties"):
        return properties(value)
    return value


def properties(obj: Any) -> dict[str, Any]:
    """The properties of a deserialised object (adapted and extended merged), nested objects as
    dicts; a plain mapping is taken as it is."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    out: dict[str, Any] = {}
    for attr in ("adapted_properties", "extended_properties"):
        value = getattr(obj, attr, None)
        if isinstance(value, Mapping):
            for k, v in value.items():
                out[str(k)] = _plain(v)
    return out


def _member(props: Mapping[str, Any] | None, name: str) -> Any:
    """``$obj.Name`` / ``Get-WindnsMember``: member names ignore case in PowerShell."""
    if not props:
        return None
    if name in props:
        return props[name]
    low = name.lower()
    return next((v for k, v in props.items() if k.lower() == low), None)


def _has(props: Mapping[str, Any], name: str) -> bool:
    low = name.lower()
    return any(k.lower() == low for k in props)


def text(value: Any) -> str | None:
    """ConvertTo-WindnsText."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    out = str(value)
    return out or None


def _number(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return int(float(str(value).strip()))


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0")
    return bool(value)


def seconds(value: Any) -> float | None:
    """ConvertTo-WindnsSeconds: a TimeSpan (CLIXML xs:duration text, a timedelta) in seconds."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value).strip())
    if m is None:
        raise ValueError(f"not a TimeSpan: {value!r}")
    sign, days, hours, minutes, secs = m.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    return -total if sign else float(total)


def iso_time(value: Any) -> str | None:
    """ConvertTo-WindnsIsoTime: a DateTime (CLIXML DT text, a datetime) as ISO 8601 UTC, the
    .NET 'o' format; DateTime.MinValue as null."""
    if value is None:
        return None
    if isinstance(value, datetime):
        d = value
    else:
        d = datetime.fromisoformat(_FRACTION.sub(r"\1", str(value).strip().replace("Z", "+00:00")))
    if d.year == _MIN_YEAR and d.month == 1 and d.day == 1 and d.hour == 0 and d.minute == 0:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _text_items(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v is not None]


# -- the projections of _projection.ps1 ----------------------------------------------------------
def zone_setting(obj: Any) -> dict[str, Any]:
    """ConvertTo-WindnsZoneSetting."""
    p = properties(obj)
    return {
        "ZoneName": text(_member(p, "ZoneName")),
        "DenialOfExistence": text(_member(p, "DenialOfExistence")),
        "NSec3HashAlgorithm": text(_member(p, "NSec3HashAlgorithm")),
        "NSec3Iterations": _number(_member(p, "NSec3Iterations")),
        "NSec3OptOut": _bool(_member(p, "NSec3OptOut")),
        "NSec3RandomSaltLength": _number(_member(p, "NSec3RandomSaltLength")),
        "NSec3UserSalt": text(_member(p, "NSec3UserSalt")),
        "NSec3CurrentSalt": text(_member(p, "NSec3CurrentSalt")),
        "DistributeTrustAnchor": _text_items(_member(p, "DistributeTrustAnchor")),
        "EnableRfc5011KeyRollover": _bool(_member(p, "EnableRfc5011KeyRollover")),
        "DSRecordGenerationAlgorithm": _text_items(_member(p, "DSRecordGenerationAlgorithm")),
        "DSRecordSetTtl": seconds(_member(p, "DSRecordSetTtl")),
        "DnsKeyRecordSetTtl": seconds(_member(p, "DnsKeyRecordSetTtl")),
        "SignatureInceptionOffset": seconds(_member(p, "SignatureInceptionOffset")),
        "SecureDelegationPollingPeriod": seconds(_member(p, "SecureDelegationPollingPeriod")),
        "PropagationTime": seconds(_member(p, "PropagationTime")),
        "ParentHasSecureDelegation": _bool(_member(p, "ParentHasSecureDelegation")),
        "IsKeyMasterServer": _bool(_member(p, "IsKeyMasterServer")),
        "KeyMasterServer": text(_member(p, "KeyMasterServer")),
        "KeyMasterStatus": text(_member(p, "KeyMasterStatus")),
        "IsSigned": _bool(_member(p, "IsSigned")),
    }


def key_row(obj: Any) -> dict[str, Any]:
    """ConvertTo-WindnsKey."""
    p = properties(obj)
    key_id = text(_member(p, "KeyId"))
    if key_id is not None:
        key_id = key_id.strip("{}").lower()
    return {
        "ZoneName": text(_member(p, "ZoneName")),
        "KeyId": key_id,
        "KeyType": text(_member(p, "KeyType")),
        "CurrentState": text(_member(p, "CurrentState")),
        "KeyStorageProvider": text(_member(p, "KeyStorageProvider")),
        "StoreKeysInAD": _bool(_member(p, "StoreKeysInAD")),
        "CryptoAlgorithm": text(_member(p, "CryptoAlgorithm")),
        "KeyLength": _number(_member(p, "KeyLength")),
        "DnsKeySignatureValidityPeriod": seconds(_member(p, "DnsKeySignatureValidityPeriod")),
        "DSSignatureValidityPeriod": seconds(_member(p, "DSSignatureValidityPeriod")),
        "ZoneSignatureValidityPeriod": seconds(_member(p, "ZoneSignatureValidityPeriod")),
        "InitialRolloverOffset": seconds(_member(p, "InitialRolloverOffset")),
        "RolloverPeriod": seconds(_member(p, "RolloverPeriod")),
        "RolloverType": text(_member(p, "RolloverType")),
        "NextRolloverAction": text(_member(p, "NextRolloverAction")),
        "LastRolloverTime": iso_time(_member(p, "LastRolloverTime")),
        "NextRolloverTime": iso_time(_member(p, "NextRolloverTime")),
        "CurrentRolloverStatus": text(_member(p, "CurrentRolloverStatus")),
        "ActiveKey": text(_member(p, "ActiveKey")),
        "StandbyKey": text(_member(p, "StandbyKey")),
        "NextKey": text(_member(p, "NextKey")),
        "IsRolloverEnabled": _bool(_member(p, "IsRolloverEnabled")),
    }


def trust_anchor(obj: Any) -> dict[str, Any]:
    """ConvertTo-WindnsTrustAnchor (algorithm and digest from the embedded TrustAnchorData)."""
    p = properties(obj)
    data = _member(p, "TrustAnchorData")
    data = data if isinstance(data, Mapping) else None
    return {
        "TrustAnchorName": text(_member(p, "TrustAnchorName")),
        "TrustAnchorType": text(_member(p, "TrustAnchorType")),
        "KeyTag": _number(_member(p, "KeyTag")),
        "TrustAnchorState": text(_member(p, "TrustAnchorState")),
        "EnteredStateTime": iso_time(_member(p, "EnteredStateTime")),
        "NextStateTime": iso_time(_member(p, "NextStateTime")),
        "CryptoAlgorithm": text(_member(data, "CryptoAlgorithm")),
        "DigestType": text(_member(data, "DigestType")),
    }


def trust_point(obj: Any) -> dict[str, Any]:
    """ConvertTo-WindnsTrustPoint."""
    p = properties(obj)
    return {
        "TrustPointName": text(_member(p, "TrustPointName")),
        "TrustPointState": text(_member(p, "TrustPointState")),
        "LastActiveRefreshTime": iso_time(_member(p, "LastActiveRefreshTime")),
        "NextActiveRefreshTime": iso_time(_member(p, "NextActiveRefreshTime")),
        "LastSuccessfulActiveRefreshTime": iso_time(_member(p, "LastSuccessfulActiveRefreshTime")),
        "LastActiveRefreshResult": _number(_member(p, "LastActiveRefreshResult")),
        "LastActiveRefreshResultDescription": text(_member(p, "LastActiveRefreshResultDescription")),
    }


def _eq(value: Any, other: str) -> bool:
    """PowerShell's ``-eq`` on text: ignoring case; $null equals nothing."""
    return value is not None and str(value).lower() == other.lower()


# -- the document -------------------------------------------------------------------------------
class InventoryBuilder:
    """Assembles the ``windns.inventory`` document from what the cmdlets returned, in the order
    and with the rules of ``inventory.ps1`` (docs/inventory-schema.md)."""

    def __init__(self, *, asked: Sequence[str] | None) -> None:
        self.asked = [n for n in asked if n.strip()] if asked is not None else None
        self.server: dict[str, Any] = {}
        self.zones: list[dict[str, Any]] = []
        self.keys: dict[str, list[Any]] = {c: [] for c in KEY_COLUMNS}
        self.anchors: list[dict[str, Any]] = []
        self.points: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.zones_listed: int | None = None
        self.primary_listed: int | None = None

    @staticmethod
    def error(stage: str, code: int | None, message: str | None, fqid: str | None) -> dict[str, Any]:
        """New-WindnsError: {Stage, Code, Message, FullyQualifiedErrorId}."""
        if code is None and fqid is not None:
            m = re.match(r"^WIN32 (\d+),", fqid, re.IGNORECASE)
            if m:
                code = int(m.group(1))
        return {"Stage": stage, "Code": code, "Message": message, "FullyQualifiedErrorId": fqid}

    def set_server(self, setting: Any, os_version: str | None, fallback_name: str | None) -> None:
        p = properties(setting)
        name = text(_member(p, "ComputerName")) or fallback_name
        major = _member(p, "MajorVersion")
        version = None
        if major is not None:
            version = f"{major}.{_member(p, 'MinorVersion')}.{_member(p, 'BuildNumber')}"
        self.server = {
            "ComputerName": name,
            "OsVersion": os_version,
            "DnsVersion": version,
            "Settings": {
                "EnableDnsSec": _bool(_member(p, "EnableDnsSec")),
                "EnableOnlineSigning": _bool(_member(p, "EnableOnlineSigning")),
                "MaximumSignatureScanPeriod": seconds(_member(p, "MaximumSignatureScanPeriod")),
                "MaximumTrustAnchorActiveRefreshInterval": seconds(
                    _member(p, "MaximumTrustAnchorActiveRefreshInterval")
                ),
                "RootTrustAnchorsURL": text(_member(p, "RootTrustAnchorsURL")),
            },
        }

    @staticmethod
    def os_version(obj: Any) -> str:
        p = properties(obj)
        caption = str(_member(p, "Caption") or "").strip()
        return f"{caption} {_member(p, 'Version') or ''}".strip()

    def set_listing(self, listing: Sequence[Any]) -> None:
        """The second Get-DnsServerZone listing, counted apart from the zones read (self-check)."""
        self.zones_listed = len(listing)
        self.primary_listed = sum(1 for z in listing if _eq(_member(properties(z), "ZoneType"), "Primary"))

    @staticmethod
    def zone_entry(zone: Any) -> dict[str, Any]:
        """The zone part of Get-WindnsZoneEntry (before keys and settings are read)."""
        p = properties(zone)
        entry: dict[str, Any] = {
            "ZoneName": text(_member(p, "ZoneName")),
            "ZoneType": text(_member(p, "ZoneType")),
            "IsDsIntegrated": _bool(_member(p, "IsDsIntegrated")),
            "IsReverseLookupZone": _bool(_member(p, "IsReverseLookupZone")),
            "IsAutoCreated": _bool(_member(p, "IsAutoCreated")),
        }
        if _has(p, "IsSigned"):
            entry["IsSigned"] = bool(_member(p, "IsSigned"))
        if _has(p, "ReplicationScope"):
            entry["ReplicationScope"] = text(_member(p, "ReplicationScope"))
        entry["DnsSecSetting"] = None
        return entry

    @staticmethod
    def dnssec_relevant(entry: Mapping[str, Any]) -> bool:
        return (
            _eq(entry.get("ZoneType"), "Primary")
            and not entry.get("IsAutoCreated")
            and not _eq(entry.get("ZoneName"), "TrustAnchors")
        )

    def add_zone(
        self,
        entry: dict[str, Any],
        *,
        keys: Sequence[Any] | None = None,
        setting: Any = None,
        errors: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Add a zone entry with its keys (None: not read) and settings (None: not read)."""
        rows = [key_row(k) for k in keys if k is not None] if keys is not None else []
        if keys is not None:
            entry["KeysListed"] = len(keys)
            # inventory.ps1 puts KeysListed after DnsSecSetting; keep that order
        if setting is not None:
            entry["DnsSecSetting"] = zone_setting(setting)
        for row in rows:
            row["ZoneName"] = entry["ZoneName"]
            for column in KEY_COLUMNS:
                self.keys[column].append(row[column])
        entry["Errors"] = list(errors)
        self.zones.append(entry)

    def missing_zone(self, name: str, failure: dict[str, Any]) -> None:
        self.zones.append({"ZoneName": name, "ZoneType": None, "DnsSecSetting": None, "Errors": [failure]})

    def document(self, collected_at: datetime | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"AllZones": True, "ZoneName": []}
        if self.asked is not None:
            request = {"AllZones": False, "ZoneName": list(self.asked)}
        check = {
            "ZonesListed": self.zones_listed if self.asked is None else None,
            "PrimaryZonesListed": self.primary_listed if self.asked is None else None,
            "ZonesEmitted": len(self.zones),
            "KeyRowsEmitted": len(self.keys["KeyId"]),
        }
        return {
            "Schema": "windns.inventory",
            "SchemaVersion": 2,
            "CollectedAt": (collected_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
            "Server": self.server,
            "Request": request,
            "Check": check,
            "Zones": self.zones,
            "Keys": self.keys,
            "TrustAnchors": self.anchors,
            "TrustPoints": self.points,
            "Errors": self.errors,
        }
