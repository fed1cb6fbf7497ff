"""Our ``windns.inventory`` document (docs/inventory-schema.md) <-> ServerInventory.

A bad value costs only the record it is in, never the host: odd server output (a key length
Windows printed as text, an enum as a number) must not hide every other zone from the audit.

- The document's structure is checked strictly: one NormaliseError for the host when it is not
  an object, its ``Schema``/``SchemaVersion`` are wrong, ``Server`` or its identity
  (``ComputerName``, ``OsVersion``, ``DnsVersion``) cannot be read, ``Zones``/``TrustAnchors``/
  ``TrustPoints``/``Errors`` are not arrays, ``Keys`` (schema 2) is not an object of arrays of
  one length, a zone entry is not an object or has no readable ``ZoneName``, two zones share a
  name, or ``CollectedAt``/``Source`` are bad.
- A bad value inside a zone becomes a ``ZoneError`` of that zone whose message names the JSON
  path and the value (``$.Keys[3].KeyLength: expected an integer, got "huge"``; in schema 1,
  ``$.Zones[3].SigningKeys[0].KeyLength``), and only the record it is in is left out: that
  signing key (a row of the key table, ``toolkit.normalise.table``), or the zone's
  ``DnsSecSetting``, or one ``Errors`` entry; a bad property of the zone record itself leaves
  the zone's type unknown (``ZoneType`` Unknown), so that no rule judges a zone only half read. The stages are
  the ``STAGE_*`` names below; ``normalise SigningKeys`` marks the zone's keys unreadable for the
  rules, as a failed ``Get-DnsServerSigningKey`` does. Rule ZONE002 reports these errors.
- A bad trust anchor, trust point or top-level ``Errors`` entry is left out, and a bad value in
  ``Server.Settings`` leaves the server's DNSSEC settings unknown, and a key row naming no zone
  of the document is left out; each becomes a server-level error (``ServerInventory.errors``,
  rule SRV003).

The recorded errors are written back by ``dump_inventory``, so ``normalise_inventory(dump_inventory(inv))
== inv`` holds for every inventory the normaliser can produce: strings are non-blank or None,
times are UTC to the microsecond, zone errors name their zone, and a null ``Code`` is what
``FullyQualifiedErrorId`` implies.

One reader per document: each record (zone, key row, settings, server, trust anchor or point)
is read by the plain reader of ``fast`` when it is in the shape our script prints, and by the
general reader of ``records`` (which names the JSON path of a bad value) when it is not. Both
build the descriptors through their own validating constructors.

``Source`` is an optional member beyond the schema: ``dump_inventory`` writes it only when an
inventory did not come from our script (``"cmdlet"``: raw cmdlet output saved by an admin), so
that a stored inventory still says where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from toolkit.errors import NormaliseError
from toolkit.model.descriptors import (
    INVENTORY_SCHEMA,
    INVENTORY_SCHEMA_VERSION,
    ServerDnssecSettings,
    ServerInfo,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
    ZoneError,
)
from toolkit.model.enums import WinEnum
from toolkit.normalise import fast as _fast
from toolkit.normalise.cim import MISSING, Record
from toolkit.normalise.coerce import as_datetime, as_items, as_str, describe, fail
from toolkit.normalise.records import (
    UNKNOWN_ZONE_TYPE,
    server_identity_from_json,
    server_record_settings,
    signing_key_from_json,
    trust_anchor_from_json,
    trust_point_from_json,
    zone_error_from_json,
    zone_head_from_json,
    zone_key,
    zone_settings_from_json,
)
from toolkit.normalise.selfcheck import NOT_ASKED, check_answer
from toolkit.normalise.table import KEYS, Table, key_table, read_table

__all__ = [
    "STAGE_ANCHORS",
    "STAGE_ERRORS",
    "STAGE_KEYS",
    "STAGE_POINTS",
    "STAGE_SERVER_SETTINGS",
    "STAGE_SETTINGS",
    "STAGE_ZONE",
    "dump_inventory",
    "normalise_inventory",
    "with_source",
]

T = TypeVar("T")

#: ``ZoneError.stage`` of a record the normaliser left out (see the module docstring).
STAGE_ZONE = "normalise Zone"
STAGE_SETTINGS = "normalise DnsSecSetting"
STAGE_KEYS = "normalise SigningKeys"
STAGE_ERRORS = "normalise Errors"
STAGE_SERVER_SETTINGS = "normalise Server.Settings"
STAGE_ANCHORS = "normalise TrustAnchors"
STAGE_POINTS = "normalise TrustPoints"

#: The zone's own properties when they cannot be read (``Zone`` fields, see ``zone_head_from_json``).
_UNREAD_HEAD: dict[str, Any] = {
    "zone_type": UNKNOWN_ZONE_TYPE,
    "is_signed": None,
    "is_ds_integrated": False,
    "is_reverse_lookup_zone": False,
    "is_auto_created": False,
    "replication_scope": None,
}


def with_source(exc: NormaliseError, source: str | None) -> NormaliseError:
    """The same error, its message prefixed with ``source`` (a file name, ``host:inventory``)."""
    if not source or exc.source:
        return exc
    text = str(exc)
    prefix = f"{exc.path}: "
    message = text[len(prefix) :] if text.startswith(prefix) else text
    return NormaliseError(message, path=exc.path, source=source)


def _check_schema(rec: Record) -> int:
    schema, spath = rec.get("Schema")
    if schema != INVENTORY_SCHEMA:
        fail(spath, f"expected {INVENTORY_SCHEMA!r}, got {describe(None if schema is MISSING else schema)}")
    version, vpath = rec.get("SchemaVersion")
    supported = f"supported: 1 to {INVENTORY_SCHEMA_VERSION}"
    if isinstance(version, bool) or not isinstance(version, int):
        fail(
            vpath,
            f"expected a schema version ({supported}), "
            f"got {describe(None if version is MISSING else version)}",
        )
    if version > INVENTORY_SCHEMA_VERSION:
        fail(
            vpath,
            f"schema version {version} is newer than this toolkit reads ({supported}); "
            "upgrade windns-toolkit",
        )
    if version < 1:
        fail(vpath, f"schema version {version} is not valid ({supported})")
    return version


def _unread(stage: str, exc: NormaliseError, zone: str | None) -> ZoneError:
    return ZoneError(stage=stage, message=str(exc), zone=zone)


def _array(rec: Record, name: str) -> list[tuple[Any, str]]:
    """A top-level array's items with their paths: null or absent is empty, a scalar is an error."""
    value, path = rec.get(name)
    if value is MISSING or value is None:
        return []
    if not isinstance(value, list | dict):  # a dict: PowerShell's lone record or wrapped array
        fail(path, f"expected an array, got {describe(value)}")
    return as_items(value, path)


# -- zones ----------------------------------------------------------------------------------------
def _read_key(item: Any, path: str, zone: str, unread: list[ZoneError]) -> SigningKey | None:
    try:
        return signing_key_from_json(item, path, zone=zone)
    except NormaliseError as exc:
        unread.append(_unread(STAGE_KEYS, exc, zone))
        return None


def _read_settings(value: Any, path: str, zone: str, unread: list[ZoneError]) -> ZoneDnssecSettings | None:
    try:
        return zone_settings_from_json(value, path, zone=zone)
    except NormaliseError as exc:
        unread.append(_unread(STAGE_SETTINGS, exc, zone))
        return None


def _read_errors(items: list[tuple[Any, str]], zone: str | None, unread: list[ZoneError]) -> list[ZoneError]:
    out: list[ZoneError] = []
    for item, path in items:
        try:
            out.append(zone_error_from_json(item, path, zone=zone))
        except NormaliseError as exc:
            unread.append(_unread(STAGE_ERRORS, exc, zone))
    return out


#: A zone name -> the zone's rows of a schema 2 key table, each its values (see ``_normalise``).
KeyRows = Callable[[str], list[tuple[tuple[Any, ...], str]]]


def _read_zone(obj: Any, path: str, rows: KeyRows | None = None, table: Table | None = None) -> Zone:
    """One ``Zones[]`` entry, the general way (every shape ``records`` reads). Its keys are
    ``rows(name)`` in a schema 2 document, else its ``SigningKeys``."""
    rec = Record(obj, path)
    value, vpath = rec.get("ZoneName")
    name = None if value is MISSING else as_str(value, vpath)
    if name is None:
        fail(vpath, "required property is " + ("missing" if value is MISSING else "null or blank"))
    unread: list[ZoneError] = []
    try:
        head = zone_head_from_json(rec)
    except NormaliseError as exc:
        head = _UNREAD_HEAD
        unread.append(_unread(STAGE_ZONE, exc, name))

    dnssec = None
    value, vpath = rec.get("DnsSecSetting")
    if value is not MISSING and value is not None:
        dnssec = _read_settings(value, vpath, name, unread)

    keys: list[SigningKey] = []
    if rows is not None and table is not None:
        items = [(table.record(values), row_path) for values, row_path in rows(name)]
    else:
        value, vpath = rec.get("SigningKeys")
        items = [] if value is MISSING else as_items(value, vpath)
    for item, item_path in items:
        key = _read_key(item, item_path, name, unread)
        if key is not None:
            keys.append(key)

    value, vpath = rec.get("Errors")
    recorded = [] if value is MISSING else _read_errors(as_items(value, vpath), name, unread)
    try:
        return Zone(name=name, **head, dnssec=dnssec, keys=tuple(keys), errors=tuple(recorded + unread))
    except (ValueError, TypeError) as exc:  # pragma: no cover - every field was checked above
        fail(path, str(exc))


def _plain_zone(obj: Any, path: str, rows: KeyRows | None = None, table: Table | None = None) -> Zone | None:
    """One ``Zones[]`` entry through the fast readers; None when the zone record itself is not
    plain. A key or setting that is not plain is read the general way, with the same path. Its
    keys as ``_read_zone`` finds them."""
    head = _fast.zone_head(obj)
    if head is None:
        return None
    name = head[0]
    get = obj.get
    unread: list[ZoneError] = []

    dnssec = None
    value = get("DnsSecSetting")
    if value is not None:
        dnssec = _fast.zone_settings(value, name)
        if dnssec is None:
            dnssec = _read_settings(value, f"{path}.DnsSecSetting", name, unread)

    keys: list[SigningKey] = []
    key: SigningKey | None
    if rows is not None and table is not None:  # schema 2: the zone's rows of the key table
        plain = table.plain
        read_values = _fast.key_values
        for values, item_path in rows(name):
            key = read_values(values, name) if plain else None
            if key is None:
                key = _read_key(table.record(values), item_path, name, unread)
            if key is not None:
                keys.append(key)
    else:
        read_key = _fast.signing_key
        for i, item in enumerate(get("SigningKeys") or ()):
            key = read_key(item, name) or _read_key(item, f"{path}.SigningKeys[{i}]", name, unread)
            if key is not None:
                keys.append(key)

    items = get("Errors")
    recorded = _read_errors(as_items(items, f"{path}.Errors"), name, unread) if items else []
    try:
        return _fast.new_zone(*head, dnssec, tuple(keys), tuple(recorded + unread))
    except (ValueError, TypeError) as exc:  # pragma: no cover - every field was checked above
        fail(path, str(exc))


def _unplaced_rows(
    table: Table,
    grouped: dict[str, list[tuple[tuple[Any, ...], str]]],
    stray: list[tuple[Any, str]],
    seen: dict[str, str],
    unread: list[ZoneError],
) -> None:
    """Rows of the key table that no zone took: each a server-level error (``normalise
    SigningKeys``), since the key cannot be placed in a zone."""
    for value, path in stray:
        message = f"{path}: expected a zone's name, got {describe(value)}"
        unread.append(ZoneError(stage=STAGE_KEYS, message=message))
    for key, rows in grouped.items():
        if key in seen:
            continue
        for values, path in rows:
            name = table.record(values)["ZoneName"]
            unread.append(
                ZoneError(
                    stage=STAGE_KEYS,
                    message=f"{path}.ZoneName: zone {name!r} is not in $.Zones",
                )
            )


# -- the document ---------------------------------------------------------------------------------
def _server(rec: Record, unread: list[ZoneError]) -> ServerInfo:
    value, path = rec.get("Server")
    if value is MISSING:
        fail(path, "required property is missing")
    plain = _fast.server_info(value)
    if plain is not None:
        return plain
    info = server_identity_from_json(value, path)
    try:
        settings = server_record_settings(value, path)
    except NormaliseError as exc:
        unread.append(_unread(STAGE_SERVER_SETTINGS, exc, None))
        settings = ServerDnssecSettings()
    return ServerInfo(
        name=info.name, os_version=info.os_version, dns_version=info.dns_version, settings=settings
    )


def _read_each(
    rec: Record,
    name: str,
    plain: Callable[[Any], T | None],
    general: Callable[[Any, str], T],
    stage: str,
    unread: list[ZoneError],
) -> list[T]:
    """The records of a top-level array (trust anchors or points): each by the ``plain`` fast
    reader when it takes it, else by the ``general`` reader; one that cannot be read is left out
    and becomes a server-level error of ``stage``."""
    out: list[T] = []
    for item, item_path in _array(rec, name):
        read = plain(item)
        if read is not None:
            out.append(read)
            continue
        try:
            out.append(general(item, item_path))
        except NormaliseError as exc:
            unread.append(_unread(stage, exc, None))
    return out


def _normalise(doc: Any) -> ServerInventory:
    rec = Record(doc, "$")
    version = _check_schema(rec)
    unread: list[ZoneError] = []
    server = _server(rec, unread)

    zones: list[Zone] = []
    seen: dict[str, str] = {}
    items = _array(rec, "Zones")
    table = read_table(*rec.get(KEYS)) if version >= 2 else None
    # Schema 2: each zone finds its rows of the key table here.
    grouped: dict[str, list[tuple[tuple[Any, ...], str]]] = {}
    stray: list[tuple[Any, str]] = []
    if table is not None and table.length:
        grouped, stray = table.rows_by_zone()
    rows: KeyRows | None = None if table is None else (lambda name: grouped.pop(zone_key(name), []))
    for item, item_path in items:
        zone = _plain_zone(item, item_path, rows, table) or _read_zone(item, item_path, rows, table)
        key = zone_key(zone.name)
        if key in seen:
            fail(f"{item_path}.ZoneName", f"zone {zone.name!r} appears twice (first at {seen[key]})")
        seen[key] = item_path
        zones.append(zone)
    if table is not None:
        _unplaced_rows(table, grouped, stray, seen, unread)

    anchors = _read_each(
        rec, "TrustAnchors", _fast.trust_anchor, trust_anchor_from_json, STAGE_ANCHORS, unread
    )
    points = _read_each(rec, "TrustPoints", _fast.trust_point, trust_point_from_json, STAGE_POINTS, unread)
    recorded = _read_errors(_array(rec, "Errors"), None, unread)

    value, path = rec.get("CollectedAt")
    collected_at = _fast.plain_time(value)
    if collected_at is _fast.NOT_PLAIN:
        collected_at = as_datetime(None if value is MISSING else value, path)
    source_value, source_path = rec.get("Source")
    source = as_str(None if source_value is MISSING else source_value, source_path) or "inventory"
    try:
        return ServerInventory(
            server=server,
            zones=tuple(zones),
            trust_anchors=tuple(anchors),
            trust_points=tuple(points),
            errors=tuple(recorded + unread),
            collected_at=collected_at,
            source=source,
            schema_version=version,
        )
    except (ValueError, TypeError) as exc:
        fail("$", str(exc))


def normalise_inventory(
    doc: Any,
    *,
    source: str | None = None,
    asked: object = NOT_ASKED,
    self_check: bool = True,
) -> ServerInventory:
    """Our inventory document -> ServerInventory.

    ``source`` labels error messages (a file name, ``dns1:inventory``). Raises NormaliseError,
    naming the JSON path of the offending member, only for a document whose structure is wrong;
    a bad value inside a record is kept as an error of its zone or server (module docstring).
    Raises ProtocolError when the document's self-check does not match what it holds
    (``toolkit.normalise.selfcheck``; ``asked`` says what a live audit asked for,
    ``self_check=False`` skips it for a stored scan, which passed it when it was collected).
    """
    if self_check:
        check_answer(doc, asked=asked, source=source)
    try:
        return _normalise(doc)
    except NormaliseError as exc:
        raise with_source(exc, source) from None


# -- dump -----------------------------------------------------------------------------------------
def _time(value: datetime | None) -> str | None:
    # The script's ToUniversalTime().ToString('o'): 7 fraction digits and Z (schema "dates").
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z"


def _span(value: timedelta | None) -> int | float | None:
    # Seconds as a number (schema "TimeSpans"); whole seconds stay integers.
    if value is None:
        return None
    if value.microseconds == 0:
        return value.days * 86400 + value.seconds
    return value.total_seconds()


def _enum(value: WinEnum | None) -> str | None:
    return None if value is None else value.value


def _key(k: SigningKey) -> dict[str, Any]:
    return {
        "ZoneName": k.zone,
        "KeyId": k.key_id,
        "KeyType": _enum(k.key_type),
        "CurrentState": _enum(k.current_state),
        "KeyStorageProvider": k.key_storage_provider,
        "StoreKeysInAD": k.store_keys_in_ad,
        "CryptoAlgorithm": _enum(k.algorithm),
        "KeyLength": k.key_length,
        "DnsKeySignatureValidityPeriod": _span(k.dnskey_signature_validity),
        "DSSignatureValidityPeriod": _span(k.ds_signature_validity),
        "ZoneSignatureValidityPeriod": _span(k.zone_signature_validity),
        "InitialRolloverOffset": _span(k.initial_rollover_offset),
        "RolloverPeriod": _span(k.rollover_period),
        "RolloverType": _enum(k.rollover_type),
        "NextRolloverAction": _enum(k.next_rollover_action),
        "LastRolloverTime": _time(k.last_rollover_time),
        "NextRolloverTime": _time(k.next_rollover_time),
        "CurrentRolloverStatus": _enum(k.current_rollover_status),
        "ActiveKey": k.active_key,
        "StandbyKey": k.standby_key,
        "NextKey": k.next_key,
        "IsRolloverEnabled": k.is_rollover_enabled,
    }


def _settings(s: ZoneDnssecSettings) -> dict[str, Any]:
    return {
        "ZoneName": s.zone,
        "DenialOfExistence": _enum(s.denial_of_existence),
        "NSec3HashAlgorithm": s.nsec3_hash_algorithm,
        "NSec3Iterations": s.nsec3_iterations,
        "NSec3OptOut": s.nsec3_opt_out,
        "NSec3RandomSaltLength": s.nsec3_random_salt_length,
        "NSec3UserSalt": "-" if s.nsec3_user_salt is None else s.nsec3_user_salt,
        "NSec3CurrentSalt": s.nsec3_current_salt,
        "DistributeTrustAnchor": list(s.distribute_trust_anchor),
        "EnableRfc5011KeyRollover": s.enable_rfc5011_key_rollover,
        "DSRecordGenerationAlgorithm": [d.value for d in s.ds_record_generation_algorithm],
        "DSRecordSetTtl": _span(s.ds_record_set_ttl),
        "DnsKeyRecordSetTtl": _span(s.dnskey_record_set_ttl),
        "SignatureInceptionOffset": _span(s.signature_inception_offset),
        "SecureDelegationPollingPeriod": _span(s.secure_delegation_polling_period),
        "PropagationTime": _span(s.propagation_time),
        "ParentHasSecureDelegation": s.parent_has_secure_delegation,
        "IsKeyMasterServer": s.is_key_master_server,
        "KeyMasterServer": s.key_master_server,
        "KeyMasterStatus": _enum(s.key_master_status),
        "IsSigned": s.is_signed,
    }


def _error(e: ZoneError) -> dict[str, Any]:
    return {
        "Stage": e.stage,
        "Code": e.code,
        "Message": e.message,
        "FullyQualifiedErrorId": e.fully_qualified_error_id,
    }


def _zone(z: Zone, nested: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ZoneName": z.name,
        # The null ZoneType of a zone that does not exist (records.UNKNOWN_ZONE_TYPE) goes back as null.
        "ZoneType": None if z.zone_type == UNKNOWN_ZONE_TYPE else z.zone_type.value,
    }
    # Only primary zones have IsSigned/ReplicationScope; elsewhere the key stays absent (script).
    if z.is_signed is not None:
        out["IsSigned"] = z.is_signed
    out["IsDsIntegrated"] = z.is_ds_integrated
    out["IsReverseLookupZone"] = z.is_reverse_lookup_zone
    out["IsAutoCreated"] = z.is_auto_created
    if z.replication_scope is not None:
        out["ReplicationScope"] = z.replication_scope.value
    out["DnsSecSetting"] = _settings(z.dnssec) if z.dnssec is not None else None
    if nested:  # schema 1; schema 2 keeps the keys in the document's key table
        out["SigningKeys"] = [_key(k) for k in z.keys]
    out["Errors"] = [_error(e) for e in z.errors]
    return out


def _anchor(a: TrustAnchor) -> dict[str, Any]:
    return {
        "TrustAnchorName": a.name,
        "TrustAnchorType": a.anchor_type.value,
        "KeyTag": a.key_tag,
        "TrustAnchorState": a.state.value,
        "EnteredStateTime": _time(a.entered_state_time),
        "NextStateTime": _time(a.next_state_time),
        "CryptoAlgorithm": _enum(a.algorithm),
        "DigestType": _enum(a.digest_type),
    }


def _point(p: TrustPoint) -> dict[str, Any]:
    return {
        "TrustPointName": p.name,
        "TrustPointState": p.state.value,
        "LastActiveRefreshTime": _time(p.last_active_refresh_time),
        "NextActiveRefreshTime": _time(p.next_active_refresh_time),
        "LastSuccessfulActiveRefreshTime": _time(p.last_successful_active_refresh_time),
        "LastActiveRefreshResult": p.last_active_refresh_result,
        "LastActiveRefreshResultDescription": p.last_active_refresh_result_description,
    }


def dump_inventory(inv: ServerInventory) -> dict[str, Any]:
    """ServerInventory -> the ``windns.inventory`` document (JSON-ready dict), in the shape of
    its ``schema_version``: schema 1 nests each zone's keys in the zone, later schemas print
    them as the key table."""
    s = inv.server
    nested = inv.schema_version < 2
    doc: dict[str, Any] = {
        "Schema": INVENTORY_SCHEMA,
        "SchemaVersion": inv.schema_version,
        "CollectedAt": _time(inv.collected_at),
        "Server": {
            "ComputerName": s.name,
            "OsVersion": s.os_version,
            "DnsVersion": s.dns_version,
            "Settings": {
                "EnableDnsSec": s.settings.enable_dnssec,
                "EnableOnlineSigning": s.settings.enable_online_signing,
                "MaximumSignatureScanPeriod": _span(s.settings.maximum_signature_scan_period),
                "MaximumTrustAnchorActiveRefreshInterval": _span(
                    s.settings.maximum_trust_anchor_active_refresh_interval
                ),
                "RootTrustAnchorsURL": s.settings.root_trust_anchors_url,
            },
        },
        "Zones": [_zone(z, nested) for z in inv.zones],
        "TrustAnchors": [_anchor(a) for a in inv.trust_anchors],
        "TrustPoints": [_point(p) for p in inv.trust_points],
        "Errors": [_error(e) for e in inv.errors],
    }
    if not nested:
        doc[KEYS] = key_table(_key(k) for k in inv.iter_keys())
    if inv.source != "inventory":
        doc["Source"] = inv.source
    return doc
