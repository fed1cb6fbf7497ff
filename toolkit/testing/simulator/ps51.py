"""DnsServer cmdlet objects as Windows PowerShell 5.1's ``ConvertTo-Json -Depth 4`` prints them.

``convert_to_json`` is the fake of ``<objects> | ConvertTo-Json -Depth <n>`` that the
``raw_sample.ps1`` mirror (``toolkit/testing/simulator/doctor.py``) calls where the script pipes the
cmdlets' objects into ConvertTo-Json: each zone, signing key and zone setting the cmdlet fakes
(``toolkit.testing.simulator.cmdlets``) returned, printed as the raw CIM object in 5.1's layout. Every
shape here is taken from ``fixtures/raw/``:

- the layout (``to_json``): ``fixtures/raw/ps51-*.json``, which it reprints byte for byte from
  their parsed content (``tests/test_simulator_doctor.py``): four spaces in from the column of
  the opening bracket, ``"name":  value`` with two spaces, CRLF, an empty array as ``[``, an empty
  line and ``]``, JavaScriptSerializer escapes (``\\u0027``, ``\\u0026``, ``\\/Date(ms)\\/``), whole
  doubles without a fraction;
- a signing key and a zone setting (``key_object``, ``setting_object``): the members, their order,
  TimeSpan objects, ``CimClass`` and ``CimInstanceProperties`` of ``ps51-signing-keys.json`` and
  ``ps51-zone-settings.json`` (both printed with ``-Depth 4``), rebuilt from the data members;
- a zone (``zone_object``): the members of ``ps51-zones.json`` for a primary and a secondary zone.
  That file was printed with the default ``-Depth 2``, so its CIM members are their ``ToString()``
  text; this module prints them the same way at ``-Depth 4`` (UNCONFIRMED: at depth 4 Windows
  expands them, as the key file shows for its class; fixtures/README.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.testing.simulator.cmdlets import CimInstance
from toolkit.testing.simulator.powershell import NotSimulated

__all__ = [
    "convert_to_json",
    "key_object",
    "setting_object",
    "timespan_object",
    "to_json",
    "zone_object",
]

# -- the layout -----------------------------------------------------------------------------------
_NEWLINE = "\r\n"
_DATE = re.compile(r"/Date\((-?\d+)\)/")
# JavaScriptSerializer's escapes (what 5.1's ConvertTo-Json calls): the JSON ones, and the
# HTML-sensitive characters as \uXXXX.
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "'": "\\u0027",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
}


def _string(text: str) -> str:
    if _DATE.fullmatch(text):
        return '"' + text.replace("/", "\\/") + '"'
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _write(value: Any, column: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        inner = column + 4
        out.append("{")
        items = list(value.items())
        for i, (key, member) in enumerate(items):
            head = f"{_string(str(key))}:  "
            out.append(_NEWLINE + " " * inner + head)
            _write(member, inner + len(head), out)
            if i < len(items) - 1:
                out.append(",")
        out.append(_NEWLINE + " " * column + "}")
    elif isinstance(value, Sequence):
        inner = column + 4
        out.append("[")
        if not value:
            out.append(_NEWLINE)
        for i, item in enumerate(value):
            out.append(_NEWLINE + " " * inner)
            _write(item, inner, out)
            if i < len(value) - 1:
                out.append(",")
        out.append(_NEWLINE + " " * column + "]")
    else:
        raise TypeError(f"cannot print {type(value).__name__} as 5.1 JSON")


def to_json(value: Any) -> str:
    """``value`` as Windows PowerShell 5.1's ``ConvertTo-Json`` lays it out (no trailing newline)."""
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)


# -- values -----------------------------------------------------------------------------------------
_TICKS_PER_MS = 10_000
_TICKS_PER_SECOND = 10_000_000
_TICKS_PER_MINUTE = 600_000_000
_TICKS_PER_HOUR = 36_000_000_000
_TICKS_PER_DAY = 864_000_000_000


def timespan_object(seconds: float) -> dict[str, Any]:
    """A TimeSpan as 5.1 prints it: its eleven properties (.NET Framework's Total* arithmetic:
    ticks times the reciprocal of the unit)."""
    ticks = round(seconds * _TICKS_PER_SECOND)
    sign = -1 if ticks < 0 else 1
    rest = abs(ticks)
    days, rest = divmod(rest, _TICKS_PER_DAY)
    hours, rest = divmod(rest, _TICKS_PER_HOUR)
    minutes, rest = divmod(rest, _TICKS_PER_MINUTE)
    secs, rest = divmod(rest, _TICKS_PER_SECOND)
    millis = rest // _TICKS_PER_MS
    return {
        "Ticks": ticks,
        "Days": sign * days,
        "Hours": sign * hours,
        "Milliseconds": sign * millis,
        "Minutes": sign * minutes,
        "Seconds": sign * secs,
        "TotalDays": ticks * (1.0 / _TICKS_PER_DAY),
        "TotalHours": ticks * (1.0 / _TICKS_PER_HOUR),
        "TotalMilliseconds": ticks * (1.0 / _TICKS_PER_MS),
        "TotalMinutes": ticks * (1.0 / _TICKS_PER_MINUTE),
        "TotalSeconds": ticks * (1.0 / _TICKS_PER_SECOND),
    }


def _date(value: Any) -> str | None:
    """An ISO 8601 time of the simulator's state as 5.1's ``\\/Date(ms)\\/`` (milliseconds only)."""
    if value is None:
        return None
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    millis = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return f"/Date({millis})/"


def _span(value: Any) -> dict[str, Any] | None:
    return None if value is None else timespan_object(float(value))


# -- CIM members --------------------------------------------------------------------------------------
_NAMESPACE = "root/Microsoft/Windows/DNS"
_READ = "read = True"
_READ_WRITE = "read = True write = True"
_CIM_BOOLEAN, _CIM_UINT8, _CIM_UINT16, _CIM_UINT32 = 1, 2, 4, 6
_CIM_DATETIME, _CIM_STRING, _CIM_STRING_ARRAY = 13, 14, 30
_QUALIFIERS: tuple[dict[str, Any], ...] = (
    {"Name": "dynamic", "Value": True, "CimType": _CIM_BOOLEAN, "Flags": "EnableOverride, ToSubclass"},
    {
        "Name": "provider",
        "Value": "DnsServerPSProvider",
        "CimType": _CIM_STRING,
        "Flags": "EnableOverride, ToSubclass",
    },
    {"Name": "ClassVersion", "Value": "1.0.0", "CimType": _CIM_STRING, "Flags": "EnableOverride, ToSubclass"},
    {"Name": "locale", "Value": 1033, "CimType": _CIM_UINT32, "Flags": "EnableOverride, ToSubclass"},
)

#: (name, CimType, read-only) of each class property, in the class's order (fixtures/raw)
_KEY_CLASS: tuple[tuple[str, int, bool], ...] = (
    ("ZoneName", _CIM_STRING, True),
    ("KeyId", _CIM_STRING, True),
    ("KeyType", _CIM_STRING, False),
    ("CurrentState", _CIM_STRING, True),
    ("KeyStorageProvider", _CIM_STRING, False),
    ("StoreKeysInAD", _CIM_BOOLEAN, False),
    ("CryptoAlgorithm", _CIM_STRING, False),
    ("KeyLength", _CIM_UINT32, False),
    ("DnsKeySignatureValidityPeriod", _CIM_DATETIME, False),
    ("DSSignatureValidityPeriod", _CIM_DATETIME, False),
    ("ZoneSignatureValidityPeriod", _CIM_DATETIME, False),
    ("InitialRolloverOffset", _CIM_DATETIME, False),
    ("RolloverPeriod", _CIM_DATETIME, False),
    ("RolloverType", _CIM_STRING, True),
    ("NextRolloverAction", _CIM_STRING, False),
    ("LastRolloverTime", _CIM_DATETIME, True),
    ("NextRolloverTime", _CIM_DATETIME, True),
    ("CurrentRolloverStatus", _CIM_STRING, True),
    ("ActiveKey", _CIM_STRING, False),
    ("StandbyKey", _CIM_STRING, False),
    ("NextKey", _CIM_STRING, False),
)
_KEY_DESCRIPTION = {
    "Name": "Description",
    "Value": "A zone's DNSSEC signing key descriptor (KSK or ZSK) & its rollover settings",
    "CimType": _CIM_STRING,
    "Flags": "EnableOverride, ToSubclass, Translatable",
}
_SETTING_CLASS: tuple[tuple[str, int, bool], ...] = (
    ("ZoneName", _CIM_STRING, True),
    ("DenialOfExistence", _CIM_STRING, False),
    ("NSec3HashAlgorithm", _CIM_STRING, False),
    ("NSec3Iterations", _CIM_UINT16, False),
    ("NSec3OptOut", _CIM_BOOLEAN, False),
    ("NSec3RandomSaltLength", _CIM_UINT8, False),
    ("NSec3UserSalt", _CIM_STRING, False),
    ("NSec3CurrentSalt", _CIM_STRING, True),
    ("DistributeTrustAnchor", _CIM_STRING_ARRAY, False),
    ("EnableRfc5011KeyRollover", _CIM_BOOLEAN, False),
    ("DSRecordGenerationAlgorithm", _CIM_STRING_ARRAY, False),
    ("DSRecordSetTtl", _CIM_DATETIME, False),
    ("DnsKeyRecordSetTtl", _CIM_DATETIME, False),
    ("SignatureInceptionOffset", _CIM_DATETIME, False),
    ("SecureDelegationPollingPeriod", _CIM_DATETIME, False),
    ("PropagationTime", _CIM_DATETIME, False),
    ("ParentHasSecureDelegation", _CIM_BOOLEAN, False),
    ("IsKeyMasterServer", _CIM_BOOLEAN, True),
    ("KeyMasterServer", _CIM_STRING, False),
    ("KeyMasterStatus", _CIM_STRING, True),
    ("IsSigned", _CIM_BOOLEAN, True),
    ("CurrentRollingSkdGuid", _CIM_STRING, True),
)


def _flags(read_only: bool, *more: str) -> str:
    return ", ".join(("Property", *(("ReadOnly",) if read_only else ()), *more))


def _class_member(name: str, cim_type: int, read_only: bool) -> dict[str, Any]:
    return {
        "Name": name,
        "Value": None,
        "CimType": cim_type,
        "Flags": _flags(read_only, "NullValue"),
        "Qualifiers": _READ if read_only else _READ_WRITE,
        "ReferenceClassName": None,
    }


def _system(short_name: str, class_name: str) -> dict[str, Any]:
    return {"Namespace": _NAMESPACE, "ServerName": short_name, "ClassName": class_name, "Path": None}


def _cim_members(
    values: Mapping[str, Any],
    cls: Sequence[tuple[str, int, bool]],
    class_name: str,
    short_name: str,
    qualifiers: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """``CimClass``, ``CimInstanceProperties`` (sorted by name, as the fixtures show them) and
    ``CimSystemProperties`` of an instance whose class properties hold ``values``."""
    instance = []
    for name, cim_type, read_only in sorted(cls, key=lambda c: c[0].lower()):
        value = values.get(name)
        flags = _flags(read_only, *(("NullValue",) if value is None else ()), "NotModified")
        instance.append(
            {"Name": name, "Value": value, "CimType": cim_type, "Flags": flags, "IsValueModified": False}
        )
    return {
        "CimClass": {
            "CimSuperClassName": None,
            "CimSuperClass": None,
            "CimClassProperties": [_class_member(*c) for c in cls],
            "CimClassQualifiers": [dict(q) for q in qualifiers],
            "CimClassMethods": [],
            "CimSystemProperties": _system(short_name, class_name),
        },
        "CimInstanceProperties": instance,
        "CimSystemProperties": _system(short_name, class_name),
    }


def _sorted_members(values: Mapping[str, Any], first: Sequence[str] = ()) -> dict[str, Any]:
    """The data members as the fixtures print them: ``first`` in that order, then by name."""
    out = {name: values[name] for name in first if name in values}
    for name in sorted((n for n in values if n not in out), key=str.lower):
        out[name] = values[name]
    return out


# -- records ----------------------------------------------------------------------------------------
_KEY_SPANS = (
    "DnsKeySignatureValidityPeriod",
    "DSSignatureValidityPeriod",
    "ZoneSignatureValidityPeriod",
    "InitialRolloverOffset",
    "RolloverPeriod",
)
_KEY_TIMES = ("LastRolloverTime", "NextRolloverTime")


def key_object(key: Mapping[str, Any], short_name: str) -> dict[str, Any]:
    """``Get-DnsServerSigningKey``'s object for one key of the simulator's state."""
    values: dict[str, Any] = {}
    for name, _cim_type, _ro in _KEY_CLASS:
        value = key.get(name)
        if name in _KEY_SPANS:
            value = _span(value)
        elif name in _KEY_TIMES:
            value = _date(value)
        values[name] = value
    data = dict(values)
    if "IsRolloverEnabled" in key:  # not a class property; absent before Windows Server 2016
        data["IsRolloverEnabled"] = key["IsRolloverEnabled"]
    record = _sorted_members(data, ("KeyId", "IsRolloverEnabled"))
    record["PSComputerName"] = short_name
    record.update(
        _cim_members(values, _KEY_CLASS, "DnsServerSigningKey", short_name, (*_QUALIFIERS, _KEY_DESCRIPTION))
    )
    return record


_SETTING_SPANS = (
    "DSRecordSetTtl",
    "DnsKeyRecordSetTtl",
    "SignatureInceptionOffset",
    "SecureDelegationPollingPeriod",
    "PropagationTime",
)


def setting_object(setting: Mapping[str, Any], short_name: str) -> dict[str, Any]:
    """``Get-DnsServerDnsSecZoneSetting``'s object for a zone setting of the simulator's state."""
    values: dict[str, Any] = {}
    for name, _cim_type, _ro in _SETTING_CLASS:
        value = setting.get(name)
        if name in _SETTING_SPANS:
            value = _span(value)
        elif name in ("DistributeTrustAnchor", "DSRecordGenerationAlgorithm") and value is not None:
            value = [str(v) for v in value]
        values[name] = value
    data: dict[str, Any] = dict(values)
    algorithms = values["DSRecordGenerationAlgorithm"]
    if algorithms is not None:
        # Printed wrapped, as in ps51-zone-settings.json (fixtures/raw/README.md).
        data["DSRecordGenerationAlgorithm"] = {"value": list(algorithms), "Count": len(algorithms)}
    # Not a class property; UNCONFIRMED: true when a user salt is configured (fixtures/README.md).
    user_salt = setting.get("NSec3UserSalt")
    data["IsNSec3SaltConfigured"] = user_salt not in (None, "", "-")
    record = _sorted_members(data, ("IsNSec3SaltConfigured", "CurrentRollingSkdGuid"))
    record["PSComputerName"] = short_name
    record.update(_cim_members(values, _SETTING_CLASS, "DnsServerDnsSecZoneSetting", short_name, _QUALIFIERS))
    return record


_PRIMARY_MEMBERS: tuple[str, ...] = (
    "AllowedDcForNsRecordsAutoCreation",
    "DirectoryPartitionName",
    "DistinguishedName",
    "DynamicUpdate",
    "IgnorePolicies",
    "IsAutoCreated",
    "IsDsIntegrated",
    "IsPaused",
    "IsPluginEnabled",
    "IsReadOnly",
    "IsReverseLookupZone",
    "IsShutdown",
    "IsSigned",
    "IsWinsEnabled",
    "Notify",
    "NotifyServers",
    "ReplicationScope",
    "SecondaryServers",
    "SecureSecondaries",
    "ZoneFile",
    "ZoneName",
    "ZoneType",
)
_SECONDARY_MEMBERS: tuple[str, ...] = (
    "DistinguishedName",
    "IgnorePolicies",
    "IsAutoCreated",
    "IsDsIntegrated",
    "IsPaused",
    "IsReadOnly",
    "IsReverseLookupZone",
    "IsShutdown",
    "IsWinsEnabled",
    "LastSuccessfulSoaCheck",
    "LastSuccessfulZoneTransfer",
    "LastZoneTransferAttempt",
    "LastZoneTransferResult",
    "MasterServers",
    "ZoneFile",
    "ZoneName",
    "ZoneType",
)
_PARTITIONS = {"domain": "DomainDnsZones", "forest": "ForestDnsZones"}
_ZONE_QUALIFIERS = 'dynamic = True provider = "DnsServerPSProvider" ClassVersion = "1.0.0" locale = 1033'


def _dn(name: str) -> str:
    return ",".join(f"DC={label}" for label in name.split(".") if label)


def zone_object(zone: Mapping[str, Any], computer_name: str) -> dict[str, Any]:
    """``Get-DnsServerZone``'s object for one zone of the simulator's state, on the server whose
    full name is ``computer_name`` (its domain names the directory partitions)."""
    short_name, _, domain = computer_name.partition(".")
    short_name = short_name.upper()
    name = str(zone.get("ZoneName"))
    zone_type = str(zone.get("ZoneType") or "Primary")
    ds = bool(zone.get("IsDsIntegrated"))
    auto = bool(zone.get("IsAutoCreated"))
    partition = _PARTITIONS.get(str(zone.get("ReplicationScope") or "").lower()) if ds else None
    common: dict[str, Any] = {
        "DistinguishedName": (
            f"DC={name},cn=MicrosoftDNS,DC={partition},{_dn(domain)}" if partition and domain else None
        ),
        "IgnorePolicies": False,
        "IsAutoCreated": auto,
        "IsDsIntegrated": ds,
        "IsPaused": False,
        "IsReadOnly": False,
        "IsReverseLookupZone": bool(zone.get("IsReverseLookupZone")),
        "IsShutdown": False,
        "IsWinsEnabled": False,
        "ZoneFile": None if ds or auto else f"{name}.dns",
        "ZoneName": name,
        "ZoneType": zone_type,
    }
    if zone_type.lower() == "secondary":
        members = _SECONDARY_MEMBERS
        values = {
            **common,
            "LastSuccessfulSoaCheck": _date(zone.get("LastSuccessfulSoaCheck")),
            "LastSuccessfulZoneTransfer": _date(zone.get("LastSuccessfulZoneTransfer")),
            "LastZoneTransferAttempt": _date(zone.get("LastZoneTransferAttempt")),
            "LastZoneTransferResult": zone.get("LastZoneTransferResult"),
            "MasterServers": list(zone["MasterServers"]) if zone.get("MasterServers") else None,
        }
        class_name = "DnsServerSecondaryZone"
    else:
        members = _PRIMARY_MEMBERS
        values = {
            **common,
            "AllowedDcForNsRecordsAutoCreation": None,
            "DirectoryPartitionName": f"{partition}.{domain}" if partition and domain else None,
            "DynamicUpdate": "Secure" if ds else "None",
            "IsPluginEnabled": False,
            "IsSigned": bool(zone.get("IsSigned")),
            "Notify": "NoNotify" if ds else "NotifyServers",
            "NotifyServers": None,
            "ReplicationScope": str(zone.get("ReplicationScope") or "None"),
            "SecondaryServers": None,
            "SecureSecondaries": "NoTransfer" if ds else "TransferToSecureServers",
        }
        class_name = f"DnsServer{zone_type}Zone"
    record = {m: values[m] for m in members}
    names = " ".join(members)
    record["PSComputerName"] = short_name
    # -Depth 2 text of the CIM members, as ps51-zones.json holds them (module docstring).
    record["CimClass"] = {
        "CimSuperClassName": "DnsServerZone",
        "CimSuperClass": "ROOT/Microsoft/Windows/DNS:DnsServerZone",
        "CimClassProperties": names,
        "CimClassQualifiers": _ZONE_QUALIFIERS,
        "CimClassMethods": "",
        "CimSystemProperties": "Microsoft.Management.Infrastructure.CimSystemProperties",
    }
    record["CimInstanceProperties"] = names
    record["CimSystemProperties"] = _system(short_name, class_name)
    return record


# -- the fake of ConvertTo-Json -----------------------------------------------------------------------
#: The one depth the captured-style files show the CIM members at (fixtures/raw/README.md).
DEPTH = 4


def _state_form(instance: Mapping[str, Any]) -> dict[str, Any]:
    """A CIM instance's properties as the builders above take them: TimeSpans in seconds, DateTimes
    as ISO 8601 text."""
    out: dict[str, Any] = {}
    for name, value in instance.items():
        if isinstance(value, timedelta):
            value = value.total_seconds()
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[name] = value
    return out


def _printed(obj: Any) -> dict[str, Any]:
    """What ConvertTo-Json serialises of one object the cmdlet fakes wrote: its members, its CIM
    members and PSComputerName (the server's short name in capitals: UNCONFIRMED)."""
    if not isinstance(obj, CimInstance):
        raise NotSimulated(
            f"the simulated ConvertTo-Json prints DnsServer CIM objects only (given {type(obj).__name__})",
            cmdlet="ConvertTo-Json",
        )
    short_name = obj.computer_name.split(".")[0].upper()
    if obj.class_name == "DnsServerSigningKey":
        return key_object(_state_form(obj), short_name)
    if obj.class_name == "DnsServerDnsSecZoneSetting":
        return setting_object(_state_form(obj), short_name)
    if obj.class_name.startswith("DnsServer") and obj.class_name.endswith("Zone"):
        return zone_object(_state_form(obj), obj.computer_name)
    raise NotSimulated(
        f"the simulated ConvertTo-Json has no 5.1 layout for {obj.class_name}", cmdlet="ConvertTo-Json"
    )


def convert_to_json(input_objects: Sequence[Any], depth: int) -> list[str]:
    """``<objects> | ConvertTo-Json -Depth <depth>`` in Windows PowerShell 5.1: what it writes to the
    pipeline. Piped input is collected; one object prints as that object, more as an array
    (ConvertToJsonCommand.AsArray, PowerShell SDK: "the array symbols will occur only if there is
    more than one input object"; RAW ps51-single-key.json), and no input prints nothing (PowerShell/
    PowerShell#23837). Only ``-Depth 4`` is simulated: another depth raises ``NotSimulated``."""
    if depth != DEPTH:
        raise NotSimulated(
            f"the simulated server prints raw samples at -Depth {DEPTH} only (asked for {depth})",
            cmdlet="ConvertTo-Json",
        )
    if not input_objects:
        return []
    printed = [_printed(o) for o in input_objects]
    return [to_json(printed[0] if len(printed) == 1 else printed)]
