"""Run the registry's rules over one inventory under a policy: findings and suppressed findings.

One ``ZoneContext`` is built per zone and shared by every zone-scoped rule, so the per-zone facts
(readable keys, active keys, signing keys, counts per algorithm and type, see
``toolkit.rules.base.fact``) are computed once per zone and evaluation, not once per rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime

from toolkit.findings import Finding, Severity, Target, sort_findings
from toolkit.model import ServerInventory
from toolkit.rules.base import Hit, Rule, ServerCheck, ServerContext, ZoneCheck, ZoneContext
from toolkit.rules.policy import Policy, Suppression, default_policy
from toolkit.rules.registry import RULES

__all__ = ["evaluate", "evaluate_rules"]

#: (server checks, zone checks)
Checks = tuple[tuple[tuple[Rule, ServerCheck], ...], tuple[tuple[Rule, ZoneCheck], ...]]


def _selected(rules: Iterable[Rule], policy: Policy) -> Checks:
    """The server and zone checks of the rules ``policy`` selects (``Policy.is_selected``)."""
    chosen = [r for r in rules if policy.is_selected(r.id)]
    return (
        tuple((r, r.server_check) for r in chosen if r.server_check is not None),
        tuple((r, r.zone_check) for r in chosen if r.zone_check is not None),
    )


@functools.lru_cache(maxsize=32)
def _registry_checks(select: tuple[str, ...], ignore: tuple[str, ...]) -> Checks:
    """``_selected`` of the registry's rules for one select/ignore pair (what ``Policy.is_selected``
    reads): a fleet scan judges every host under one policy, and choosing among the registry's
    rules by longest prefix takes about a sixth of judging a 20-zone host."""
    return _selected(RULES, Policy(select=select, ignore=ignore))


def evaluate(
    inventory: ServerInventory, policy: Policy | None = None, *, now: datetime | None = None
) -> tuple[list[Finding], list[Finding]]:
    """Active and suppressed findings for one server, each sorted (server, zone, rule, key).

    ``policy`` defaults to the baseline profile; ``now`` to the inventory's collection time, else
    the current time (so an old inventory is judged as of when it was taken).
    """
    return evaluate_rules(RULES, inventory, policy, now=now)


def _checks(rules: Iterable[Rule], policy: Policy) -> Checks:
    if rules is RULES:
        return _registry_checks(policy.select, policy.ignore)
    return _selected(rules, policy)


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
    server_checks, zone_checks = _checks(rules, policy)
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
    if zone_checks:
        for z in inventory.zones:
            name = z.name
            if cache_facts:
                zctx = ZoneContext.judging(server, inventory, z, t, when)
            else:
                zctx = ZoneContext(server, inventory, z, t, when, cache_facts=False)
            for rule, zone_check in zone_checks:
                hits = zone_check(zctx)
                if hits:  # most checks find nothing: skip the loop (a generator is always true)
                    for hit in hits:
                        add(rule, hit.zone or name, hit, hit.key_id)
    return list(sort_findings(active)), list(sort_findings(suppressed))
