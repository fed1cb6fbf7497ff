"""The one explicit list of rules. A rule exists when, and only when, it is listed here."""

from __future__ import annotations

from toolkit.rules import denial, join_rules, keys, rollover, server
from toolkit.rules.base import Rule

__all__ = ["RULES", "RULES_BY_ID", "get_rule"]

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
