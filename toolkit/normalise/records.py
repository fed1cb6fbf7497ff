"""Per-record normalisers: one DnsServer record (JSON object) -> one descriptor.

Property names are the cmdlet property names (reference sections 1.1-1.7), so each function
reads a record of our inventory document and the same record straight from
``Get-DnsServer... | ConvertTo-Json`` alike. Every failure is a NormaliseError naming the JSON
path; descriptor validation errors are converted too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from toolkit.errors import parse_win32_code
from toolkit.model.descriptors import (
    ServerDnssecSettings,
    ServerInfo,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
    ZoneError,
)
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    NextRolloverAction,
    ReplicationScope,
    RolloverStatus,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
    WinEnum,
    ZoneType,
)
from toolkit.model.names import zone_key
from toolkit.normalise.cim import MISSING, Record
from toolkit.normalise.coerce import (
    as_bool,
    as_datetime,
    as_enum,
    as_enums,
    as_guid,
    as_int,
    as_items,
    as_salt,
    as_str,
    as_str_tuple,
    as_timedelta,
    fail,
)

__all__ = [
    "UNKNOWN_ZONE_TYPE",
    "server_identity_from_json",
    "server_info_from_json",
    "server_record_settings",
    "server_settings_from_json",
    "signing_key_from_json",
    "trust_anchor_from_json",
    "trust_point_from_json",
    "zone_error_from_json",
    "zone_from_json",
    "zone_head_from_json",
    "zone_key",
    "zone_settings_from_json",
]

T = TypeVar("T")
E = TypeVar("E", bound=WinEnum)

#: A zone entry whose ZoneType is null: inventory.ps1 writes one for a zone named in -ZoneName
#: that does not exist (its Errors then hold 9601). Zone.zone_type cannot be None, so such a zone
#: gets this unknown ZoneType; dump_inventory writes it back as null.
UNKNOWN_ZONE_TYPE = ZoneType("Unknown")

_UINT32 = 2**32 - 1


def _opt(rec: Record, name: str, conv: Callable[[Any, str], T | None]) -> T | None:
    value, path = rec.get(name)
    # Every coercer reads JSON null as None: skip the call for the many null properties.
    return None if value is MISSING or value is None else conv(value, path)


def _req(rec: Record, name: str, conv: Callable[[Any, str], T | None]) -> T:
    value, path = rec.get(name)
    if value is MISSING:
        fail(path, "required property is missing")
    out = conv(value, path)
    if out is None:
        fail(path, "required property is null or blank")
    return out


def _enum(rec: Record, cls: type[E], name: str) -> E | None:
    return _opt(rec, name, lambda v, p: as_enum(cls, v, p))


def _req_enum(rec: Record, cls: type[E], name: str) -> E:
    return _req(rec, name, lambda v, p: as_enum(cls, v, p))


def _int(rec: Record, name: str, lo: int, hi: int) -> int | None:
    return _opt(rec, name, lambda v, p: as_int(v, p, lo=lo, hi=hi))


def _build(cls: Callable[..., T], path: str, **fields: Any) -> T:
    try:
        return cls(**fields)
    except (ValueError, TypeError) as exc:
        fail(path, str(exc))


def _zone_name(rec: Record, zone: str | None) -> str:
    """ZoneName, or the enclosing zone's name when a nested record leaves it out."""
    value, path = rec.get("ZoneName")
    name = None if value is MISSING else as_str(value, path)
    if name is None:
        if zone is None:
            fail(path, "required property is missing" if value is MISSING else "ZoneName is null or blank")
        return zone
    if zone is not None and zone_key(name) != zone_key(zone):
        fail(path, f"record of zone {name!r} inside zone {zone!r}")
    return name


# -- signing keys ---------------------------------------------------------------------------------
def signing_key_from_json(obj: Any, path: str = "$", *, zone: str | None = None) -> SigningKey:
    """One ``DnsServerSigningKey`` (Get-DnsServerSigningKey, reference 1.1)."""
    rec = Record(obj, path)
    return _build(
        SigningKey,
        path,
        zone=_zone_name(rec, zone),
        key_id=_req(rec, "KeyId", as_guid),
        key_type=_req_enum(rec, KeyType, "KeyType"),
        algorithm=_req_enum(rec, CryptoAlgorithm, "CryptoAlgorithm"),
        key_length=_int(rec, "KeyLength", 1, 16384),
        current_state=_enum(rec, KeyState, "CurrentState"),
        key_storage_provider=_opt(rec, "KeyStorageProvider", as_str),
        store_keys_in_ad=_opt(rec, "StoreKeysInAD", as_bool),
        dnskey_signature_validity=_opt(rec, "DnsKeySignatureValidityPeriod", as_timedelta),
        ds_signature_validity=_opt(rec, "DSSignatureValidityPeriod", as_timedelta),
        zone_signature_validity=_opt(rec, "ZoneSignatureValidityPeriod", as_timedelta),
        initial_rollover_offset=_opt(rec, "InitialRolloverOffset", as_timedelta),
        rollover_period=_opt(rec, "RolloverPeriod", as_timedelta),
        rollover_type=_enum(rec, RolloverType, "RolloverType"),
        next_rollover_action=_enum(rec, NextRolloverAction, "NextRolloverAction"),
        last_rollover_time=_opt(rec, "LastRolloverTime", as_datetime),
        next_rollover_time=_opt(rec, "NextRolloverTime", as_datetime),
        current_rollover_status=_enum(rec, RolloverStatus, "CurrentRolloverStatus"),
        active_key=_opt(rec, "ActiveKey", as_str),
        standby_key=_opt(rec, "StandbyKey", as_str),
        next_key=_opt(rec, "NextKey", as_str),
        is_rollover_enabled=_opt(rec, "IsRolloverEnabled", as_bool),
    )


# -- zone DNSSEC settings -------------------------------------------------------------------------
def zone_settings_from_json(obj: Any, path: str = "$", *, zone: str | None = None) -> ZoneDnssecSettings:
    """One ``DnsServerDnsSecZoneSetting`` (Get-DnsServerDnsSecZoneSetting, reference 1.2)."""
    rec = Record(obj, path)
    return _build(
        ZoneDnssecSettings,
        path,
        zone=_zone_name(rec, zone),
        denial_of_existence=_enum(rec, DenialOfExistence, "DenialOfExistence"),
        nsec3_hash_algorithm=_opt(rec, "NSec3HashAlgorithm", as_str),
        nsec3_iterations=_int(rec, "NSec3Iterations", 0, 65535),
        nsec3_opt_out=_opt(rec, "NSec3OptOut", as_bool),
        nsec3_random_salt_length=_int(rec, "NSec3RandomSaltLength", 0, 255),
        nsec3_user_salt=_opt(rec, "NSec3UserSalt", as_salt),
        nsec3_current_salt=_opt(rec, "NSec3CurrentSalt", as_str),
        distribute_trust_anchor=as_str_tuple(*rec.get("DistributeTrustAnchor"))
        if rec.has("DistributeTrustAnchor")
        else (),
        enable_rfc5011_key_rollover=_opt(rec, "EnableRfc5011KeyRollover", as_bool),
        ds_record_generation_algorithm=as_enums(DsDigest, *rec.get("DSRecordGenerationAlgorithm"))
        if rec.has("DSRecordGenerationAlgorithm")
        else (),
        ds_record_set_ttl=_opt(rec, "DSRecordSetTtl", as_timedelta),
        dnskey_record_set_ttl=_opt(rec, "DnsKeyRecordSetTtl", as_timedelta),
        signature_inception_offset=_opt(rec, "SignatureInceptionOffset", as_timedelta),
        secure_delegation_polling_period=_opt(rec, "SecureDelegationPollingPeriod", as_timedelta),
        propagation_time=_opt(rec, "PropagationTime", as_timedelta),
        parent_has_secure_delegation=_opt(rec, "ParentHasSecureDelegation", as_bool),
        is_key_master_server=_opt(rec, "IsKeyMasterServer", as_bool),
        key_master_server=_opt(rec, "KeyMasterServer", as_str),
        key_master_status=_enum(rec, KeyMasterStatus, "KeyMasterStatus"),
        is_signed=_opt(rec, "IsSigned", as_bool),
    )


# -- errors ---------------------------------------------------------------------------------------
def zone_error_from_json(obj: Any, path: str = "$", *, zone: str | None = None) -> ZoneError:
    """One ``Errors`` entry ``{Stage, Code, Message, FullyQualifiedErrorId}`` (inventory schema).

    A null Code is derived from ``FullyQualifiedErrorId`` ("WIN32 9104,Cmdlet", reference 2).
    """
    rec = Record(obj, path)
    fqid = _opt(rec, "FullyQualifiedErrorId", as_str)
    code = _int(rec, "Code", -(2**31), _UINT32)
    if code is None:
        code = parse_win32_code(fqid)[0]
    return _build(
        ZoneError,
        path,
        stage=_opt(rec, "Stage", as_str) or "",
        message=_opt(rec, "Message", as_str) or "",
        code=code,
        fully_qualified_error_id=fqid,
        zone=zone,
    )


# -- zones ----------------------------------------------------------------------------------------
def zone_head_from_json(rec: Record) -> dict[str, Any]:
    """A zone record's own properties (not its settings, keys or errors), as ``Zone`` fields."""
    return {
        "zone_type": _enum(rec, ZoneType, "ZoneType") or UNKNOWN_ZONE_TYPE,
        # IsSigned exists on primary zones only (reference 1.4): absent stays None.
        "is_signed": _opt(rec, "IsSigned", as_bool),
        "is_ds_integrated": bool(_opt(rec, "IsDsIntegrated", as_bool)),
        "is_reverse_lookup_zone": bool(_opt(rec, "IsReverseLookupZone", as_bool)),
        "is_auto_created": bool(_opt(rec, "IsAutoCreated", as_bool)),
        "replication_scope": _enum(rec, ReplicationScope, "ReplicationScope"),
    }


def zone_from_json(obj: Any, path: str = "$") -> Zone:
    """One zone: a ``Zones[]`` entry of our inventory, or a raw ``DnsServerZone`` record.

    Raw Get-DnsServerZone records simply have no ``DnsSecSetting``/``SigningKeys``/``Errors``.
    Strict: the first bad value anywhere in the zone raises (``normalise_inventory`` instead
    keeps a bad value inside a zone as an error of that zone, see ``inventory``).
    """
    rec = Record(obj, path)
    name = _req(rec, "ZoneName", as_str)
    head = zone_head_from_json(rec)

    dnssec = None
    value, vpath = rec.get("DnsSecSetting")
    if value is not MISSING and value is not None:
        dnssec = zone_settings_from_json(value, vpath, zone=name)

    keys: list[SigningKey] = []
    value, vpath = rec.get("SigningKeys")
    if value is not MISSING:
        keys = [signing_key_from_json(item, p, zone=name) for item, p in as_items(value, vpath)]

    errors: list[ZoneError] = []
    value, vpath = rec.get("Errors")
    if value is not MISSING:
        errors = [zone_error_from_json(item, p, zone=name) for item, p in as_items(value, vpath)]

    return _build(Zone, path, name=name, **head, dnssec=dnssec, keys=tuple(keys), errors=tuple(errors))


# -- trust anchors and points ---------------------------------------------------------------------
def trust_anchor_from_json(obj: Any, path: str = "$") -> TrustAnchor:
    """One ``DnsServerTrustAnchor`` (Get-DnsServerTrustAnchor, reference 1.5).

    Our script lifts ``CryptoAlgorithm``/``DigestType`` out of the embedded ``TrustAnchorData``
    record; raw output keeps them inside it, so that is read when the top level lacks them.
    """
    rec = Record(obj, path)
    data: Record | None = None
    value, vpath = rec.get("TrustAnchorData")
    if isinstance(value, dict):
        data = Record(value, vpath)

    def lifted(name: str) -> Record:
        return data if (not rec.has(name) and data is not None and data.has(name)) else rec

    return _build(
        TrustAnchor,
        path,
        name=_req(rec, "TrustAnchorName", as_str),
        anchor_type=_req_enum(rec, TrustAnchorType, "TrustAnchorType"),
        state=_req_enum(rec, TrustAnchorState, "TrustAnchorState"),
        key_tag=_int(lifted("KeyTag"), "KeyTag", 0, 65535),
        algorithm=_enum(lifted("CryptoAlgorithm"), CryptoAlgorithm, "CryptoAlgorithm"),
        digest_type=_enum(lifted("DigestType"), DsDigest, "DigestType"),
        entered_state_time=_opt(rec, "EnteredStateTime", as_datetime),
        next_state_time=_opt(rec, "NextStateTime", as_datetime),
    )


def trust_point_from_json(obj: Any, path: str = "$") -> TrustPoint:
    """One ``DnsServerTrustPoint`` (Get-DnsServerTrustPoint, reference 1.5)."""
    rec = Record(obj, path)
    return _build(
        TrustPoint,
        path,
        name=_req(rec, "TrustPointName", as_str),
        state=_req_enum(rec, TrustAnchorState, "TrustPointState"),
        last_active_refresh_time=_opt(rec, "LastActiveRefreshTime", as_datetime),
        next_active_refresh_time=_opt(rec, "NextActiveRefreshTime", as_datetime),
        last_successful_active_refresh_time=_opt(rec, "LastSuccessfulActiveRefreshTime", as_datetime),
        last_active_refresh_result=_int(rec, "LastActiveRefreshResult", 0, _UINT32),
        last_active_refresh_result_description=_opt(rec, "LastActiveRefreshResultDescription", as_str),
    )


# -- server ---------------------------------------------------------------------------------------
def server_settings_from_json(obj: Any, path: str = "$") -> ServerDnssecSettings:
    """DNSSEC members of ``DnsServerSetting`` (Get-DnsServerSetting -All, reference 1.7)."""
    rec = Record(obj, path)
    return _build(
        ServerDnssecSettings,
        path,
        enable_dnssec=_opt(rec, "EnableDnsSec", as_bool),
        enable_online_signing=_opt(rec, "EnableOnlineSigning", as_bool),
        maximum_signature_scan_period=_opt(rec, "MaximumSignatureScanPeriod", as_timedelta),
        maximum_trust_anchor_active_refresh_interval=_opt(
            rec, "MaximumTrustAnchorActiveRefreshInterval", as_timedelta
        ),
        root_trust_anchors_url=_opt(rec, "RootTrustAnchorsURL", as_str),
    )


def server_identity_from_json(obj: Any, path: str = "$", *, name: str | None = None) -> ServerInfo:
    """The inventory's ``Server`` member, or a raw ``DnsServerSetting`` record, without its
    DNSSEC settings (all unknown): name, OS and DNS version.

    The raw record has the DNS version as ``MajorVersion``/``MinorVersion``/``BuildNumber``,
    which is how our script builds DnsVersion. ``name`` is used when the record has no
    ``ComputerName``.
    """
    rec = Record(obj, path)
    computer = _opt(rec, "ComputerName", as_str) or name
    if computer is None:
        fail(rec.get("ComputerName")[1], "required property is missing")
    dns_version = _opt(rec, "DnsVersion", as_str)
    if dns_version is None and rec.has("MajorVersion"):
        parts = [_int(rec, n, 0, _UINT32) for n in ("MajorVersion", "MinorVersion", "BuildNumber")]
        dns_version = ".".join(str(p) for p in parts if p is not None) or None
    return _build(
        ServerInfo,
        path,
        name=computer,
        os_version=_opt(rec, "OsVersion", as_str),
        dns_version=dns_version,
    )


def server_record_settings(obj: Any, path: str = "$") -> ServerDnssecSettings:
    """The DNSSEC settings of a server record: its ``Settings`` member (our inventory), or the
    record itself (raw ``DnsServerSetting``, which has them at the top level)."""
    rec = Record(obj, path)
    value, vpath = rec.get("Settings")
    if value is MISSING:
        return server_settings_from_json(obj, path)
    if value is None:
        return ServerDnssecSettings()
    return server_settings_from_json(value, vpath)


def server_info_from_json(obj: Any, path: str = "$", *, name: str | None = None) -> ServerInfo:
    """The inventory's ``Server`` member, or a raw ``DnsServerSetting`` record (see
    ``server_identity_from_json`` and ``server_record_settings``)."""
    info = server_identity_from_json(obj, path, name=name)
    return _build(
        ServerInfo,
        path,
        name=info.name,
        os_version=info.os_version,
        dns_version=info.dns_version,
        settings=server_record_settings(obj, path),
    )
