"""docs/rules.md, generated from the registry and the built-in profiles (a test keeps it current)."""

from __future__ import annotations

from toolkit.rules.base import AREAS
from toolkit.rules.policy import PROFILES, load_policy
from toolkit.rules.registry import RULES

__all__ = ["rules_markdown"]

_HEAD = """# Compliance rules

The rules `windns audit` and `windns scan` run, generated from the registry
(`toolkit/rules/registry.py`; `windns rules list`, `windns rules explain ID` show the same).
Ids are stable: `AREA` + three digits; an id is never reused for another check.
Regenerate after changing a rule: `python -c "from toolkit.rules.docs import rules_markdown as m;
print(m(), end='')" > docs/rules.md`.

Columns *baseline*, *rfc*, *stig* give the severity in each built-in profile (`-` = not selected).
Severities: info < low < medium < high < critical. Thresholds come from the policy (`windns policy show`).
"""

_TAIL = """
Some rules give one hit a different severity than their default (KEY001: critical for a signed
zone, high for an unsigned zone holding keys; NSEC004: critical above the Windows limit, 9124;
ZONE002/SRV003: medium for access denied; TA001: low when another valid anchor remains; ALG002:
medium for an algorithm the policy does not list; DNS016: info for an algorithm RFC 8624 makes NOT
RECOMMENDED for signing, RsaSha512, as ALG002 inside). A policy's `[severity]` entry overrides both.
"""


def rules_markdown() -> str:
    pols = [load_policy(profile=p) for p in PROFILES]
    lines = [_HEAD, "| area | prefix |", "|---|---|"]
    lines += [f"| {v} | `{k}` |" for k, v in AREAS.items()]
    lines += [
        "",
        "| id | title | default | baseline | rfc | stig | predicts | references |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in RULES:
        cells = [p.severity_for(r.id, r.severity).label if p.is_selected(r.id) else "-" for p in pols]
        refs = "; ".join(r.all_references())
        lines.append(
            f"| {r.id} | {r.title} | {r.severity.label} | {' | '.join(cells)} | {r.win32 or ''} | {refs} |"
        )
    return "\n".join(lines) + "\n" + _TAIL
