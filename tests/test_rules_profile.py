"""Zones alike share the hits of profile-only rules, and get exactly what judging each gives.

The engine judges a ``Rule(profile_only=True)`` once per zone profile within one evaluation
(``toolkit.rules.profile``). These tests clone drawn zones under other names, key ids, version
references, rollover times and NSEC3 salts (the fields a profile leaves out), and hold the
engine's findings to ``cache_facts=False``, which judges every rule on every zone afresh. A rule
declared profile-only that reads any of those fields gives a clone the wrong findings here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rules_fixtures import NOW, inventory
from tests.rules_fixtures import key as healthy_key
from tests.rules_fixtures import zone as healthy_zone
from tests.test_rules_cache import EVERYTHING, as_data, times, zones
from toolkit.findings import Severity
from toolkit.model import SigningKey, Zone, ZoneDnssecSettings
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    KeyState,
    KeyType,
    RolloverStatus,
    ZoneType,
)
from toolkit.policy import default_policy
from toolkit.rules import RULES, evaluate_rules
from toolkit.rules.base import _FILLED, _KEYED, FactsLike, Hit, Rule, ZoneContext
from toolkit.rules.profile import _KEY, _SETTINGS, _ZONE, IDENTITY, zone_profile

THRESHOLDS = default_policy().thresholds
NAMES = ["a.example", "TrustAnchors", "b.example.", "c.example", "corp.example"]
GUIDS = [f"{n:08x}-1111-2222-3333-444455556666" for n in range(64)]
salts = st.sampled_from([None, "-", "AABBCCDD", "0123456789ABCDEF"])


@st.composite
def clone(draw: st.DrawFn, zone: Zone, name: str) -> Zone:
    """``zone`` under ``name``, with other key ids, references, rollover times and salt."""
    ids = draw(
        st.lists(st.sampled_from(GUIDS), min_size=len(zone.keys), max_size=len(zone.keys), unique=True)
    )
    keys = tuple(
        dataclasses.replace(
            k,
            zone=name,
            key_id=key_id,
            active_key=draw(st.sampled_from([None, key_id, "{" + key_id + "}"])),
            standby_key=draw(st.sampled_from([None, key_id])),
            next_key=draw(st.sampled_from([None, key_id])),
            last_rollover_time=draw(times),
            next_rollover_time=draw(times),
        )
        for k, key_id in zip(zone.keys, ids, strict=True)
    )
    s = zone.dnssec
    dnssec = None if s is None else dataclasses.replace(s, zone=name, nsec3_current_salt=draw(salts))
    return dataclasses.replace(zone, name=name, keys=keys, dnssec=dnssec)


def _keys(change: Any) -> Any:
    return lambda z: dataclasses.replace(z, keys=tuple(map(change, z.keys)))


def _live(z: Zone) -> Zone:
    """A signed primary zone whose keys are active, rolling over automatically, not mid-rollover."""
    keys = tuple(
        dataclasses.replace(
            k,
            current_state=KeyState.ACTIVE,
            is_rollover_enabled=True,
            rollover_period=timedelta(days=30),
            current_rollover_status=RolloverStatus.NOT_ROLLING,
        )
        for k in z.keys
    )
    return dataclasses.replace(z, zone_type=ZoneType.PRIMARY, is_signed=True, keys=keys, errors=())


def _nsec3_unsalted(z: Zone) -> Zone:
    s = z.dnssec or ZoneDnssecSettings(zone=z.name)
    s = dataclasses.replace(
        s, denial_of_existence=DenialOfExistence.NSEC3, nsec3_random_salt_length=0, nsec3_user_salt=None
    )
    return dataclasses.replace(z, dnssec=s)


def _unsigned_primary(z: Zone) -> Zone:
    s = z.dnssec and dataclasses.replace(z.dnssec, is_signed=False)
    return dataclasses.replace(
        z, zone_type=ZoneType.PRIMARY, is_signed=False, is_auto_created=False, dnssec=s
    )


#: States in which what a check finds depends on what a profile leaves out (key ids in the
#: evidence, rollover times, the salt, the zone's name): drawn often, so that a rule wrongly
#: declared profile-only fails the test below within its examples.
TWEAKS: dict[str, Any] = {
    "retire every KSK": _keys(
        lambda k: dataclasses.replace(k, current_state=KeyState.RETIRED) if k.is_ksk else k
    ),
    "KSK waits for DS": _keys(
        lambda k: (
            dataclasses.replace(k, current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE)
            if k.is_ksk
            else k
        )
    ),
    "rollover error": _keys(
        lambda k: dataclasses.replace(k, current_rollover_status=RolloverStatus.ROLL_ERROR)
    ),
    "live keys": _live,
    "NSEC3 without a salt": _nsec3_unsalted,
    "unsigned primary": _unsigned_primary,
}


@st.composite
def bases(draw: st.DrawFn) -> Zone:
    zone = draw(zones("base.example"))
    for name in draw(st.lists(st.sampled_from(sorted(TWEAKS)), max_size=3, unique=True)):
        zone = TWEAKS[name](zone)
    return zone


@st.composite
def alike(draw: st.DrawFn) -> list[Zone]:
    """Two to five zones, each a clone of one of one or two drawn zones."""
    bases_ = [draw(bases()) for _ in range(draw(st.integers(1, 2)))]
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=5, unique=True))
    return [draw(clone(draw(st.sampled_from(bases_)), name)) for name in names]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alike(), st.sampled_from(sorted(EVERYTHING)))
def test_zones_alike_get_what_judging_each_gives(zs: list[Zone], profile: str) -> None:
    inv = inventory(*zs)
    shared = evaluate_rules(RULES, inv, EVERYTHING[profile], now=NOW)
    afresh = evaluate_rules(RULES, inv, EVERYTHING[profile], now=NOW, cache_facts=False)
    assert as_data(shared[0]) == as_data(afresh[0])
    assert as_data(shared[1]) == as_data(afresh[1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alike())
def test_zones_alike_get_the_facts_judging_each_gives(zs: list[Zone]) -> None:
    """``judging_like`` gives a zone of a profile the first zone's facts with its own keys in the
    same positions and its own settings: exactly what ``judging`` computes for it."""
    inv = inventory(*zs)
    first: dict[Any, FactsLike] = {}
    compared = 0
    for z in zs:
        profile = zone_profile(z)
        judged = ZoneContext.judging("s", inv, z, THRESHOLDS, NOW)
        if profile is None:
            continue
        if profile not in first:
            first[profile] = FactsLike.of(judged)
            continue
        like = ZoneContext.judging_like("s", inv, z, THRESHOLDS, NOW, first[profile])
        for name in _FILLED:
            mine, theirs = like.__dict__[name], judged.__dict__[name]
            assert mine == theirs, name
            if name in _KEYED:  # the zone's own key objects, not equal ones of the first zone
                assert [id(k) for k in mine] == [id(k) for k in theirs], name  # type: ignore[attr-defined]
        assert like.nsec3 is judged.nsec3
        compared += 1
    assert compared == len(zs) - len(first) - sum(zone_profile(z) is None for z in zs)


def test_facts_like_picks_keys_by_position_not_by_id() -> None:
    """Two equal keys (one id twice) in the first zone: each position still takes its own key."""
    a = fleet(1)[0]
    zone = dataclasses.replace(a, keys=(a.keys[0], dataclasses.replace(a.keys[0]), *a.keys[1:]))
    renamed = (dataclasses.replace(k, zone="other.example", key_id=GUIDS[i]) for i, k in enumerate(zone.keys))
    other = dataclasses.replace(zone, name="other.example", keys=tuple(renamed))
    assert zone_profile(other) == zone_profile(zone)
    inv = inventory(zone, other)
    like = FactsLike.of(ZoneContext.judging("s", inv, zone, THRESHOLDS, NOW))
    ctx = ZoneContext.judging_like("s", inv, other, THRESHOLDS, NOW, like)
    assert [k.key_id for k in ctx.keys] == [k.key_id for k in other.keys]
    assert [k.key_id for k in ctx.ksks] == [k.key_id for k in other.keys if k.key_type is KeyType.KSK]
    assert ctx.ksks[0] is other.keys[0] and ctx.ksks[1] is other.keys[1]


@given(zones("base.example"), st.data())
def test_clones_share_their_base_profile(base: Zone, data: st.DataObject) -> None:
    clones = [data.draw(clone(base, name)) for name in NAMES[:3]]
    profiles = {zone_profile(z) for z in clones}
    assert profiles == ({None} if base.errors else {zone_profile(base)})


def counting_rule(
    profile_only: bool, pick: int | None = 1, key_id: str | None = None
) -> tuple[Rule, list[str]]:
    """A rule that records each zone it judges and reports the key at position ``pick``."""
    seen: list[str] = []

    def check(ctx: ZoneContext) -> Sequence[Hit]:
        seen.append(ctx.zone.name)
        if pick is None:
            return [Hit("zone-wide", {"n": 1})]
        return [Hit(f"key {pick}", {"n": 1}, key_id=key_id or ctx.zone.keys[pick].key_id)]

    rule = Rule(
        id="TST001",
        title="test",
        severity=Severity.LOW,
        scope="zone",
        checks="-",
        why="-",
        remediation="-",
        references=(),
        zone_check=check,
        profile_only=profile_only,
    )
    return rule, seen


def fleet(count: int) -> list[Zone]:
    out = []
    for i in range(count):
        name = f"z{i}.example"
        keys = (healthy_key("KSK", 10 * i + 1, zone=name), healthy_key("ZSK", 10 * i + 2, zone=name))
        out.append(healthy_zone(name, keys=keys))
    return out


def test_a_profile_only_rule_runs_once_per_profile_and_each_zone_gets_its_own_key() -> None:
    zs = fleet(5)
    odd = dataclasses.replace(
        zs[3], keys=(zs[3].keys[0], dataclasses.replace(zs[3].keys[1], key_length=1024))
    )
    zs[3] = odd
    rule, seen = counting_rule(profile_only=True)
    found, _ = evaluate_rules((rule,), inventory(*zs), EVERYTHING["baseline"], now=NOW)
    assert seen == ["z0.example", "z3.example"]  # z1, z2, z4 are alike z0
    assert [(f.target.zone, f.target.key_id) for f in found] == [(z.name, z.keys[1].key_id) for z in zs]
    assert len({f.target.key_id for f in found}) == 5


def test_other_rules_judge_every_zone() -> None:
    rule, seen = counting_rule(profile_only=False)
    evaluate_rules((rule,), inventory(*fleet(4)), EVERYTHING["baseline"], now=NOW)
    assert len(seen) == 4


def test_zone_wide_hits_are_shared_without_a_key() -> None:
    rule, seen = counting_rule(profile_only=True, pick=None)
    found, _ = evaluate_rules((rule,), inventory(*fleet(3)), EVERYTHING["baseline"], now=NOW)
    assert len(seen) == 1
    assert [(f.target.zone, f.target.key_id) for f in found] == [(f"z{i}.example", None) for i in range(3)]


def test_a_hit_naming_no_key_of_the_zone_is_not_shared() -> None:
    rule, seen = counting_rule(profile_only=True, key_id="12345")  # a key tag, say: no position
    found, _ = evaluate_rules((rule,), inventory(*fleet(3)), EVERYTHING["baseline"], now=NOW)
    assert len(seen) == 3
    assert {f.target.key_id for f in found} == {"12345"}


def test_zones_with_errors_or_repeated_key_ids_are_judged_alone() -> None:
    from toolkit.model import ZoneError

    zs = fleet(3)
    zs[1] = dataclasses.replace(zs[1], errors=(ZoneError("Get-DnsServerZone", "odd"),))
    k = zs[2].keys[0]
    zs[2] = dataclasses.replace(zs[2], keys=(k, dataclasses.replace(k, key_type=KeyType.ZSK)))
    zs.append(
        dataclasses.replace(
            zs[2],
            name="z3.example",
            keys=tuple(dataclasses.replace(x, zone="z3.example") for x in zs[2].keys),
        )
    )
    rule, seen = counting_rule(profile_only=True)
    found, _ = evaluate_rules((rule,), inventory(*zs), EVERYTHING["baseline"], now=NOW)
    # z1 has errors; z2 and z3 are alike, but their keys share an id: position 1 is not one key
    assert seen == ["z0.example", "z1.example", "z2.example", "z3.example"]
    assert zone_profile(zs[1]) is None
    assert [f.target.key_id for f in found] == [z.keys[1].key_id for z in zs]


def test_an_unhashable_hand_made_descriptor_is_judged_alone() -> None:
    zs = fleet(2)
    lists = [
        dataclasses.replace(z, dnssec=dataclasses.replace(z.dnssec, distribute_trust_anchor=["DnsKey"]))
        for z in zs
    ]
    rule, seen = counting_rule(profile_only=True)
    evaluate_rules((rule,), inventory(*lists), EVERYTHING["baseline"], now=NOW)
    assert len(seen) == 2


def test_the_profile_leaves_out_only_what_names_a_zone_or_key() -> None:
    fields = {cls: {f.name for f in dataclasses.fields(cls)} for cls in IDENTITY}
    for cls, leave in IDENTITY.items():
        assert leave <= fields[cls], cls
    assert IDENTITY[SigningKey] == {
        "zone",
        "key_id",
        "active_key",
        "standby_key",
        "next_key",
        "last_rollover_time",
        "next_rollover_time",
    }
    z = fleet(1)[0]
    for part, obj in ((_ZONE, z), (_SETTINGS, z.dnssec), (_KEY, z.keys[0])):
        kept = [getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in IDENTITY[type(obj)]]
        assert list(part(obj)) == kept, type(obj)
    for change in (
        {"key_length": 1024},
        {"algorithm": CryptoAlgorithm.ECDSAP256SHA256},
        {"rollover_period": timedelta(days=30)},
        {"current_state": None},
    ):
        other = dataclasses.replace(z, keys=(dataclasses.replace(z.keys[0], **change), z.keys[1]))
        assert zone_profile(other) != zone_profile(z), change
