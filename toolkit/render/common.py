"""Shared helpers for renderers: finding rows, rule lookup, JSON-safe values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from toolkit.findings import Finding, HostError, HostReport
from toolkit.rules import RULES, Rule, get_rule
from toolkit.rules.base import describe_win32, fmt_td
from toolkit.rules.join_rules import JOIN_RULES

__all__ = ["dns_view_collected", "finding_dict", "host_error_dict", "plain", "rule_title", "rules_for"]

_JOIN_IDS = frozenset(r.id for r in JOIN_RULES)


def plain(value: Any) -> Any:
    """Evidence values as JSON-safe data (tuples to lists, times to ISO text, durations to 7d)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return fmt_td(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def rule_title(rule_id: str) -> str:
    rule = get_rule(rule_id)
    return rule.title if rule is not None else rule_id


def finding_dict(f: Finding) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rule_id": f.rule_id,
        "title": rule_title(f.rule_id),
        "severity": f.severity.label,
        "server": f.target.server,
        "zone": f.target.zone,
        "key_id": f.target.key_id,
        "message": f.message,
        "evidence": plain(f.evidence),
    }
    if f.suppressed:
        d["suppressed_reason"] = f.suppressed_reason
    return d


def host_error_dict(e: HostError) -> dict[str, Any]:
    return {
        "server": e.server,
        "kind": e.kind,
        "message": e.message,
        "code": e.code,
        "code_name": describe_win32(e.code) if e.code is not None else None,
    }


def dns_view_collected(host: HostReport) -> bool:
    """Whether this host's audit included the DNS view (``--dns``): it then holds a DNS-area
    finding, active or suppressed (DNS000 records every view). As in the STIG checklists, a view
    whose DNS000 record a policy ignores and that found nothing cannot be told from no view."""
    return any(f.rule_id in _JOIN_IDS for f in (*host.findings, *host.suppressed))


def rules_for(policy: Any, *, dns_view: bool = True) -> tuple[Rule, ...]:
    """The rules a report under ``policy`` ran (all rules without a policy). ``dns_view=False``
    leaves out the join rules (area DNS): without a DNS view they did not run."""
    rules = RULES if dns_view else tuple(r for r in RULES if r.id not in _JOIN_IDS)
    if policy is None:
        return rules
    return tuple(r for r in rules if policy.is_selected(r.id))
