"""Descriptors: frozen, typed, validated views of what a Windows DNS server reports.

Descriptors never see JSON (that is ``toolkit.normalise``'s job) and rules never see dicts.
Every collection is a tuple, every object frozen; derive changed copies with
``dataclasses.replace`` (which re-runs validation).

Times are timezone-aware UTC ``datetime``; intervals (TimeSpans on Windows) are ``timedelta``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    ZoneType,
)
from toolkit.model.names import zone_key

__all__ = [
    "INVENTORY_SCHEMA",
    "INVENTORY_SCHEMA_VERSION",
    "ServerDnssecSettings",
    "ServerInfo",
    "ServerInventory",
    "SigningKey",
    "TrustAnchor",
    "TrustPoint",
    "Zone",
    "ZoneDnssecSettings",
    "ZoneError",
]

INVENTORY_SCHEMA = "windns.inventory"
INVENTORY_SCHEMA_VERSION = 2


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")


_ZERO = timedelta(0)


def _check_nonneg(name: str, value: timedelta | None) -> None:
    if value is not None and value < _ZERO:
        raise ValueError(f"{name} must not be negative, got {value!r}")


@dataclass(frozen=True, slots=True)
class ZoneError:
    """A failure the inventory recorded for one zone (or one server-level section).

    ``stage`` names the cmdlet that failed (``Get-DnsServerSigningKey``); ``code`` is the Win32
    code when the server gave one.
    """

    stage: str
    message: str
    code: int | None = None
    fully_qualified_error_id: str | None = None
    zone: str | None = None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One ``DnsServerSigningKey`` (Get-DnsServerSigningKey), reference section 1.1."""

    zone: str
    key_id: str  # lower-case GUID without braces
    key_type: KeyType
    algorithm: CryptoAlgorithm
    key_length: int | None = None
    current_state: KeyState | None = None
    key_storage_provider: str | None = None
    store_keys_in_ad: bool | None = None
    dnskey_signature_validity: timedelta | None = None
    ds_signature_validity: timedelta | None = None
    zone_signature_validity: timedelta | None = None
    initial_rollover_offset: timedelta | None = None
    rollover_period: timedelta | None = None
    rollover_type: RolloverType | None = None
    next_rollover_action: NextRolloverAction | None = None
    last_rollover_time: datetime | None = None
    next_rollover_time: datetime | None = None
    current_rollover_status: RolloverStatus | None = None
    active_key: str | None = None
    standby_key: str | None = None
    next_key: str | None = None
    is_rollover_enabled: bool | None = None

    def __post_init__(self) -> None:
        if not self.zone:
            raise ValueError("zone must not be empty")
        if not self.key_id:
            raise ValueError("key_id must not be empty")
        if self.key_length is not None and not 0 < self.key_length <= 16384:
            raise ValueError(f"key_length out of range: {self.key_length}")
        # Attributes read directly, not by name (a fleet's scan builds every key through here).
        _check_aware("last_rollover_time", self.last_rollover_time)
        _check_aware("next_rollover_time", self.next_rollover_time)
        _check_nonneg("dnskey_signature_validity", self.dnskey_signature_validity)
        _check_nonneg("ds_signature_validity", self.ds_signature_validity)
        _check_nonneg("zone_signature_validity", self.zone_signature_validity)
        _check_nonneg("initial_rollover_offset", self.initial_rollover_offset)
        _check_nonneg("rollover_period", self.rollover_period)

    @property
    def is_ksk(self) -> bool:
        return self.key_type is KeyType.KSK

    @property
    def is_zsk(self) -> bool:
        return self.key_type is KeyType.ZSK

    @property
    def is_active(self) -> bool:
        """A key is in use unless Windows says it is retired (CurrentState Active/blank)."""
        return self.current_state is not KeyState.RETIRED

    @property
    def rollover_enabled(self) -> bool:
        """IsRolloverEnabled when the server reported it; else a non-zero rollover period."""
        if self.is_rollover_enabled is not None:
            return self.is_rollover_enabled
        return bool(self.rollover_period and self.rollover_period > timedelta(0))


@dataclass(frozen=True, slots=True)
class ZoneDnssecSettings:
    """One ``DnsServerDnsSecZoneSetting`` (Get-DnsServerDnsSecZoneSetting), reference 1.2."""

    zone: str
    denial_of_existence: DenialOfExistence | None = None
    nsec3_hash_algorithm: str | None = None
    nsec3_iterations: int | None = None
    nsec3_opt_out: bool | None = None
    nsec3_random_salt_length: int | None = None
    nsec3_user_salt: str | None = None  # None when Windows shows "-"
    nsec3_current_salt: str | None = None
    distribute_trust_anchor: tuple[str, ...] = ()
    enable_rfc5011_key_rollover: bool | None = None
    ds_record_generation_algorithm: tuple[DsDigest, ...] = ()
    ds_record_set_ttl: timedelta | None = None
    dnskey_record_set_ttl: timedelta | None = None
    signature_inception_offset: timedelta | None = None
    secure_delegation_polling_period: timedelta | None = None
    propagation_time: timedelta | None = None
    parent_has_secure_delegation: bool | None = None
    is_key_master_server: bool | None = None
    key_master_server: str | None = None
    key_master_status: KeyMasterStatus | None = None
    is_signed: bool | None = None

    def __post_init__(self) -> None:
        if not self.zone:
            raise ValueError("zone must not be empty")
        if self.nsec3_iterations is not None and not 0 <= self.nsec3_iterations <= 65535:
            raise ValueError(f"nsec3_iterations out of range: {self.nsec3_iterations}")
        if self.nsec3_random_salt_length is not None and not 0 <= self.nsec3_random_salt_length <= 255:
            raise ValueError(f"nsec3_random_salt_length out of range: {self.nsec3_random_salt_length}")

    @property
    def salt_in_use(self) -> bool:
        """True when NSEC3 records carry a salt (user salt, or a random one of length > 0)."""
        if self.denial_of_existence is not DenialOfExistence.NSEC3:
            return False
        if self.nsec3_user_salt:
            return True
        if self.nsec3_current_salt and self.nsec3_current_salt != "-":
            return True
        return bool(self.nsec3_random_salt_length)

    @property
    def distributes_trust_anchor(self) -> bool:
        return any(v.lower() == "dnskey" for v in self.distribute_trust_anchor)


@dataclass(frozen=True, slots=True)
class Zone:
    """One zone (Get-DnsServerZone) with its DNSSEC settings, keys and per-zone errors."""

    name: str
    zone_type: ZoneType
    is_signed: bool | None = None  # absent (None) on secondary/stub/forwarder zones
    is_ds_integrated: bool = False
    is_reverse_lookup_zone: bool = False
    is_auto_created: bool = False
    replication_scope: ReplicationScope | None = None
    dnssec: ZoneDnssecSettings | None = None
    keys: tuple[SigningKey, ...] = ()
    errors: tuple[ZoneError, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("zone name must not be empty")
        name = self.name
        for k in self.keys:
            if k.zone != name and zone_key(k.zone) != zone_key(name):
                raise ValueError(f"key {k.key_id} belongs to zone {k.zone!r}, not {self.name!r}")

    @property
    def signed(self) -> bool:
        """Signed per Get-DnsServerZone, falling back to the DNSSEC setting's IsSigned."""
        if self.is_signed is not None:
            return self.is_signed
        return bool(self.dnssec and self.dnssec.is_signed)

    @property
    def ksks(self) -> tuple[SigningKey, ...]:
        return tuple(k for k in self.keys if k.is_ksk)

    @property
    def zsks(self) -> tuple[SigningKey, ...]:
        return tuple(k for k in self.keys if k.is_zsk)


@dataclass(frozen=True, slots=True)
class ServerDnssecSettings:
    """DNSSEC members of ``DnsServerSetting`` (Get-DnsServerSetting -All), reference 1.7."""

    enable_dnssec: bool | None = None
    enable_online_signing: bool | None = None
    maximum_signature_scan_period: timedelta | None = None
    maximum_trust_anchor_active_refresh_interval: timedelta | None = None
    root_trust_anchors_url: str | None = None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    name: str
    os_version: str | None = None
    dns_version: str | None = None
    settings: ServerDnssecSettings = field(default_factory=ServerDnssecSettings)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("server name must not be empty")


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    """One ``DnsServerTrustAnchor`` (Get-DnsServerTrustAnchor), reference 1.5."""

    name: str
    anchor_type: TrustAnchorType
    state: TrustAnchorState
    key_tag: int | None = None
    algorithm: CryptoAlgorithm | None = None
    digest_type: DsDigest | None = None
    entered_state_time: datetime | None = None
    next_state_time: datetime | None = None

    def __post_init__(self) -> None:
        if self.key_tag is not None and not 0 <= self.key_tag <= 65535:
            raise ValueError(f"key_tag out of range: {self.key_tag}")
        _check_aware("entered_state_time", self.entered_state_time)
        _check_aware("next_state_time", self.next_state_time)


@dataclass(frozen=True, slots=True)
class TrustPoint:
    """One ``DnsServerTrustPoint`` (Get-DnsServerTrustPoint), reference 1.5."""

    name: str
    state: TrustAnchorState
    last_active_refresh_time: datetime | None = None
    next_active_refresh_time: datetime | None = None
    last_successful_active_refresh_time: datetime | None = None
    last_active_refresh_result: int | None = None
    last_active_refresh_result_description: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "last_active_refresh_time",
            "next_active_refresh_time",
            "last_successful_active_refresh_time",
        ):
            _check_aware(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class ServerInventory:
    """Everything one inventory run collected from one server.

    ``errors`` holds failures of server-level sections (trust anchors, settings); per-zone
    failures live on each ``Zone``. ``source`` says where the data came from: ``inventory``
    (our script) or ``cmdlet`` (raw cmdlet output saved by an admin).
    """

    server: ServerInfo
    zones: tuple[Zone, ...] = ()
    trust_anchors: tuple[TrustAnchor, ...] = ()
    trust_points: tuple[TrustPoint, ...] = ()
    errors: tuple[ZoneError, ...] = ()
    collected_at: datetime | None = None
    source: str = "inventory"
    schema_version: int = INVENTORY_SCHEMA_VERSION

    def __post_init__(self) -> None:
        _check_aware("collected_at", self.collected_at)
        seen: set[str] = set()
        for z in self.zones:
            key = zone_key(z.name)
            if key in seen:
                raise ValueError(f"zone {z.name!r} appears twice")
            seen.add(key)

    def zone(self, name: str) -> Zone | None:
        key = zone_key(name)
        for z in self.zones:
            if zone_key(z.name) == key:
                return z
        return None

    def iter_keys(self) -> Iterator[SigningKey]:
        for z in self.zones:
            yield from z.keys

    def replace(self, **changes: object) -> ServerInventory:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
