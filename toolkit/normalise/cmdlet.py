"""Raw cmdlet output saved by an admin -> ServerInventory.

``Get-DnsServerSigningKey -ZoneName x | ConvertTo-Json -Depth 4`` and its siblings print one
object or an array of objects (reference 4: "single results are not arrays"). Each record's
kind is told by its properties, so several cmdlets' output may be concatenated into one array:

=========================  ===============================
property                   record (cmdlet)
=========================  ===============================
``KeyId`` + ``KeyType``    DnsServerSigningKey
``DenialOfExistence``      DnsServerDnsSecZoneSetting
``ZoneType``               DnsServerZone
``TrustAnchorType``        DnsServerTrustAnchor
``TrustPointName``         DnsServerTrustPoint
``EnableOnlineSigning``    DnsServerSetting (-All)
=========================  ===============================

Keys and settings are grouped into zones by ``ZoneName``; a zone seen only through its keys
is a primary zone (only primary zones hold keys) whose ``IsSigned`` is unknown (None) unless a
zone or settings record says so. The server is ``server_name``, else the records'
``PSComputerName``, else ``"offline"``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from toolkit.errors import NormaliseError
from toolkit.model.descriptors import (
    ServerInfo,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
)
from toolkit.model.enums import ZoneType
from toolkit.normalise.cim import Record
from toolkit.normalise.coerce import as_items, as_str, describe, fail
from toolkit.normalise.inventory import normalise_inventory, with_source
from toolkit.normalise.records import (
    server_info_from_json,
    signing_key_from_json,
    trust_anchor_from_json,
    trust_point_from_json,
    zone_from_json,
    zone_key,
    zone_settings_from_json,
)

__all__ = ["OFFLINE_SERVER", "normalise_document", "record_kind"]

OFFLINE_SERVER = "offline"


def record_kind(rec: Record) -> str | None:
    """``key``, ``settings``, ``zone``, ``anchor``, ``point``, ``server`` or None."""
    if rec.has("KeyId") and (rec.has("KeyType") or not rec.has("ValidationErrorCode")):
        # A KeyId without KeyType is still a key (its error then names KeyType), unless it is a
        # Test-DnsServerDnsSecZoneSetting result, which also has KeyId (reference 1.5).
        return "key"
    if rec.has("DenialOfExistence"):
        return "settings"
    if rec.has("ZoneType"):
        return "zone"
    if rec.has("TrustAnchorType"):
        return "anchor"
    if rec.has("TrustPointName"):
        return "point"
    if rec.has("EnableOnlineSigning") or rec.has("MaximumSignatureScanPeriod"):
        return "server"
    return None


class _ZoneSlot:
    """What the records said about one zone, in order of first appearance."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.zone: Zone | None = None
        self.zone_path = ""
        self.settings: ZoneDnssecSettings | None = None
        self.settings_path = ""
        self.keys: list[SigningKey] = []
        self.key_ids: set[str] = set()


def _assemble(slot: _ZoneSlot) -> Zone:
    base = slot.zone or Zone(name=slot.name, zone_type=ZoneType.PRIMARY)
    try:
        return dataclasses.replace(
            base, dnssec=slot.settings or base.dnssec, keys=base.keys + tuple(slot.keys)
        )
    except (ValueError, TypeError) as exc:
        fail(slot.zone_path or slot.settings_path or "$", str(exc))


def _normalise_records(doc: Any, server_name: str | None) -> ServerInventory:
    if isinstance(doc, list) or (isinstance(doc, dict) and isinstance(doc.get("value"), list)):
        items = as_items(doc, "$")
    elif isinstance(doc, dict):
        items = [(doc, "$")]
    else:
        fail("$", f"expected a JSON object or array, got {describe(doc)}")

    slots: dict[str, _ZoneSlot] = {}
    anchors: list[TrustAnchor] = []
    points: list[TrustPoint] = []
    server: ServerInfo | None = None
    computers: dict[str, str] = {}

    def slot_for(name: str) -> _ZoneSlot:
        return slots.setdefault(zone_key(name), _ZoneSlot(name))

    for obj, path in items:
        rec = Record(obj, path)
        value, cpath = rec.get("PSComputerName")
        computer = as_str(value, cpath) if rec.has("PSComputerName") else None
        if computer is not None:
            computers.setdefault(computer.lower(), computer)
        kind = record_kind(rec)
        if kind == "key":
            key = signing_key_from_json(obj, path)
            slot = slot_for(key.zone)
            if key.key_id not in slot.key_ids:  # the same key saved twice counts once
                slot.key_ids.add(key.key_id)
                slot.keys.append(key)
        elif kind == "settings":
            settings = zone_settings_from_json(obj, path)
            slot = slot_for(settings.zone)
            if slot.settings is not None and slot.settings != settings:
                fail(
                    path,
                    f"second, different DNSSEC settings for zone {settings.zone!r} "
                    f"(first at {slot.settings_path})",
                )
            slot.settings, slot.settings_path = settings, path
        elif kind == "zone":
            zone = zone_from_json(obj, path)
            slot = slot_for(zone.name)
            if slot.zone is not None and slot.zone != zone:
                fail(path, f"zone {zone.name!r} appears twice, differently (first at {slot.zone_path})")
            slot.zone, slot.zone_path = zone, path
        elif kind == "anchor":
            anchor = trust_anchor_from_json(obj, path)
            if anchor not in anchors:
                anchors.append(anchor)
        elif kind == "point":
            point = trust_point_from_json(obj, path)
            if point not in points:
                points.append(point)
        elif kind == "server":
            server = server_info_from_json(obj, path, name=server_name or computer or OFFLINE_SERVER)
        else:
            fail(
                path,
                "not a DnsServer record this toolkit reads (expected signing key, DNSSEC zone "
                "setting, zone, trust anchor, trust point or server setting output)",
            )

    if server_name is None and len(computers) > 1:
        fail(
            "$",
            f"records come from more than one server ({', '.join(sorted(computers.values()))}); "
            "load one server at a time",
        )
    name = server_name or next(iter(computers.values()), None) or OFFLINE_SERVER
    if server is None:
        server = ServerInfo(name=name)
    elif server_name is not None:
        server = dataclasses.replace(server, name=server_name)

    try:
        return ServerInventory(
            server=server,
            zones=tuple(_assemble(s) for s in slots.values()),
            trust_anchors=tuple(anchors),
            trust_points=tuple(points),
            source="cmdlet",
        )
    except (ValueError, TypeError) as exc:
        fail("$", str(exc))


def normalise_document(
    doc: Any, *, server_name: str | None = None, source: str | None = None
) -> ServerInventory:
    """Our inventory document, or raw DnsServer cmdlet output (PS 5.1 or 7), -> ServerInventory.

    A JSON object with a ``Schema`` member is read as our inventory (``server_name`` is then
    ignored: the document names its server); anything else as cmdlet output. ``source`` labels
    error messages. Raises only NormaliseError, naming the JSON path.
    """
    if isinstance(doc, dict) and "Schema" in doc:
        return normalise_inventory(doc, source=source)
    if server_name is not None and not server_name.strip():
        raise NormaliseError("server name must not be blank", path="$", source=source)
    try:
        return _normalise_records(doc, server_name)
    except NormaliseError as exc:
        raise with_source(exc, source) from None
