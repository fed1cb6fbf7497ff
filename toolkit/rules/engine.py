"""Run the registry's rules over one inventory under a policy: findings and suppressed findings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from toolkit.findings import Finding, Target, sort_findings
from toolkit.model import ServerInventory
from toolkit.policy import Policy, load_policy
from toolkit.rules.base import Hit, Rule, ServerContext, ZoneContext
from toolkit.rules.registry import RULES

__all__ = ["evaluate", "evaluate_rules"]

_DEFAULT: Policy | None = None


def _default_policy() -> Policy:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_policy()
    return _DEFAULT


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
) -> tuple[list[Finding], list[Finding]]:
    policy = policy if policy is not None else _default_policy()
    when = now or inventory.collected_at or datetime.now(UTC)
    server = inventory.server.name
    active: list[Finding] = []
    suppressed: list[Finding] = []
    selected = [r for r in rules if policy.is_selected(r.id)]
    sctx = ServerContext(server, inventory, policy.thresholds, when)
    zctxs = [ZoneContext(server, inventory, z, policy.thresholds, when) for z in inventory.zones]
    for rule in selected:
        hits: list[tuple[str | None, Hit]] = []
        if rule.server_check is not None:
            hits.extend((h.zone, h) for h in rule.server_check(sctx))
        if rule.zone_check is not None:
            for zctx in zctxs:
                hits.extend((h.zone or zctx.zone.name, h) for h in rule.zone_check(zctx))
        for zone, hit in hits:
            finding = Finding(
                rule_id=rule.id,
                severity=policy.severity_for(
                    rule.id, hit.severity if hit.severity is not None else rule.severity
                ),
                target=Target(server, zone, hit.key_id),
                message=hit.message,
                evidence=dict(hit.evidence),
            )
            sup = policy.suppression_for(rule.id, server, zone)
            if sup is None:
                active.append(finding)
            else:
                suppressed.append(
                    Finding(
                        finding.rule_id,
                        finding.severity,
                        finding.target,
                        finding.message,
                        finding.evidence,
                        suppressed_reason=sup.reason,
                    )
                )
    return list(sort_findings(active)), list(sort_findings(suppressed))
