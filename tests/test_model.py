from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import dns.dnssectypes
import pytest

from toolkit.model import (
    CryptoAlgorithm,
    DenialOfExistence,
    KeyState,
    KeyType,
    RolloverStatus,
    RolloverType,
    ServerInfo,
    ServerInventory,
    SigningKey,
    Zone,
    ZoneDnssecSettings,
    ZoneType,
)


def _key(**kw: object) -> SigningKey:
    base: dict[str, object] = {
        "zone": "a.example",
        "key_id": "7479d44e-4b3c-4fa6-8f6c-2b1cfa3e0001",
        "key_type": KeyType.KSK,
        "algorithm": CryptoAlgorithm.RSASHA256,
    }
    base.update(kw)
    return SigningKey(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("KeySigningKey", KeyType.KSK),
        ("keysigningkey", KeyType.KSK),
        ("ZSK", KeyType.ZSK),
        ("PrePublish", RolloverType.PREPUBLISH),
        ("NSEC3", DenialOfExistence.NSEC3),
        ("RSASHA256", CryptoAlgorithm.RSASHA256),
        ("13", CryptoAlgorithm.ECDSAP256SHA256),
        ("kskwaitingfordsupdate", RolloverStatus.KSK_WAITING_FOR_DS_UPDATE),
    ],
)
def test_enums_are_case_insensitive_with_aliases(text: str, member: object) -> None:
    assert type(member)(text) is member  # type: ignore[operator]


def test_unknown_enum_value_keeps_raw_text() -> None:
    v = RolloverStatus("KskWaitingForParentalConsent")
    assert not v.is_known
    assert v.value == "KskWaitingForParentalConsent"
    assert v != RolloverStatus.NOT_ROLLING
    assert RolloverStatus.NOT_ROLLING.is_known


@pytest.mark.parametrize(
    ("alg", "number"),
    [
        (CryptoAlgorithm.RSASHA1, dns.dnssectypes.Algorithm.RSASHA1),
        (CryptoAlgorithm.RSASHA1_NSEC3, dns.dnssectypes.Algorithm.RSASHA1NSEC3SHA1),
        (CryptoAlgorithm.RSASHA256, dns.dnssectypes.Algorithm.RSASHA256),
        (CryptoAlgorithm.RSASHA512, dns.dnssectypes.Algorithm.RSASHA512),
        (CryptoAlgorithm.ECDSAP256SHA256, dns.dnssectypes.Algorithm.ECDSAP256SHA256),
        (CryptoAlgorithm.ECDSAP384SHA384, dns.dnssectypes.Algorithm.ECDSAP384SHA384),
    ],
)
def test_algorithms_map_to_dnssec_numbers(alg: CryptoAlgorithm, number: int) -> None:
    assert alg.number == number
    assert CryptoAlgorithm("Ed25519").number is None


def test_descriptors_are_frozen_and_replace_revalidates() -> None:
    k = _key(key_length=2048)
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.key_length = 1024  # type: ignore[misc]
    assert dataclasses.replace(k, key_length=1024).key_length == 1024
    with pytest.raises(ValueError, match="key_length"):
        dataclasses.replace(k, key_length=-1)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"zone": ""}, "zone must not be empty"),
        ({"key_id": ""}, "key_id"),
        ({"next_rollover_time": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"rollover_period": timedelta(days=-1)}, "negative"),
    ],
)
def test_signing_key_validation(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _key(**kw)


def test_key_state_and_rollover_enabled_fallback() -> None:
    assert _key().is_active
    assert not _key(current_state=KeyState.RETIRED).is_active
    assert _key(rollover_period=timedelta(days=755)).rollover_enabled
    assert not _key(rollover_period=None).rollover_enabled
    assert not _key(rollover_period=timedelta(days=755), is_rollover_enabled=False).rollover_enabled


def test_zone_rejects_foreign_keys_and_splits_types() -> None:
    ksk, zsk = _key(), _key(key_id="b", key_type=KeyType.ZSK)
    z = Zone(name="A.example.", zone_type=ZoneType.PRIMARY, is_signed=True, keys=(ksk, zsk))
    assert z.ksks == (ksk,) and z.zsks == (zsk,)
    with pytest.raises(ValueError, match="belongs to zone"):
        Zone(name="b.example", zone_type=ZoneType.PRIMARY, keys=(ksk,))


def test_zone_signed_falls_back_to_dnssec_setting() -> None:
    s = ZoneDnssecSettings(zone="a.example", is_signed=True)
    assert Zone(name="a.example", zone_type=ZoneType.PRIMARY, dnssec=s).signed
    assert not Zone(name="a.example", zone_type=ZoneType.PRIMARY, is_signed=False, dnssec=s).signed


def test_salt_in_use() -> None:
    base = ZoneDnssecSettings(zone="a", denial_of_existence=DenialOfExistence.NSEC3)
    assert not base.salt_in_use
    assert dataclasses.replace(base, nsec3_random_salt_length=8).salt_in_use
    assert dataclasses.replace(base, nsec3_user_salt="abcd").salt_in_use
    nsec = dataclasses.replace(base, denial_of_existence=DenialOfExistence.NSEC, nsec3_random_salt_length=8)
    assert not nsec.salt_in_use


def test_inventory_lookup_and_duplicates() -> None:
    z = Zone(name="a.example", zone_type=ZoneType.PRIMARY, keys=(_key(),))
    inv = ServerInventory(server=ServerInfo(name="S"), zones=(z,), collected_at=datetime.now(UTC))
    assert inv.zone("A.EXAMPLE.") is z and inv.zone("b") is None
    assert list(inv.iter_keys()) == [z.keys[0]]
    with pytest.raises(ValueError, match="appears twice"):
        ServerInventory(server=ServerInfo(name="S"), zones=(z, z))


def test_zone_key_is_one_identity_for_every_spelling_of_a_zone() -> None:
    from toolkit.model import zone_key

    assert zone_key("Corp.Example.") == zone_key("corp.example") == "corp.example"
    assert zone_key(".") == zone_key("") == ""
    assert zone_key("TrustAnchors") == "trustanchors"
    assert zone_key("corp.example") != zone_key("corp.example.com")
