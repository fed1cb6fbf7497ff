"""``windns rules explain ID`` (and ``windns explain ID``): a rule's documentation as text."""

from __future__ import annotations

import textwrap

from toolkit.rule_ids import RULE_ID
from toolkit.rules.base import AREAS, Rule, describe_win32, win32_entry
from toolkit.rules.registry import get_rule

__all__ = ["RULE_ID", "explain_rule", "rule_help"]


def _wrap(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=96, initial_indent="  ", subsequent_indent="  ")


def rule_help(rule: Rule) -> str:
    """The full explanation: metadata, ruff-style sections, and the Win32 entry it predicts."""
    lines = [
        f"{rule.id}: {rule.title}",
        f"  severity {rule.severity.label} (default), scope {rule.scope}, "
        f"area {AREAS.get(rule.area, rule.area)}",
        "",
        "What it checks:",
        _wrap(rule.checks),
        "",
        "Why it matters:",
        _wrap(rule.why),
    ]
    if rule.win32 is not None:
        entry = win32_entry(rule.win32)
        lines += ["", f"Windows error it predicts: {describe_win32(rule.win32)}"]
        if entry is not None:
            if entry.message:
                lines.append(_wrap(entry.message))
            for title, body in (("Cause", entry.cause), ("Resolve", entry.resolve)):
                if body:
                    # the catalogue's own lines, verbatim: its PowerShell must stay runnable
                    lines += [f"  {title}:", *(f"    {line}".rstrip() for line in body.splitlines())]
    lines += ["", "Remediation (PowerShell; replace <Zone>, <KeyId>, ...):"]
    lines += [f"  {line}" for line in rule.remediation.splitlines()]
    lines += ["", "References:"]
    lines += [f"  - {ref}" for ref in rule.all_references()]
    return "\n".join(lines)


def explain_rule(rule_id: str) -> str | None:
    """The explanation of ``rule_id`` (e.g. ``KEY001``), or None when it is not a rule id."""
    if not RULE_ID.match(rule_id.strip()):
        return None
    rule = get_rule(rule_id)
    return rule_help(rule) if rule is not None else None
