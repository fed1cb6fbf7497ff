"""Pre-flight guard: each refusal, and agreement with the simulated server on Windows's rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from toolkit.dnsview.descriptors import DsRecord, PublishedKey
from toolkit.errors import CmdletError, GuardError
from toolkit.guard import KskChange, ParentDs, check, ksk_changes, parent_ds_refusal, preflight
from toolkit.model import (
    CryptoAlgorithm,
    KeyType,
    ServerInventory,
    SigningKey,
    Zone,
    ZoneDnssecSettings,
)
from toolkit.model.enums import ZoneType
from toolkit.services.audit import collect
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet, SimulatedServer


def _inv(server: SimulatedServer, zone: str) -> ServerInventory:
    return collect(FakeRemote(server), [zone])


def _key_id(server: SimulatedServer, zone: str, key_type: str) -> str:
    z = server.find_zone(zone)
    assert z is not None
    return str(next(k for k in z["SigningKeys"] if k["KeyType"] == key_type)["KeyId"])


def _ksk(s: SimulatedServer, z: str) -> str:
    return _key_id(s, z, "KeySigningKey")


def _zsk(s: SimulatedServer, z: str) -> str:
    return _key_id(s, z, "ZoneSigningKey")


# (server, script, params builder, Win32 code) - Windows refuses each of these too.
WINDOWS_CASES: list[tuple[str, str, Any, int]] = [
    ("dns1", "key_remove", lambda s: {"ZoneName": "corp.example", "KeyId": [_zsk(s, "corp.example")]}, 9104),
    ("dns1", "key_remove", lambda s: {"ZoneName": "corp.example", "KeyId": [_ksk(s, "corp.example")]}, 9104),
    ("dns1", "zone_sign", lambda s: {"ZoneName": "staging.corp.example"}, 9104),
    (
        "dns1",
        "key_add",
        lambda s: {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey", "KeyLength": 1000},
        9106,
    ),
    # a length no key can have: the guard must refuse it, not fail building its model of the key
    (
        "dns1",
        "key_add",
        lambda s: {"ZoneName": "corp.example", "KeyType": "KeySigningKey", "KeyLength": 0},
        9106,
    ),
    (
        "dns1",
        "key_add",
        lambda s: {
            "ZoneName": "corp.example",
            "KeyType": "KeySigningKey",
            "RolloverPeriodSeconds": 7301 * 86400,
        },
        9114,
    ),
    (
        "dns1",
        "key_add",
        lambda s: {
            "ZoneName": "corp.example",
            "KeyType": "KeySigningKey",
            "InitialRolloverOffsetSeconds": 40 * 86400,
        },
        9115,
    ),
    (
        "dns1",
        "key_add",
        lambda s: {
            "ZoneName": "corp.example",
            "KeyType": "KeySigningKey",
            "DSSignatureValidityPeriodSeconds": 5 * 3600,
        },
        9123,
    ),
    (
        "dns1",
        "key_add",
        lambda s: {"ZoneName": "corp.example", "KeyType": "KeySigningKey", "CryptoAlgorithm": "RsaSha1"},
        9103,
    ),
    (
        "dns1",
        "key_add",
        lambda s: {
            "ZoneName": "ecdsa.corp.example",
            "KeyType": "KeySigningKey",
            "CryptoAlgorithm": "RsaSha1NSec3",
        },
        9130,
    ),
    (
        "dns1",
        "zone_dnssec_set",
        lambda s: {"ZoneName": "legacy.corp.example", "DenialOfExistence": "NSec3"},
        9103,
    ),
    ("dns1", "zone_dnssec_set", lambda s: {"ZoneName": "corp.example", "NSec3Iterations": 151}, 9124),
    ("dns2", "key_add", lambda s: {"ZoneName": "branch.corp.example", "KeyType": "ZoneSigningKey"}, 9101),
    (
        "dns2",
        "key_rollover",
        lambda s: {
            "Action": "now",
            "ZoneName": "rollover.corp.example",
            "KeyId": _ksk(s, "rollover.corp.example"),
        },
        9116,
    ),
    (
        "dns1",
        "key_rollover",
        lambda s: {"Action": "step", "ZoneName": "corp.example", "KeyId": _ksk(s, "corp.example")},
        9128,
    ),
    (
        "dns1",
        "key_rollover",
        lambda s: {
            "Action": "now",
            "ZoneName": "staging.corp.example",
            "KeyId": _ksk(s, "staging.corp.example"),
        },
        9121,
    ),
    ("dns1", "zone_unsign", lambda s: {"ZoneName": "staging.corp.example"}, 9121),
    ("dns1", "zone_export_keys", lambda s: {"ZoneName": "staging.corp.example"}, 9121),
    ("dns1", "zone_sign", lambda s: {"ZoneName": "corp.example"}, 9102),
    ("dns1", "zone_sign", lambda s: {"ZoneName": "staging.corp.example", "SignWithDefault": True}, 9102),
    ("dns1", "key_add", lambda s: {"ZoneName": "nope.corp.example", "KeyType": "KeySigningKey"}, 9601),
    ("dns2", "zone_sign", lambda s: {"ZoneName": "partner.example", "SignWithDefault": True}, 9611),
]


@pytest.mark.parametrize(
    ("host", "script", "build", "code"),
    WINDOWS_CASES,
    ids=[f"{c[1]}-{c[3]}-{i}" for i, c in enumerate(WINDOWS_CASES)],
)
def test_guard_and_simulator_agree(fleet: Fleet, host: str, script: str, build: Any, code: int) -> None:
    server = fleet.get(host)
    params = build(server)
    zone = params["ZoneName"]
    with pytest.raises(GuardError) as refused:
        check(_inv(server, zone), script, params)
    assert refused.value.code == code
    assert f"({code}, 0x{code:04X})" in str(refused.value)  # catalogue description
    assert "To proceed:" in str(refused.value) and "Nothing was sent" in str(refused.value)
    with pytest.raises(CmdletError) as answered:
        server.run(script, params)
    assert answered.value.code == code


@pytest.mark.parametrize("length", [-5, 99999999999])
def test_a_length_the_script_cannot_bind_is_refused_by_both(fleet: Fleet, length: int) -> None:
    # The guard must refuse a length no key can have (not fail building its model of the key).
    # Windows refuses it before Add-DnsServerSigningKey runs: key_add.ps1 L14 declares
    # [uint32]$KeyLength, and -5 or 99999999999 does not convert, so PowerShell's parameter binding
    # fails, with no Win32 code.
    server = fleet.get("dns1")
    params = {"ZoneName": "corp.example", "KeyType": "KeySigningKey", "KeyLength": length}
    with pytest.raises(GuardError) as refused:
        check(_inv(server, "corp.example"), "key_add", params)
    assert refused.value.code == 9106
    with pytest.raises(CmdletError) as answered:
        server.run("key_add", params)
    assert answered.value.code is None
    assert answered.value.fully_qualified_error_id == "ParameterArgumentTransformationError,key_add"


def test_too_many_keys_9113(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    for _ in range(2):
        dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "KeySigningKey"})
    with pytest.raises(GuardError) as exc:
        check(
            _inv(dns1, "corp.example"),
            "key_add",
            {"ZoneName": "corp.example", "KeyType": "KeySigningKey", "CryptoAlgorithm": "RsaSha256"},
        )
    assert exc.value.code == 9113


def test_removing_active_key_with_spare_is_9119(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey"})
    with pytest.raises(GuardError) as exc:
        check(
            _inv(dns1, "corp.example"),
            "key_remove",
            {"ZoneName": "corp.example", "KeyId": [_zsk(dns1, "corp.example")]},
        )
    assert exc.value.code == 9119


def test_no_active_key_counts_as_missing_9104(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey"})
    zone = dns1.find_zone("corp.example")
    assert zone is not None
    first, second = [k for k in zone["SigningKeys"] if k["KeyType"] == "ZoneSigningKey"]
    second["CurrentState"] = "Retired"
    result = preflight(
        _inv(dns1, "corp.example"), "key_remove", {"ZoneName": "corp.example", "KeyId": [first["KeyId"]]}
    )
    assert [r.code for r in result.refusals] == [9104, 9119]


def test_rollover_queued_9120(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    zone = dns1.find_zone("corp.example")
    assert zone is not None
    zone["SigningKeys"][1]["CurrentRolloverStatus"] = "Queued"
    with pytest.raises(GuardError) as exc:
        check(
            _inv(dns1, "corp.example"),
            "key_rollover",
            {"Action": "now", "ZoneName": "corp.example", "KeyId": zone["SigningKeys"][1]["KeyId"]},
        )
    assert exc.value.code == 9120


def test_unsign_with_secure_delegation_is_refused_without_win32_code(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    result = preflight(_inv(dns1, "corp.example"), "zone_unsign", {"ZoneName": "corp.example"})
    assert [r.code for r in result.refusals] == [None]
    assert "DS" in result.refusals[0].reason
    # Windows itself accepts it: the guard protects against a broken chain of trust.
    dns1.run("zone_unsign", {"ZoneName": "corp.example"})


def test_unreadable_keys_block_the_guard(fleet: Fleet) -> None:
    dns4 = fleet.get("dns4")
    result = preflight(
        _inv(dns4, "broken.branch.example"),
        "key_add",
        {"ZoneName": "broken.branch.example", "KeyType": "ZoneSigningKey"},
    )
    assert [r.code for r in result.refusals] == [9107]


def test_accepted_change_models_the_after_state(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    result = check(
        _inv(dns1, "nozsk.corp.example"),
        "key_add",
        {"ZoneName": "nozsk.corp.example", "KeyType": "ZoneSigningKey", "CryptoAlgorithm": "RsaSha256"},
    )
    assert result.ok and result.before is not None and result.after is not None
    assert len(result.before.zsks) == 0 and len(result.after.zsks) == 1
    removed = check(
        _inv(dns1, "staging.corp.example"),
        "key_remove",
        {"ZoneName": "staging.corp.example", "KeyId": [_ksk(dns1, "staging.corp.example")]},
    )
    assert removed.after is not None and removed.after.keys == ()


def test_unknown_key_is_refused(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    with pytest.raises(GuardError, match="no signing key"):
        check(
            _inv(dns1, "corp.example"),
            "key_set",
            {
                "ZoneName": "corp.example",
                "KeyId": "00000000-0000-0000-0000-000000000001",
                "RolloverPeriodSeconds": 90 * 86400,
            },
        )


@pytest.mark.parametrize("length", [0, 256, -1])
def test_nsec3_random_salt_length_outside_1_to_255_is_refused(fleet: Fleet, length: int) -> None:
    server = fleet.get("dns1")
    params = {"ZoneName": "nsec3.corp.example", "NSec3RandomSaltLength": length}
    result = preflight(_inv(server, "nsec3.corp.example"), "zone_dnssec_set", params)
    (refusal,) = result.refusals
    assert refusal.code is None and "1-255" in refusal.reason and result.after is None
    assert "--nsec3-salt -" in refusal.hint and "nsec3.corp.example" in refusal.hint
    if length == 0:
        # The guard's own rule ("for no salt, set NSec3UserSalt '-'"), not Windows's: 0 is what
        # zone_dnssec_set.ps1 itself sends with a user salt (L34-L36), and MS-DNSP 3.1.1.2.3 makes 0
        # mean "use the user salt". The simulated cmdlet takes it.
        out = server.run("zone_dnssec_set", params)
        assert out["NSec3RandomSaltLength"] == 0 and out["NSec3CurrentSalt"] == out["NSec3UserSalt"]
        return
    with pytest.raises(CmdletError) as answered:  # the simulated server refuses it too
        server.run("zone_dnssec_set", params)
    # 256 and -1 do not fit the script's [byte]$NSec3RandomSaltLength (zone_dnssec_set.ps1 L14):
    # PowerShell's parameter binding refuses them before the cmdlet runs.
    assert answered.value.fully_qualified_error_id == "ParameterArgumentTransformationError,zone_dnssec_set"


@pytest.mark.parametrize("length", [1, 255])
def test_nsec3_random_salt_length_bounds_are_accepted(fleet: Fleet, length: int) -> None:
    server = fleet.get("dns1")
    params = {"ZoneName": "nsec3.corp.example", "NSec3RandomSaltLength": length}
    result = preflight(_inv(server, "nsec3.corp.example"), "zone_dnssec_set", params)
    assert result.ok and result.after is not None and result.after.dnssec is not None
    assert result.after.dnssec.nsec3_random_salt_length == length


def test_no_salt_is_user_salt_dash(fleet: Fleet) -> None:
    server = fleet.get("dns1")
    before = _inv(server, "nsec3.corp.example").zone("nsec3.corp.example")
    assert before is not None and before.dnssec is not None and before.dnssec.salt_in_use
    result = check(
        _inv(server, "nsec3.corp.example"),
        "zone_dnssec_set",
        {"ZoneName": "nsec3.corp.example", "NSec3UserSalt": "-"},
    )
    assert result.after is not None and result.after.dnssec is not None
    assert result.after.dnssec.nsec3_user_salt is None and result.after.dnssec.nsec3_random_salt_length == 0


# -- the parent's DS before a KSK change (the DNS side: tests/test_parent_ds.py) -----------------
def _signed_zone(*ksks: tuple[str, str, int]) -> Zone:
    """A signed zone with these KSKs (key id, algorithm, length) and one ZSK."""
    keys = [
        SigningKey("z.example", kid, KeyType.KSK, CryptoAlgorithm(alg), length) for kid, alg, length in ksks
    ]
    keys.append(SigningKey("z.example", "zsk", KeyType.ZSK, CryptoAlgorithm.RSASHA256, 2048))
    return Zone(
        "z.example",
        ZoneType.PRIMARY,
        is_signed=True,
        dnssec=ZoneDnssecSettings("z.example", parent_has_secure_delegation=True),
        keys=tuple(keys),
    )


def _parent(keys: list[tuple[int, int, int]], anchored: set[int]) -> ParentDs:
    """Exported KSK DNSKEYs (key tag, algorithm number, length); DS records for the ``anchored`` tags."""
    published = tuple(PublishedKey("z.example.", tag, 257, alg, length, "AA==") for tag, alg, length in keys)
    ds = tuple(
        DsRecord("z.example.", tag, alg, 2, "00", matched_key_tag=tag)
        for tag, alg, _ in keys
        if tag in anchored
    )
    return ParentDs("z.example", "192.0.2.53:53", published, ds)


def _changes(zone: Zone, script: str, **params: Any) -> tuple[KskChange, ...]:
    return ksk_changes(zone, script, {"ZoneName": zone.name, **params})


def test_only_ksk_changes_of_signed_zones_put_the_ds_at_stake() -> None:
    zone = _signed_zone(("a", "RsaSha256", 2048))
    assert [c.action for c in _changes(zone, "key_rollover", Action="step", KeyId="a")] == ["step"]
    assert [c.action for c in _changes(zone, "key_rollover", Action="now", KeyId="{A}")] == ["now"]
    assert [c.action for c in _changes(zone, "key_set", KeyId="a", NextRolloverAction="retire")] == ["retire"]
    assert [c.action for c in _changes(zone, "key_remove", KeyId=["a", "zsk"])] == ["remove"]
    assert _changes(zone, "key_set", KeyId="a", NextRolloverAction="Normal") == ()
    assert _changes(zone, "key_rollover", Action="now", KeyId="zsk") == ()
    assert _changes(zone, "key_rollover", Action="enable", KeyId="a") == ()
    unsigned = dataclasses.replace(zone, is_signed=False)
    assert _changes(unsigned, "key_rollover", Action="now", KeyId="a") == ()


def test_a_step_needs_the_ds_of_the_new_ksk() -> None:
    zone = _signed_zone(("a", "RsaSha256", 2048))
    step = _changes(zone, "key_rollover", Action="step", KeyId="a")
    assert parent_ds_refusal(zone, step, _parent([(11, 8, 2048)], {11})) is None
    refused = parent_ds_refusal(zone, step, _parent([(11, 8, 2048)], set()))
    assert refused is not None and "no DS for the new KSK" in refused.reason and "11" in refused.reason
    # another KSK's DS does not stand in for the new one's
    two = _signed_zone(("a", "RsaSha256", 2048), ("b", "ECDsaP256Sha256", 256))
    step = _changes(two, "key_rollover", Action="step", KeyId="a")
    assert parent_ds_refusal(two, step, _parent([(11, 8, 2048), (22, 13, 256)], {22})) is not None
    missing = parent_ds_refusal(two, step, _parent([(22, 13, 256)], {22}))
    assert missing is not None and "exports no DNSKEY" in missing.reason


def test_withdrawing_a_ksk_needs_another_one_with_a_ds() -> None:
    two = _signed_zone(("a", "RsaSha256", 2048), ("b", "ECDsaP256Sha256", 256))
    keys = [(11, 8, 2048), (22, 13, 256)]
    retire_a = _changes(two, "key_set", KeyId="a", NextRolloverAction="Retire")
    assert parent_ds_refusal(two, retire_a, _parent(keys, {22})) is None  # b keeps the chain
    only = parent_ds_refusal(two, retire_a, _parent(keys, {11}))
    assert only is not None and "only KSK" in only.reason and only.code is None
    broken = parent_ds_refusal(two, retire_a, _parent(keys, set()))
    assert broken is not None and "no DS matching a KSK" in broken.reason


def test_same_algorithm_ksks_count_the_worst_case() -> None:
    # two KSKs of one algorithm and length: the export cannot say whose DNSKEY is whose
    two = _signed_zone(("a", "RsaSha256", 2048), ("b", "RsaSha256", 2048))
    keys = [(11, 8, 2048), (22, 8, 2048)]
    now_a = _changes(two, "key_rollover", Action="now", KeyId="a")
    assert parent_ds_refusal(two, now_a, _parent(keys, {11, 22})) is None
    assert parent_ds_refusal(two, now_a, _parent(keys, {22})) is not None


def test_no_delegation_no_chain_to_keep_but_a_step_still_waits_for_its_ds() -> None:
    zone = _signed_zone(("a", "RsaSha256", 2048))
    island = dataclasses.replace(
        zone, dnssec=ZoneDnssecSettings("z.example", parent_has_secure_delegation=False)
    )
    now = _changes(island, "key_rollover", Action="now", KeyId="a")
    assert parent_ds_refusal(island, now, _parent([(11, 8, 2048)], set())) is None
    step = _changes(island, "key_rollover", Action="step", KeyId="a")
    assert parent_ds_refusal(island, step, _parent([(11, 8, 2048)], set())) is not None
