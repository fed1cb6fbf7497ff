"""Run the registry's rules over one inventory under a policy: findings and suppressed findings.

One ``ZoneContext`` is built per zone and shared by every zone-scoped rule, so the per-zone facts
(readable keys, active keys, signing keys, counts per algorithm and type, see
``toolkit.rules.base.fact``) are computed once per zone and evaluation, not once per rule.
A rule declared ``profile_only`` runs once per zone profile (``toolkit.rules.profile``): the
zones of a server configured alike take the hits it found on the first of them, and the first
one's facts, each key's by position (``FactsLike``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime

from toolkit.findings import Finding, Severity, Target, sort_findings
from toolkit.model import ServerInventory, Zone
from toolkit.rules.base import FactsLike, Hit, Rule, ServerCheck, ServerContext, ZoneCheck, ZoneContext
from toolkit.rules.policy import Policy, Suppression, default_policy
from toolkit.rules.profile import zone_profile
from toolkit.rules.registry import RULES

__all__ = ["evaluate", "evaluate_rules"]

ZoneChecks = tuple[tuple[Rule, ZoneCheck], ...]
#: (server checks, profile-only zone checks, other zone checks)
Checks = tuple[tuple[tuple[Rule, ServerCheck], ...], ZoneChecks, ZoneChecks]
#: Hits of a zone's profile-only checks, each key's hit by the key's position in the zone
Shared = tuple[tuple[Rule, Hit, int | None], ...]
#: (id of a rules tuple, select, ignore) -> (that tuple, its selected checks); see ``_selected``
_SELECTIONS: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[tuple[Rule, ...], Checks]] = {}


def _selected(rules: Iterable[Rule], policy: Policy) -> Checks:
    """The server and zone checks of the rules ``policy`` selects (``Policy.is_selected``).

    Kept per rules tuple (by identity: hashing 55 rules costs more than it saves) and per
    select/ignore lists: a fleet scan judges every server under one policy, and choosing among
    the registry's rules by longest prefix took as long as judging nine zones."""
    if not isinstance(rules, tuple):
        return _select(rules, policy)
    key = (id(rules), policy.select, policy.ignore)
    kept = _SELECTIONS.get(key)
    if kept is not None and kept[0] is rules:
        return kept[1]
    checks = _select(rules, policy)
    if len(_SELECTIONS) >= 32:
        _SELECTIONS.clear()
    _SELECTIONS[key] = (rules, checks)  # holding the tuple keeps its id from being reused
    return checks


def _select(rules: Iterable[Rule], policy: Policy) -> Checks:
    chosen = [r for r in rules if policy.is_selected(r.id)]
    zone = [(r, r.zone_check) for r in chosen if r.zone_check is not None]
    return (
        tuple((r, r.server_check) for r in chosen if r.server_check is not None),
        tuple((r, check) for r, check in zone if r.profile_only),
        tuple((r, check) for r, check in zone if not r.profile_only),
    )


def _shareable(found: list[tuple[Rule, Hit]], zone: Zone) -> Shared | None:
    """``found`` with each hit's key as its position in ``zone.keys``; None when a hit names a
    zone, or a key that is not exactly one of the zone's (then the zone's hits are not shared)."""
    if not found:
        return ()
    ids = [k.key_id for k in zone.keys]
    out: list[tuple[Rule, Hit, int | None]] = []
    for rule, hit in found:
        if hit.zone is not None or (hit.key_id is not None and ids.count(hit.key_id) != 1):
            return None
        out.append((rule, hit, None if hit.key_id is None else ids.index(hit.key_id)))
    return tuple(out)


def evaluate(
    inventory: ServerInventory, policy: Policy | None = None, *, now: datetime | None = None
) -> tuple[list[Finding], list[Finding]]:
    """Active and suppressed findings for one server, each sorted (server, zone, rule, key).

    ``policy`` defaults to the baseline profile; ``now`` to the inventory's collection time, else
    the current time (so an old inventory is judged as of when it was taken).
    """
    return evaluate_rules(RULES, inventory, policy, now=now)


def evaluate_rules(
    rules: Iterable[Rule],
    inventory: ServerInventory,
    policy: Policy | None = None,
    *,
    now: datetime | None = None,
    cache_facts: bool = True,
) -> tuple[list[Finding], list[Finding]]:
    """``evaluate`` over the given rules.

    ``cache_facts=False`` recomputes every per-zone fact each time a rule reads it: the same
    findings, slower; it is the reference the cache is tested and benchmarked against.
    """
    policy = policy if policy is not None else default_policy()
    when = now or inventory.collected_at or datetime.now(UTC)
    server = inventory.server.name
    t = policy.thresholds
    active: list[Finding] = []
    suppressed: list[Finding] = []
    server_checks, profile_checks, zone_checks = _selected(rules, policy)
    # The policy's answers depend only on (rule, severity) and (rule, zone): ask once each.
    severities: dict[tuple[str, Severity], Severity] = {}
    suppressions: dict[tuple[str, str | None], Suppression | None] = {}
    check_suppressions = bool(policy.suppressions)

    def add(rule: Rule, zone: str | None, hit: Hit, key_id: str | None) -> None:
        base = hit.severity if hit.severity is not None else rule.severity
        severity = severities.get((rule.id, base))
        if severity is None:
            severity = severities[(rule.id, base)] = policy.severity_for(rule.id, base)
        sup: Suppression | None = None
        if check_suppressions:
            if (rule.id, zone) in suppressions:
                sup = suppressions[(rule.id, zone)]
            else:
                sup = suppressions[(rule.id, zone)] = policy.suppression_for(rule.id, server, zone)
        finding = Finding(
            rule_id=rule.id,
            severity=severity,
            target=Target(server, zone, key_id),
            message=hit.message,
            evidence=dict(hit.evidence),
            suppressed_reason=sup.reason if sup is not None else None,
        )
        (active if sup is None else suppressed).append(finding)

    if server_checks:
        sctx = ServerContext(server, inventory, t, when)
        for rule, server_check in server_checks:
            for hit in server_check(sctx):
                add(rule, hit.zone, hit, hit.key_id)
    # Zone by zone, every selected rule on one context: a zone's facts live only while it is judged.
    # (Findings are sorted below, and hits of one rule on one zone keep their order either way.)
    # Per zone profile, the first zone's profile-only hits (None: not to be shared) and facts:
    # the zones alike take both, each key's by position.
    profiles: dict[Hashable, tuple[Shared | None, FactsLike]] = {}
    if zone_checks or profile_checks:
        for z in inventory.zones:
            name = z.name
            profile = zone_profile(z) if cache_facts else None
            seen: tuple[Shared | None, FactsLike] | None = None
            if profile is not None:
                try:
                    seen = profiles.get(profile)
                except TypeError:  # an unhashable value in a hand-made descriptor: judge it alone
                    profile = None
            if seen is not None:
                zctx = ZoneContext.judging_like(server, inventory, z, t, when, seen[1])
            elif cache_facts:
                zctx = ZoneContext.judging(server, inventory, z, t, when)
            else:
                zctx = ZoneContext(server, inventory, z, t, when, cache_facts=False)
            kept = seen[0] if seen is not None else None
            if kept is not None:
                keys = z.keys
                for rule, hit, at in kept:
                    add(rule, name, hit, None if at is None else keys[at].key_id)
            elif profile_checks:
                found = [(rule, hit) for rule, check in profile_checks for hit in check(zctx)]
                for rule, hit in found:
                    add(rule, hit.zone or name, hit, hit.key_id)
                if profile is not None and seen is None:
                    profiles[profile] = (_shareable(found, z), FactsLike.of(zctx))
            elif profile is not None and seen is None:
                profiles[profile] = ((), FactsLike.of(zctx))
            for rule, zone_check in zone_checks:
                hits = zone_check(zctx)
                if hits:  # most checks find nothing: skip the loop (a generator is always true)
                    for hit in hits:
                        add(rule, hit.zone or name, hit, hit.key_id)
    return list(sort_findings(active)), list(sort_findings(suppressed))
