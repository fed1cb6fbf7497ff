"""Compliance rules over descriptors: the registry, the engine and rule documentation.

    findings, suppressed = evaluate(inventory, load_policy(profile="rfc"))

Rules live in area modules (``keys``, ``rollover``, ``denial``, ``server``) and are listed once
in ``toolkit.rules.registry.RULES``; ids are documented in docs/rules.md. A policy
(``toolkit.rules.policy``, public as ``toolkit.policy``) selects among them; the engines
(``engine``, ``join_engine``) apply it.
"""

from __future__ import annotations

from toolkit.rules.base import AREAS, Hit, Rule, ServerContext, ZoneContext
from toolkit.rules.engine import evaluate, evaluate_rules
from toolkit.rules.explain import explain_rule, rule_help
from toolkit.rules.join_engine import evaluate_join
from toolkit.rules.registry import RULE_BOOK, RULES, RULES_BY_ID, get_rule

__all__ = [
    "AREAS",
    "RULES",
    "RULES_BY_ID",
    "RULE_BOOK",
    "Hit",
    "Rule",
    "ServerContext",
    "ZoneContext",
    "evaluate",
    "evaluate_join",
    "evaluate_rules",
    "explain_rule",
    "get_rule",
    "rule_help",
]
