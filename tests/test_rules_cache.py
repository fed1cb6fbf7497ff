"""The per-zone fact cache of the rule engine gives exactly what recomputation gives.

``ZoneContext`` fills its key-derived facts in one pass (``_key_facts``) and keeps every fact it
computes; ``cache_facts=False`` recomputes each fact from its definition on every read. These
tests draw inventories biased towards the states rules care about (retired keys, missing key
types, unknown enum values, unreadable keys, NSEC3 settings, stuck rollovers) and check that
facts and findings agree between the two, so a stale, shared or mis-derived cache value fails.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rules_fixtures import NOW, SERVER, inventory
from tests.rules_fixtures import key as healthy_key
from tests.rules_fixtures import zone as healthy_zone
from toolkit.findings import Finding, Severity, Target
from toolkit.model import ServerInventory, SigningKey, Zone, ZoneDnssecSettings, ZoneError
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    RolloverStatus,
    RolloverType,
    WinEnum,
    ZoneType,
)
from toolkit.policy import Policy, Suppression, Thresholds, load_policy
from toolkit.rules import RULES, evaluate_rules
from toolkit.rules.base import Hit, ServerContext, ZoneContext, _key_facts, fact

H = timedelta(hours=1)
D = timedelta(days=1)
FACTS = sorted(name for name, member in vars(ZoneContext).items() if isinstance(member, fact))
EVERYTHING = {
    name: dataclasses.replace(load_policy(profile=name), select=("",), ignore=())
    for name in ("baseline", "rfc", "stig")
}
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def enum(cls: type[WinEnum], unknown: str) -> st.SearchStrategy[Any]:
    """Mostly known members, sometimes a value this toolkit does not know, sometimes absent."""
    return st.one_of(st.sampled_from(list(cls)), st.just(cls(unknown)), st.none())


def maybe(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, *values])


opt_bool = maybe([True, False])
spans = maybe([0 * H, 1 * H, 24 * H, 48 * H, 168 * H, 240 * H, 2000 * H])
periods = maybe([0 * D, 1 * D, 30 * D, 90 * D, 365 * D, 800 * D, 2000 * D])
times = maybe([NOW + d for d in (-400 * D, -10 * D, -2 * D, -1 * H, 1 * D, 100 * D)])
KEY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "key_type": st.sampled_from([KeyType.KSK, KeyType.ZSK, KeyType.KSK, KeyType.ZSK, KeyType("Odd")]),
    "algorithm": st.sampled_from([*CryptoAlgorithm, CryptoAlgorithm("Gost")]),
    "key_length": maybe([256, 384, 1024, 2048, 4096]),
    "current_state": enum(KeyState, "Revoked"),
    "store_keys_in_ad": opt_bool,
    "dnskey_signature_validity": spans,
    "ds_signature_validity": spans,
    "zone_signature_validity": spans,
    "rollover_period": periods,
    "rollover_type": enum(RolloverType, "Manual"),
    "last_rollover_time": times,
    "next_rollover_time": times,
    "current_rollover_status": enum(RolloverStatus, "Paused"),
    "is_rollover_enabled": opt_bool,
    # the key pointers: a key with no ActiveKey but a StandbyKey or NextKey signs nothing yet
    "active_key": maybe(["{68550441-8E4D-4D99-921C-BC1807FFF7ED}"]),
    "standby_key": maybe(["{5B8E2D41-7C9A-4E03-B6F1-A2D3C4E5F607}"]),
    "next_key": maybe(["{0C1A4E7B-2F3D-4B58-9A6E-D1C2B3A4F506}"]),
}
SETTINGS_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "denial_of_existence": enum(DenialOfExistence, "Nsec5"),
    "nsec3_iterations": maybe([0, 1, 10, 50, 51, 150, 151, 2501]),
    "nsec3_opt_out": opt_bool,
    "nsec3_random_salt_length": maybe([0, 8]),
    "nsec3_user_salt": maybe(["AABB"]),
    "distribute_trust_anchor": st.sampled_from([(), ("DnsKey",), ("None",)]),
    "ds_record_generation_algorithm": st.lists(
        st.sampled_from([*DsDigest, DsDigest("Gost")]), max_size=3
    ).map(tuple),
    "ds_record_set_ttl": spans,
    "dnskey_record_set_ttl": spans,
    "propagation_time": spans,
    "parent_has_secure_delegation": opt_bool,
    "is_key_master_server": opt_bool,
    "key_master_server": st.sampled_from([None, "", SERVER]),
    "key_master_status": enum(KeyMasterStatus, "Degraded"),
    "is_signed": opt_bool,
}
errors = st.sampled_from(
    [()] * 5
    + [
        (ZoneError("Get-DnsServerSigningKey", "failed", code=9107),),
        (ZoneError("Get-DnsServerSigningKey", "denied", code=5),),
        (ZoneError("Get-DnsServerDnsSecZoneSetting", "failed"),),
    ]
)


@st.composite
def zones(draw: st.DrawFn, name: str) -> Zone:
    count = draw(st.integers(0, 7))
    keys = tuple(
        SigningKey(
            zone=name, key_id=f"00000000-0000-0000-0000-{n:012d}", **draw(st.fixed_dictionaries(KEY_FIELDS))
        )
        for n in range(count)
    )
    dnssec = None
    if draw(st.integers(0, 4)):
        dnssec = ZoneDnssecSettings(zone=name, **draw(st.fixed_dictionaries(SETTINGS_FIELDS)))
    return Zone(
        name=name,
        zone_type=draw(st.sampled_from([ZoneType.PRIMARY] * 4 + [ZoneType.SECONDARY, ZoneType("Unknown")])),
        is_signed=draw(st.sampled_from([None, True, True, False])),
        is_ds_integrated=draw(st.booleans()),
        is_auto_created=draw(st.integers(0, 9)) == 0,
        dnssec=dnssec,
        keys=keys,
        errors=draw(errors),
    )


@st.composite
def inventories(draw: st.DrawFn) -> ServerInventory:
    count = draw(st.integers(1, 4))
    return inventory(*(draw(zones(f"z{i}.example")) for i in range(count)))


def contexts(inv: ServerInventory, t: Thresholds, *, cache: bool) -> list[ZoneContext]:
    return [ZoneContext(SERVER, inv, z, t, NOW, cache_facts=cache) for z in inv.zones]


def as_data(findings: list[Finding]) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.severity, f.target, f.message, dict(f.evidence), f.suppressed_reason) for f in findings
    ]


@PROPS
@given(inventories(), st.sampled_from(sorted(EVERYTHING)))
def test_cached_evaluation_equals_recomputation(inv: ServerInventory, profile: str) -> None:
    policy: Policy = EVERYTHING[profile]
    cached = evaluate_rules(RULES, inv, policy, now=NOW)
    fresh = evaluate_rules(RULES, inv, policy, now=NOW, cache_facts=False)
    assert as_data(cached[0]) == as_data(fresh[0])
    assert as_data(cached[1]) == as_data(fresh[1])


severities = st.sampled_from(list(Severity))
prefixes = st.sampled_from(
    ["", "KEY", "KEY001", "ALG", "ROLL", "SIG00", "NSEC", "DS", "KM", "TA", "SRV", "ZONE"]
)


@PROPS
@given(
    inventories(),
    st.dictionaries(prefixes, severities, max_size=3),
    st.lists(
        st.builds(
            Suppression,
            rule=prefixes,
            reason=st.sampled_from(["accepted risk", "migrating"]),
            zone=st.sampled_from(["*", "z0.example", "z0.example", "z1*", "other.example"]),
        ),
        max_size=3,
    ),
)
def test_engine_matches_a_reference_evaluation(
    inv: ServerInventory, overrides: dict[str, Severity], suppressions: list[Suppression]
) -> None:
    """The engine asks the policy once per (rule, severity) and (rule, zone) and shares one
    context per zone between rules: the result must be the per-hit, per-rule reference."""
    policy = dataclasses.replace(EVERYTHING["rfc"], severity=overrides, suppressions=tuple(suppressions))
    active, suppressed = evaluate_rules(RULES, inv, policy, now=NOW)
    assert all(f.suppressed_reason is None for f in active)
    assert all(f.suppressed_reason is not None for f in suppressed)
    got = as_data(active) + as_data(suppressed)
    assert sorted(got, key=repr) == sorted(reference(inv, policy), key=repr)


def reference(inv: ServerInventory, policy: Policy) -> list[tuple[Any, ...]]:
    """The findings as data, computed naively: a fresh uncached context per rule and zone, the
    policy asked for every hit."""
    out = []
    for rule in RULES:
        if not policy.is_selected(rule.id):
            continue
        hits: list[tuple[str | None, Hit]] = []
        if rule.server_check is not None:
            sctx = ServerContext(SERVER, inv, policy.thresholds, NOW)
            hits += [(h.zone, h) for h in rule.server_check(sctx)]
        if rule.zone_check is not None:
            for z in inv.zones:
                zctx = ZoneContext(SERVER, inv, z, policy.thresholds, NOW, cache_facts=False)
                hits += [(h.zone or z.name, h) for h in rule.zone_check(zctx)]
        for zone, h in hits:
            base = h.severity if h.severity is not None else rule.severity
            sup = policy.suppression_for(rule.id, SERVER, zone)
            out.append(
                (
                    rule.id,
                    policy.severity_for(rule.id, base),
                    Target(SERVER, zone, h.key_id),
                    h.message,
                    dict(h.evidence),
                    sup.reason if sup is not None else None,
                )
            )
    return out


@PROPS
@given(inventories())
def test_every_cached_fact_equals_its_definition(inv: ServerInventory) -> None:
    t = Thresholds()
    judged = [ZoneContext.judging(SERVER, inv, z, t, NOW) for z in inv.zones]
    for cached, fresh, engine in zip(
        contexts(inv, t, cache=True), contexts(inv, t, cache=False), judged, strict=True
    ):
        assert isinstance(engine, ZoneContext) and engine.zone is fresh.zone
        for name in FACTS:
            assert getattr(cached, name) == getattr(fresh, name), (cached.zone.name, name)
            assert getattr(engine, name) == getattr(fresh, name), (cached.zone.name, name)
        for name in ("keys", "ksks", "zsks", "active_keys", "signing_keys"):
            assert all(k.zone == cached.zone.name for k in getattr(cached, name)), name


def test_precomputed_facts_are_declared_facts() -> None:
    # a name _key_facts fills but ZoneContext does not declare would never be checked above
    assert set(_key_facts(healthy_zone())) <= set(FACTS)


def test_facts_are_immutable() -> None:
    """Every rule shares one value per fact: a list or dict could be changed under the next rule."""
    z = healthy_zone(
        keys=(
            healthy_key("KSK", 1),
            healthy_key("ZSK", 2),
            healthy_key("ZSK", 3, current_state=KeyState.RETIRED),
        )
    )
    ctx = ZoneContext(SERVER, inventory(z), z, Thresholds(), NOW)
    for name in FACTS:
        value = getattr(ctx, name)
        assert isinstance(value, tuple | bool | int | ZoneDnssecSettings | type(None)), name
        if isinstance(value, tuple):
            hash(value)  # nested lists inside a tuple would fail here


def test_cache_off_keeps_nothing_and_cache_on_keeps_every_fact() -> None:
    z = healthy_zone()
    fields = {f.name for f in dataclasses.fields(ZoneContext)}
    off = ZoneContext(SERVER, inventory(z), z, Thresholds(), NOW, cache_facts=False)
    on = ZoneContext(SERVER, inventory(z), z, Thresholds(), NOW)
    for name in FACTS:
        getattr(off, name)
        getattr(on, name)
    assert set(vars(off)) == fields
    assert set(vars(on)) == fields | set(FACTS)


def test_a_context_never_answers_for_another_zone() -> None:
    a = healthy_zone("a.example", keys=(healthy_key("KSK", 1, zone="a.example"),))
    b = healthy_zone(
        "b.example", keys=(healthy_key("KSK", 2, zone="b.example"), healthy_key("ZSK", 3, zone="b.example"))
    )
    inv = inventory(a, b)
    ca, cb = contexts(inv, Thresholds(), cache=True)
    assert ca.keys == a.keys and cb.keys == b.keys
    assert ca.zsks == () and len(cb.zsks) == 1
    findings, _ = evaluate_rules(RULES, inv, EVERYTHING["baseline"], now=NOW)
    key001 = {f.target.zone for f in findings if f.rule_id == "KEY001"}
    assert key001 == {"a.example"}


def test_suppression_is_decided_per_zone_and_severity_per_hit() -> None:
    # KEY001 fires on both zones: critical where the zone is signed, high where it only holds keys
    a = healthy_zone("a.example", keys=(healthy_key("KSK", 1, zone="a.example"),))
    b = healthy_zone("b.example", keys=(healthy_key("KSK", 2, zone="b.example"),), is_signed=False)
    policy = dataclasses.replace(
        EVERYTHING["rfc"], suppressions=(Suppression("KEY001", "lab zone", zone="a.example"),)
    )
    active, suppressed = evaluate_rules(RULES, inventory(a, b), policy, now=NOW)
    key001 = [
        (f.target.zone, f.severity, f.suppressed_reason) for f in active + suppressed if f.rule_id == "KEY001"
    ]
    assert sorted(key001) == [
        ("a.example", Severity.CRITICAL, "lab zone"),
        ("b.example", Severity.HIGH, None),
    ]


@PROPS
@given(inventories(), st.lists(st.tuples(prefixes, prefixes), min_size=2, max_size=5))
def test_selection_kept_per_policy_matches_choosing_afresh(
    inv: ServerInventory, lists: list[tuple[str, str]]
) -> None:
    # Evaluating under policies in turn, and under one of them again, must give what choosing
    # the rules afresh for each gives.
    for select, ignore in [*lists, lists[0]]:
        policy = dataclasses.replace(EVERYTHING["baseline"], select=(select,), ignore=(ignore,))
        chosen = tuple(r for r in RULES if policy.is_selected(r.id))
        kept = evaluate_rules(RULES, inv, policy, now=NOW)
        every = dataclasses.replace(policy, select=("",), ignore=())
        afresh = evaluate_rules(list(chosen), inv, every, now=NOW)  # a list: chosen afresh
        assert as_data(kept[0]) == as_data(afresh[0])
        assert {f.rule_id for f in kept[0]} <= {r.id for r in chosen}


def test_the_engine_takes_hits_as_lists_tuples_or_generators() -> None:
    """The rules return lists (or ``()``); a check written as a generator still works."""
    from collections.abc import Iterator

    from toolkit.rules.base import Rule

    def as_generator(ctx: ZoneContext) -> Iterator[Hit]:
        yield Hit(f"generated for {ctx.zone.name}")

    def as_list(ctx: ZoneContext) -> list[Hit]:
        return [Hit("listed", key_id="k1"), Hit("listed", key_id="k2")]

    def as_nothing(ctx: ZoneContext) -> tuple[Hit, ...]:
        return ()

    def rule(rule_id: str, check: Any) -> Rule:
        return Rule(rule_id, "t", Severity.LOW, "zone", "c", "w", "r", (), zone_check=check)

    rules = (rule("TST001", as_generator), rule("TST002", as_list), rule("TST003", as_nothing))
    z = healthy_zone()
    found, _ = evaluate_rules(rules, inventory(z), load_policy(), now=NOW)
    assert [(f.rule_id, f.message, f.target.key_id) for f in found] == [
        ("TST001", f"generated for {z.name}", None),
        ("TST002", "listed", "k1"),
        ("TST002", "listed", "k2"),
    ]
