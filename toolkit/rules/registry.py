"""The one explicit list of rules. A rule exists when, and only when, it is listed here."""

from __future__ import annotations

from toolkit.findings import RuleBook, RuleInfo
from toolkit.rules import denial, join_rules, keys, rollover, server
from toolkit.rules.base import Rule

__all__ = ["RULES", "RULES_BY_ID", "RULE_BOOK", "get_rule", "rule_info"]

#: join_rules.JOIN_RULES (area DNS) read the DNS view; ``evaluate_join`` runs them, not the engine
RULES: tuple[Rule, ...] = (
    *keys.RULES,
    *rollover.RULES,
    *denial.RULES,
    *server.RULES,
    *join_rules.JOIN_RULES,
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - guarded by tests/test_rules_registry.py
    raise RuntimeError("duplicate rule id in the registry")


def get_rule(rule_id: str) -> Rule | None:
    """The rule with this id (case-insensitive), or None."""
    return RULES_BY_ID.get(rule_id.strip().upper())


def rule_info(rule: Rule) -> RuleInfo:
    """A rule's metadata as a report carries it (no check)."""
    return RuleInfo(
        id=rule.id,
        title=rule.title,
        severity=rule.severity,
        scope=rule.scope,
        checks=rule.checks,
        why=rule.why,
        remediation=rule.remediation,
        references=rule.all_references(),
        dns_view=isinstance(rule, join_rules.JoinRule),
    )


#: Every registered rule's metadata, in registry order: what every report the toolkit builds
#: carries for its renderers (``toolkit.findings.Report.rules``).
RULE_BOOK = RuleBook(tuple(rule_info(r) for r in RULES))
