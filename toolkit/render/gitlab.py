"""GitLab Code Quality report (``artifacts:reports:codequality``): a JSON array with one issue
per active finding and per host that could not be audited (the ``gitlab`` output format of ruff
and other linters).

Each issue has what GitLab's "Code Quality report format" asks for: ``description``,
``check_name`` (the rule id), ``fingerprint`` (unique in the report; GitLab shows one issue per
fingerprint, and compares them between the merge request and its target branch),
``severity`` (``info``, ``minor``, ``major``, ``critical`` or ``blocker``) and
``location.path`` with ``location.lines.begin``: the inventory file and the line that names the
server, or the stable stand-in path ``windns/hosts/<server>`` when no file does. The fingerprint
is a hash of what the finding is about (rule, server, zone, key), never of the line, so editing
the inventory does not make old issues look fixed and new ones appear. Suppressed findings are
left out (the format has no suppressions).
"""

from __future__ import annotations

import json as _json
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from toolkit.findings import Report, Severity
from toolkit.policy import Policy
from toolkit.render.common import Place, finding_identity, host_place, identity_hash, target_label

__all__ = ["SEVERITIES", "code_quality", "render"]

SEVERITIES = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def _issue(
    check: str, description: str, severity: str, identity: str, place: Place, seen: Counter[str]
) -> dict[str, Any]:
    seen[identity] += 1
    n = seen[identity]
    return {
        "description": description,
        "check_name": check,
        "fingerprint": identity_hash(identity if n == 1 else f"{identity}#{n}", 32),
        "severity": severity,
        "location": {"path": place.path, "lines": {"begin": place.line}},
    }


def code_quality(report: Report, *, root: Path | None = None) -> list[dict[str, Any]]:
    seen: Counter[str] = Counter()
    issues: list[dict[str, Any]] = []
    for h in report.hosts:
        place = host_place(h, root)
        if h.error is not None:
            e = h.error
            code = f" (Win32 {e.code})" if e.code is not None else ""
            issues.append(
                _issue(
                    "windns/host-error",
                    f"{e.server} could not be audited: {e.kind}: {e.message}{code}",
                    "critical",
                    f"host-error/{e.server.lower()}",
                    place,
                    seen,
                )
            )
        for f in h.findings:
            issues.append(
                _issue(
                    f.rule_id,
                    f"{f.rule_id} {report.rules.title(f.rule_id)}: {target_label(f)}: {f.message}",
                    SEVERITIES[f.severity],
                    finding_identity(f),
                    place,
                    seen,
                )
            )
    return issues


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    _json.dump(code_quality(report), stream, indent=2)
    stream.write("\n")
