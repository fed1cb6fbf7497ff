"""Descriptor builders for rule, policy and renderer tests: a healthy server and small mutations.

The healthy server is clean under every built-in profile's thresholds with every rule selected,
so each rule test can show one mutation that triggers the rule and the baseline that does not.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.model import (
    ServerDnssecSettings,
    ServerInfo,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
)
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    ReplicationScope,
    RolloverStatus,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
    ZoneType,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVER = "DNS1.corp.example"
ZONE = "corp.example"
H = timedelta(hours=1)
D = timedelta(days=1)


def key(kind: str = "KSK", n: int = 1, zone: str = ZONE, **kw: Any) -> SigningKey:
    ksk = kind == "KSK"
    base: dict[str, Any] = dict(
        zone=zone,
        key_id=f"00000000-0000-0000-0000-{n:012d}",
        key_type=KeyType.KSK if ksk else KeyType.ZSK,
        algorithm=CryptoAlgorithm.RSASHA256,
        key_length=2048,
        current_state=KeyState.ACTIVE,
        store_keys_in_ad=True,
        dnskey_signature_validity=168 * H,
        ds_signature_validity=168 * H,
        zone_signature_validity=240 * H,
        rollover_period=(365 if ksk else 90) * D,
        rollover_type=RolloverType.DOUBLE_SIGNATURE if ksk else RolloverType.PREPUBLISH,
        next_rollover_time=NOW + 100 * D,
        current_rollover_status=RolloverStatus.NOT_ROLLING,
        is_rollover_enabled=True,
    )
    base.update(kw)
    return SigningKey(**base)


def settings(zone: str = ZONE, **kw: Any) -> ZoneDnssecSettings:
    base: dict[str, Any] = dict(
        zone=zone,
        denial_of_existence=DenialOfExistence.NSEC3,
        nsec3_iterations=0,
        nsec3_opt_out=False,
        nsec3_random_salt_length=0,
        distribute_trust_anchor=("DnsKey",),
        ds_record_generation_algorithm=(DsDigest.SHA256,),
        ds_record_set_ttl=H,
        dnskey_record_set_ttl=H,
        propagation_time=2 * D,
        parent_has_secure_delegation=True,
        is_key_master_server=True,
        key_master_server=SERVER,
        key_master_status=KeyMasterStatus.ONLINE,
        is_signed=True,
    )
    base.update(kw)
    return ZoneDnssecSettings(**base)


def zone(name: str = ZONE, keys: tuple[SigningKey, ...] | None = None, **kw: Any) -> Zone:
    if keys is None:
        keys = (key("KSK", 1, zone=name), key("ZSK", 2, zone=name))
    base: dict[str, Any] = dict(
        name=name,
        zone_type=ZoneType.PRIMARY,
        is_signed=True,
        is_ds_integrated=True,
        replication_scope=ReplicationScope.DOMAIN,
        dnssec=settings(name),
        keys=keys,
    )
    base.update(kw)
    return Zone(**base)


def inventory(*zones: Zone, **kw: Any) -> ServerInventory:
    base: dict[str, Any] = dict(
        server=ServerInfo(
            name=SERVER,
            os_version="Microsoft Windows Server 2022 Datacenter",
            settings=ServerDnssecSettings(
                enable_dnssec=True,
                enable_online_signing=True,
                maximum_signature_scan_period=2 * D,
            ),
        ),
        zones=zones or (zone(),),
        trust_anchors=(TrustAnchor(".", TrustAnchorType.DS, TrustAnchorState.VALID, key_tag=20326),),
        trust_points=(TrustPoint(".", TrustAnchorState.ACTIVE, last_active_refresh_result=0),),
        collected_at=NOW,
    )
    base.update(kw)
    return ServerInventory(**base)


def replace_key(z: Zone, index: int, **kw: Any) -> Zone:
    keys = list(z.keys)
    keys[index] = dataclasses.replace(keys[index], **kw)
    return dataclasses.replace(z, keys=tuple(keys))


def with_settings(z: Zone, **kw: Any) -> Zone:
    assert z.dnssec is not None
    return dataclasses.replace(z, dnssec=dataclasses.replace(z.dnssec, **kw))
