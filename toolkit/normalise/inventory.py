"""Our ``windns.inventory`` document (docs/inventory-schema.md) <-> ServerInventory.

``normalise_inventory(dump_inventory(inv)) == inv`` holds for every inventory the normaliser
can produce: strings are non-blank or None, times are UTC to the microsecond, zone errors name
their zone, and a null ``Code`` is what ``FullyQualifiedErrorId`` implies.

``Source`` is an optional member beyond the schema: ``dump_inventory`` writes it only when an
inventory did not come from our script (``"cmdlet"``: raw cmdlet output saved by an admin), so
that a stored inventory still says where it came from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.errors import NormaliseError
from toolkit.model.descriptors import (
    INVENTORY_SCHEMA,
    INVENTORY_SCHEMA_VERSION,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
    ZoneError,
)
from toolkit.model.enums import WinEnum
from toolkit.normalise.cim import MISSING, Record
from toolkit.normalise.coerce import as_datetime, as_items, as_str, describe, fail
from toolkit.normalise.records import (
    UNKNOWN_ZONE_TYPE,
    server_info_from_json,
    trust_anchor_from_json,
    trust_point_from_json,
    zone_error_from_json,
    zone_from_json,
    zone_key,
)

__all__ = ["dump_inventory", "normalise_inventory", "with_source"]


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
    if isinstance(version, bool) or not isinstance(version, int):
        fail(
            vpath,
            f"expected schema version {INVENTORY_SCHEMA_VERSION}, "
            f"got {describe(None if version is MISSING else version)}",
        )
    if version > INVENTORY_SCHEMA_VERSION:
        fail(
            vpath,
            f"schema version {version} is newer than this toolkit reads "
            f"(supported: {INVENTORY_SCHEMA_VERSION}); upgrade windns-toolkit",
        )
    if version < 1:
        fail(vpath, f"schema version {version} is not valid (supported: {INVENTORY_SCHEMA_VERSION})")
    return version


def _normalise(doc: Any) -> ServerInventory:
    rec = Record(doc, "$")
    version = _check_schema(rec)

    value, path = rec.get("Server")
    if value is MISSING:
        fail(path, "required property is missing")
    server = server_info_from_json(value, path)

    zones: list[Zone] = []
    seen: dict[str, str] = {}
    value, path = rec.get("Zones")
    for item, item_path in as_items(None if value is MISSING else value, path):
        zone = zone_from_json(item, item_path)
        key = zone_key(zone.name)
        if key in seen:
            fail(f"{item_path}.ZoneName", f"zone {zone.name!r} appears twice (first at {seen[key]})")
        seen[key] = item_path
        zones.append(zone)

    def records(name: str) -> list[tuple[Any, str]]:
        v, p = rec.get(name)
        return as_items(None if v is MISSING else v, p)

    anchors = [trust_anchor_from_json(v, p) for v, p in records("TrustAnchors")]
    points = [trust_point_from_json(v, p) for v, p in records("TrustPoints")]
    errors = [zone_error_from_json(v, p) for v, p in records("Errors")]
    collected_at = as_datetime(rec.value("CollectedAt"), rec.get("CollectedAt")[1])
    source_value, source_path = rec.get("Source")
    source = as_str(None if source_value is MISSING else source_value, source_path) or "inventory"
    try:
        return ServerInventory(
            server=server,
            zones=tuple(zones),
            trust_anchors=tuple(anchors),
            trust_points=tuple(points),
            errors=tuple(errors),
            collected_at=collected_at,
            source=source,
            schema_version=version,
        )
    except (ValueError, TypeError) as exc:
        fail("$", str(exc))


def normalise_inventory(doc: Any, *, source: str | None = None) -> ServerInventory:
    """Our inventory document -> ServerInventory.

    ``source`` labels error messages (a file name, ``dns1:inventory``). Raises only
    NormaliseError, naming the JSON path of the offending member.
    """
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


def _zone(z: Zone) -> dict[str, Any]:
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
    """ServerInventory -> the ``windns.inventory`` document (JSON-ready dict)."""
    s = inv.server
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
        "Zones": [_zone(z) for z in inv.zones],
        "TrustAnchors": [_anchor(a) for a in inv.trust_anchors],
        "TrustPoints": [_point(p) for p in inv.trust_points],
        "Errors": [_error(e) for e in inv.errors],
    }
    if inv.source != "inventory":
        doc["Source"] = inv.source
    return doc
