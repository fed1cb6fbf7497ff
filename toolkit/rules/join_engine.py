"""Run the join rules over zone views under a policy: active and suppressed findings.

The join rules themselves (``toolkit.rules.join_rules``) are data and checks, like every other
rule; this module applies a policy to them, as ``toolkit.rules.engine`` does for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from toolkit.dnsview.descriptors import ZoneDnsView
from toolkit.findings import Finding, Target, sort_findings
from toolkit.model import ServerInventory
from toolkit.rules.base import Hit
from toolkit.rules.join_checks import SERVER_DOWN_KINDS, JoinCase
from toolkit.rules.join_rules import JOIN_RULES, JoinRule, join_thresholds
from toolkit.rules.policy import Policy, default_policy

__all__ = ["evaluate_join"]


def _server_down(views: Sequence[ZoneDnsView]) -> str | None:
    """The problem kind when the DNS server gave nothing for any zone (one finding, not one per zone)."""
    if len(views) < 2 or any(v.reachable or not v.problems for v in views):
        return None
    kinds = {v.problems[0].kind for v in views}
    return kinds.pop() if len(kinds) == 1 and kinds <= SERVER_DOWN_KINDS else None


def _hits(
    rule: JoinRule, server: str, views: Sequence[ZoneDnsView], cases: Sequence[JoinCase]
) -> Iterator[tuple[str | None, Hit]]:
    if rule.summary_check is not None:
        yield from ((h.zone, h) for h in rule.summary_check(server, views))
        return
    assert rule.join_check is not None
    kind = _server_down(views)
    if kind is not None:
        if rule.id == "DNS001":
            v = views[0]
            zones = [w.zone.rstrip(".") or "." for w in views]
            yield (
                None,
                Hit(
                    f"DNS server {v.server} gives no usable answer ({kind}: {v.problems[0].message}); "
                    f"{len(zones)} zone(s) not checked over DNS",
                    {"dns_server": v.server, "kind": kind, "zones": zones},
                ),
            )
        return
    for case in cases:
        if rule.needs_inside and case.zone is None:
            continue
        if not case.view.reachable and rule.id != "DNS001":
            continue
        yield from ((h.zone or case.name, h) for h in rule.join_check(case))


def evaluate_join(
    views: Iterable[ZoneDnsView],
    inventory: ServerInventory | None = None,
    policy: Policy | None = None,
    *,
    server: str | None = None,
    now: datetime | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """Active and suppressed findings of the join rules over these zone views, like ``evaluate``.

    ``policy`` (default: the baseline profile) selects rules, sets severities and thresholds and
    suppresses; ``now`` defaults to each view's query time (signatures are judged as served).
    """
    pol = policy if policy is not None else default_policy()
    views = list(views)
    name = server or (inventory.server.name if inventory is not None else "dns")
    limits = join_thresholds(pol.thresholds)
    cases = [
        JoinCase(
            name,
            v,
            inventory.zone(v.zone.rstrip(".") or ".") if inventory is not None else None,
            now or v.queried_at,
            limits,
        )
        for v in views
    ]
    active: list[Finding] = []
    suppressed: list[Finding] = []
    for rule in JOIN_RULES:
        if not pol.is_selected(rule.id):
            continue
        for zone, hit in _hits(rule, name, views, cases):
            sev = pol.severity_for(rule.id, hit.severity if hit.severity is not None else rule.severity)
            sup = pol.suppression_for(rule.id, name, zone)
            f = Finding(
                rule.id,
                sev,
                Target(name, zone, hit.key_id),
                hit.message,
                dict(hit.evidence),
                suppressed_reason=sup.reason if sup is not None else None,
            )
            (active if sup is None else suppressed).append(f)
    return list(sort_findings(active)), list(sort_findings(suppressed))
