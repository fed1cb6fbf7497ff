"""The read scripts' mirrors: ``ps_scripts/inventory.ps1`` and ``zone_dnskeys.ps1`` transliterated
line by line.

Every block below names the script lines it mirrors (``# inventory.ps1 L143``, lines of the
file in ps_scripts/, before its ``# windns:include`` line is expanded) and calls the cmdlet fakes
(``toolkit.testing.simulator.cmdlets``) where the script calls the cmdlet, the projection twins
(``toolkit.testing.simulator.projection``) where it calls ``_projection.ps1``, and the PowerShell
semantics helpers (``toolkit.testing.simulator.powershell``) where PowerShell differs from Python.
Nothing here knows what the document is meant to hold: it holds what the script would print.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from toolkit.errors import CmdletError
from toolkit.testing.simulator import projection as pj
from toolkit.testing.simulator.cmdlets import Cmdlets
from toolkit.testing.simulator.mirror import mirrors
from toolkit.testing.simulator.powershell import (
    Param,
    bind,
    error_record,
    is_null_or_whitespace,
    iso,
    prop,
    ps_array,
    ps_bool,
    ps_foreach,
    ps_string,
    select_first,
)

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["HANDLERS", "inventory", "new_windns_error", "zone_branch", "zone_dnskeys"]

_FQID_CODE = re.compile(
    r"^WIN32 (\d+),", re.IGNORECASE
)  # -match is case-insensitive (about_Comparison_Operators)


# _projection.ps1 L156-L180 New-WindnsError (only the read scripts call it)
def new_windns_error(stage: str, record: Any) -> dict[str, Any]:
    code: int | None = None
    message: str | None = None
    fqid: str | None = None
    if record is not None:
        fqid = pj.convert_text(pj.get_member(record, "FullyQualifiedErrorId"))
        exception = pj.get_member(record, "Exception")
        if exception is not None:
            message = pj.convert_text(prop(exception, "Message"))
            raw = pj.get_member(pj.get_member(exception, "ErrorData"), "error_Code")
            if raw is not None:
                code = int(raw)
    if code is None and fqid is not None:
        m = _FQID_CODE.match(fqid)  # ($fqid -match '^WIN32 (\d+),') ... [long]$Matches[1]
        if m:
            code = int(m.group(1))
    return {"Stage": stage, "Code": code, "Message": message, "FullyQualifiedErrorId": fqid}


# L34-L40 $WindnsKeyColumns
KEY_COLUMNS = (
    "ZoneName", "KeyId", "KeyType", "CurrentState", "KeyStorageProvider", "StoreKeysInAD",
    "CryptoAlgorithm", "KeyLength", "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod",
    "ZoneSignatureValidityPeriod", "InitialRolloverOffset", "RolloverPeriod", "RolloverType",
    "NextRolloverAction", "LastRolloverTime", "NextRolloverTime", "CurrentRolloverStatus",
    "ActiveKey", "StandbyKey", "NextKey", "IsRolloverEnabled",
)  # fmt: skip


def _eq(a: Any, b: str) -> bool:
    """``$a -eq 'text'``: string equality ignoring case; ``$null -eq 'x'`` is false
    (about_Comparison_Operators)."""
    return a is not None and ps_string(a).lower() == b.lower()


# L42-L99 Get-WindnsZoneEntry
def _zone_entry(ps: Cmdlets, zone: Any, key_table: dict[str, list[Any]]) -> dict[str, Any]:
    # L44-L50
    entry: dict[str, Any] = {
        "ZoneName": pj.convert_text(prop(zone, "ZoneName")),
        "ZoneType": pj.convert_text(prop(zone, "ZoneType")),
        "IsDsIntegrated": pj.convert_bool(prop(zone, "IsDsIntegrated")),
        "IsReverseLookupZone": pj.convert_bool(prop(zone, "IsReverseLookupZone")),
        "IsAutoCreated": pj.convert_bool(prop(zone, "IsAutoCreated")),
    }
    # L51-L59 "Only primary zones have IsSigned/ReplicationScope; elsewhere the key stays absent."
    signed = False
    if pj.test_member(zone, "IsSigned"):
        signed = ps_bool(prop(zone, "IsSigned"))
        entry["IsSigned"] = signed
    if pj.test_member(zone, "ReplicationScope"):
        entry["ReplicationScope"] = pj.convert_text(prop(zone, "ReplicationScope"))
    entry["DnsSecSetting"] = None  # L60
    keys: list[dict[str, Any]] = []  # L61-L62
    errors: list[dict[str, Any]] = []

    # L64 $dnssecRelevant = ($entry.ZoneType -eq 'Primary') -and (-not $entry.IsAutoCreated) -and
    #     ($entry.ZoneName -ne 'TrustAnchors')
    dnssec_relevant = (
        _eq(entry["ZoneType"], "Primary")
        and not ps_bool(entry["IsAutoCreated"])
        and not _eq(entry["ZoneName"], "TrustAnchors")
    )
    if dnssec_relevant:
        # L68-L80
        try:
            listed_keys = ps_array(
                ps.Get_DnsServerSigningKey(entry["ZoneName"])
            )  # @(Get-DnsServerSigningKey ...)
            for key in ps_foreach(listed_keys):
                if key is not None:
                    keys.append(pj.convert_key(key))
            entry["KeysListed"] = len(listed_keys)  # L76: after every key was projected
        except CmdletError as exc:
            errors.append(new_windns_error("Get-DnsServerSigningKey", error_record(exc)))
        # L83 if ($signed -or ($keys.Count -gt 0))
        if signed or len(keys) > 0:
            try:
                setting = select_first(ps.Get_DnsServerDnsSecZoneSetting(entry["ZoneName"]))
                if setting is not None:
                    entry["DnsSecSetting"] = pj.convert_zone_setting(setting)
            except CmdletError as exc:
                errors.append(new_windns_error("Get-DnsServerDnsSecZoneSetting", error_record(exc)))
    # L93-L96: each key becomes a row of the key table, ZoneName the entry's
    for record in keys:
        record["ZoneName"] = entry["ZoneName"]
        for column in KEY_COLUMNS:
            key_table[column].append(record[column])
    entry["Errors"] = list(errors)  # L97 $errors.ToArray()
    return entry


def zone_branch(bound: Mapping[str, Any], zone_name: Any) -> bool:
    """inventory.ps1 L143, the zone branch's condition:
    ``if ($PSBoundParameters.ContainsKey('ZoneName')) {``. Kept in one function so that a test can
    put back an older condition (``@($ZoneName).Count -gt 0``) and watch the self-check catch it."""
    del zone_name
    return "ZoneName" in bound


_PARAMS = (Param("ZoneName", "string[]"),)  # L20-L23 param([string[]]$ZoneName)


@mirrors("inventory.ps1", sha256="4ee9a51ef5e4fc794af79d056633cceff563193f37ca73bfac5cc3c68c02bb3c")
def inventory(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """What ``inventory.ps1`` prints (docs/inventory-schema.md, schema 2)."""
    variables, bound = bind("inventory", params, _PARAMS)
    zone_name = variables["ZoneName"]
    ps = Cmdlets(server, "inventory")

    # -- server: L102-L135 ---------------------------------------------------------------------
    top_errors: list[dict[str, Any]] = []
    server_setting = select_first(ps.Get_DnsServerSetting_All())  # not in a try: a failure ends the script

    computer_name = pj.convert_text(pj.get_member(server_setting, "ComputerName"))
    if computer_name is None:
        computer_name = server.name.split(".")[0].upper()  # $env:COMPUTERNAME, the NetBIOS name

    os_version = None  # L108-L115
    try:
        os = select_first(ps.Get_CimInstance_Win32_OperatingSystem())
        # ('{0} {1}' -f ([string]$os.Caption).Trim(), [string]$os.Version).Trim()
        os_version = f"{ps_string(prop(os, 'Caption')).strip()} {ps_string(prop(os, 'Version'))}".strip()
    except CmdletError as exc:
        top_errors.append(new_windns_error("Get-CimInstance Win32_OperatingSystem", error_record(exc)))

    dns_version = None  # L117-L121
    major = pj.get_member(server_setting, "MajorVersion")
    if major is not None:
        minor = pj.get_member(server_setting, "MinorVersion")
        build = pj.get_member(server_setting, "BuildNumber")
        dns_version = f"{ps_string(major)}.{ps_string(minor)}.{ps_string(build)}"  # '{0}.{1}.{2}' -f ...

    server_doc = {  # L123-L135
        "ComputerName": computer_name,
        "OsVersion": os_version,
        "DnsVersion": dns_version,
        "Settings": {
            "EnableDnsSec": pj.convert_bool(pj.get_member(server_setting, "EnableDnsSec")),
            "EnableOnlineSigning": pj.convert_bool(pj.get_member(server_setting, "EnableOnlineSigning")),
            "MaximumSignatureScanPeriod": pj.convert_seconds(
                pj.get_member(server_setting, "MaximumSignatureScanPeriod")
            ),
            "MaximumTrustAnchorActiveRefreshInterval": pj.convert_seconds(
                pj.get_member(server_setting, "MaximumTrustAnchorActiveRefreshInterval")
            ),
            "RootTrustAnchorsURL": pj.convert_text(pj.get_member(server_setting, "RootTrustAnchorsURL")),
        },
    }

    # -- zones: L138-L169 ----------------------------------------------------------------------
    zones: list[dict[str, Any]] = []
    document_keys: dict[str, list[Any]] = {column: [] for column in KEY_COLUMNS}
    if zone_branch(bound, zone_name):  # L143
        for name in ps_foreach(zone_name):  # L144 foreach ($name in $ZoneName): $null runs zero times
            if is_null_or_whitespace(name):
                continue
            found = None
            try:
                found = select_first(ps.Get_DnsServerZone(name))
            except CmdletError as exc:
                failure = new_windns_error("Get-DnsServerZone", error_record(exc))
                # L152-L153 "A zone that is not there is an answer about that zone"
                if failure["Code"] != 9601:
                    raise
                zones.append({"ZoneName": name, "ZoneType": None, "DnsSecSetting": None, "Errors": [failure]})
                continue
            if found is not None:
                zones.append(_zone_entry(ps, found, document_keys))
    else:  # L165-L169
        for zone in ps_foreach(ps_array(ps.Get_DnsServerZone())):  # foreach ($zone in @(Get-DnsServerZone))
            if zone is not None:
                zones.append(_zone_entry(ps, zone, document_keys))

    # -- self-check: L171-L199. The condition is written again here, as in the script, on purpose.
    request: dict[str, Any] = {"AllZones": True, "ZoneName": []}
    zones_listed = None
    primary_zones_listed = None
    if "ZoneName" in bound:  # L180 if ($PSBoundParameters.ContainsKey('ZoneName')) {
        asked: list[str] = []
        for name in ps_foreach(ps_array(zone_name)):  # foreach ($name in @($ZoneName))
            if not is_null_or_whitespace(name):
                asked.append(ps_string(name))
        request["AllZones"] = False
        request["ZoneName"] = list(asked)
    else:  # L188-L193: a second listing, separate from the one the zones were read from
        listing = ps_array(ps.Get_DnsServerZone())
        zones_listed = len(listing)
        primary_zones_listed = len([z for z in listing if _eq(ps_string(prop(z, "ZoneType")), "Primary")])
    check = {  # L194-L199
        "ZonesListed": zones_listed,
        "PrimaryZonesListed": primary_zones_listed,
        "ZonesEmitted": len(zones),
        "KeyRowsEmitted": len(document_keys["KeyId"]),
    }

    # -- trust points and anchors: L201-L237 ---------------------------------------------------
    points: list[dict[str, Any]] = []
    anchors: list[dict[str, Any]] = []
    points_read = False
    try:
        for point in ps_foreach(ps_array(ps.Get_DnsServerTrustPoint())):
            if point is not None:
                points.append(pj.convert_trust_point(point))
        points_read = True
    except CmdletError as exc:
        failure = new_windns_error("Get-DnsServerTrustPoint", error_record(exc))
        # L214-L216 "without that zone there are simply none"
        if failure["Code"] == 9601:
            points_read = True
        else:
            top_errors.append(failure)
    if points_read:
        for p in points:  # L219-L228: anchors per trust point, each in its own try
            try:
                for anchor in ps_foreach(ps_array(ps.Get_DnsServerTrustAnchor(p["TrustPointName"]))):
                    if anchor is not None:
                        anchors.append(pj.convert_trust_anchor(anchor))
            except CmdletError as exc:
                top_errors.append(new_windns_error("Get-DnsServerTrustAnchor", error_record(exc)))
    else:  # L230-L237
        top_errors.append(
            {
                "Stage": "Get-DnsServerTrustAnchor",
                "Code": None,
                "Message": "Trust anchors not read: the trust points they belong to could not be listed.",
                "FullyQualifiedErrorId": None,
            }
        )

    # -- the document: L240-L253 ---------------------------------------------------------------
    return {
        "Schema": "windns.inventory",
        "SchemaVersion": 2,
        "CollectedAt": iso(server.now),  # [datetime]::UtcNow.ToString('o'), the simulator's clock
        "Server": server_doc,
        "Request": request,
        "Check": check,
        "Zones": list(zones),
        "Keys": document_keys,
        "TrustAnchors": list(anchors),
        "TrustPoints": list(points),
        "Errors": list(top_errors),
    }


# zone_dnskeys.ps1 L23-L41 ConvertTo-WindnsDnsKey
def _convert_dnskey(record: Any) -> dict[str, Any]:
    data = pj.get_member(record, "RecordData")
    return {
        "HostName": pj.convert_text(prop(record, "HostName")),
        "RecordType": pj.convert_text(prop(record, "RecordType")),
        "TimeToLive": pj.convert_seconds(prop(record, "TimeToLive")),
        "RecordData": {
            "KeyTag": pj.convert_number(pj.get_member(data, "KeyTag")),
            "KeyFlags": pj.convert_number(pj.get_member(data, "KeyFlags")),
            "KeyProtocol": pj.convert_text(pj.get_member(data, "KeyProtocol")),
            "CryptoAlgorithm": pj.convert_text(pj.get_member(data, "CryptoAlgorithm")),
            "SecureEntryPoint": pj.convert_bool(pj.get_member(data, "SecureEntryPoint")),
            "ZoneKey": pj.convert_bool(pj.get_member(data, "ZoneKey")),
            "Revoked": pj.convert_bool(pj.get_member(data, "Revoked")),
            "Base64Data": pj.convert_text(pj.get_member(data, "Base64Data")),
        },
    }


_DNSKEYS_PARAMS = (Param("ZoneName", "string[]", mandatory=True),)  # L14-L16


@mirrors("zone_dnskeys.ps1", sha256="4e2359fdea92837311fbf38d85d38725d1afa376310160cf1ca7eb1820d2a6b8")
def zone_dnskeys(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """What ``zone_dnskeys.ps1`` prints: ``{Zones: [{ZoneName, Records, Error}]}``."""
    variables, _bound = bind("zone_dnskeys", params, _DNSKEYS_PARAMS)
    ps = Cmdlets(server, "zone_dnskeys")
    zones: list[dict[str, Any]] = []  # L43
    for name in ps_foreach(variables["ZoneName"]):  # L44
        entry: dict[str, Any] = {"ZoneName": name, "Records": [], "Error": None}  # L45
        try:  # L46-L49
            # @(Get-DnsServerResourceRecord -ZoneName $name -Name '@' -RRType 'DnsKey' |
            #     ForEach-Object { ConvertTo-WindnsDnsKey $_ })
            entry["Records"] = ps_array(
                [_convert_dnskey(r) for r in ps.Get_DnsServerResourceRecord(name, name="@", rr_type="DnsKey")]
            )
        except CmdletError as exc:  # L50-L52; New-WindnsError is _projection.ps1's
            entry["Error"] = new_windns_error("Get-DnsServerResourceRecord", error_record(exc))
        zones.append(entry)  # L53
    return {"Zones": list(zones)}  # L55-L56 @{ Zones = $zones.ToArray() }


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "inventory": inventory,
    "zone_dnskeys": zone_dnskeys,
}
