"""SARIF 2.1.0 report: rules with help text and references, levels from severity, suppressed
findings with ``suppressions`` (checkov/ruff style).

Made for GitHub code scanning ("SARIF support for code scanning", docs.github.com), which needs
on every result a ``locations[0].physicalLocation`` with ``artifactLocation.uri`` (a path
relative to the repository root) and ``region.startLine``, and which matches results across runs
by ``partialFingerprints.primaryLocationLineHash`` only. So each result points at the line of the
inventory file that names its server (or, with no file, at the stable stand-in path
``windns/hosts/<server>``: ``--host``, the demo fleet), keeps the server and zone as logical
locations too, and carries a ``primaryLocationLineHash`` of what the finding is about (rule,
server, zone, key): editing the inventory moves the line, not the alert. The region is the whole
line (startLine only, as in GitHub's example; SARIF's defaults make it the full line).
"""

from __future__ import annotations

import json as _json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from toolkit.__about__ import __version__
from toolkit.findings import Finding, Report, RuleInfo, Severity
from toolkit.policy import Policy
from toolkit.render.common import (
    Place,
    finding_identity,
    host_place,
    identity_hash,
    key_label,
    placed_findings,
    plain,
)

__all__ = ["LEVELS", "SARIF_SCHEMA", "render", "sarif_dict"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub code scanning's numeric severity (0-10)
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(rule: RuleInfo) -> dict[str, Any]:
    refs = list(rule.references)
    help_text = (
        f"{rule.checks}\n\nWhy it matters: {rule.why}\n\nRemediation:\n{rule.remediation}\n\nReferences:\n"
        + "\n".join(f"- {r}" for r in refs)
    )
    help_md = (
        f"{rule.checks}\n\n**Why it matters:** {rule.why}\n\n**Remediation:**\n\n```powershell\n"
        f"{rule.remediation}\n```\n\n**References:**\n\n" + "\n".join(f"- {r}" for r in refs)
    )
    return {
        "id": rule.id,
        "name": "".join(
            w.capitalize() for w in rule.title.replace("/", " ").replace("-", " ").split() if w.isalnum()
        ),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.checks},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["dnssec", "windows-dns", rule.area.lower()],
            "references": refs,
            "severity": rule.severity.label,
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def _physical(place: Place) -> dict[str, Any]:
    return {"artifactLocation": {"uri": place.uri}, "region": {"startLine": place.line}}


def _host_location(server: str, place: Place) -> dict[str, Any]:
    return {
        "physicalLocation": _physical(place),
        "logicalLocations": [{"name": server, "fullyQualifiedName": server, "kind": "module"}],
    }


def _location(f: Finding, place: Place) -> dict[str, Any]:
    loc = _host_location(f.target.server, place)
    if f.target.zone:
        loc["logicalLocations"].append(
            {
                "name": f.target.zone,
                "fullyQualifiedName": f"{f.target.server}/{f.target.zone}",
                "kind": "namespace",
            }
        )
    return loc


def _result(f: Finding, index: Mapping[str, int], place: Place, occurrence: int) -> dict[str, Any]:
    text = f.message + (f" ({key_label(f)})" if f.target.key_id else "")
    identity = finding_identity(f)
    res: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [_location(f, place)],
        "partialFingerprints": {
            # GitHub's form: a hex hash, ":" and the occurrence of that hash in the run
            "primaryLocationLineHash": f"{identity_hash(identity)}:{occurrence}",
            "windnsTarget/v1": identity,
        },
        "properties": {"severity": f.severity.label, "evidence": plain(f.evidence)},
    }
    if f.rule_id in index:
        res["ruleIndex"] = index[f.rule_id]
    if f.suppressed:
        res["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": f.suppressed_reason}
        ]
    return res


def sarif_dict(report: Report, policy: Policy | None = None, *, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log; inventory paths are relative to ``root`` (default: the working directory,
    the repository root in CI) when they lie inside it."""
    rules = list(report.rules.selected(policy))
    present = {f.rule_id for f in (*report.findings, *report.suppressed)}
    rules += [r for rid in sorted(present) if (r := report.rules.get(rid)) is not None and r not in rules]
    index = {r.id: i for i, r in enumerate(rules)}
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{e.server}: {e.kind}: {e.message}"},
            "locations": [_host_location(e.server, host_place(h, root))],
        }
        for h in report.hosts
        if (e := h.error) is not None
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.host_errors and not report.interrupted,
        "endTimeUtc": report.generated_at.isoformat().replace("+00:00", "Z"),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "windns",
                        "fullName": "windns-toolkit DNSSEC compliance audit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "invocations": [invocation],
                "results": _results(report, index, root),
                "properties": {"policy": policy.name if policy else report.policy_name},
            }
        ],
    }


def _results(report: Report, index: Mapping[str, int], root: Path | None) -> list[dict[str, Any]]:
    seen: Counter[str] = Counter()
    out = []
    for f, place in placed_findings(report, root):
        seen[finding_identity(f)] += 1
        out.append(_result(f, index, place, seen[finding_identity(f)]))
    return out


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    _json.dump(sarif_dict(report, policy), stream, indent=2)
    stream.write("\n")
