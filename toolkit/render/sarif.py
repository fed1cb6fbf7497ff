"""SARIF 2.1.0 report: rules with help text and references, levels from severity, logical
locations server/zone (no files), suppressed findings with ``suppressions`` (checkov/ruff style).
"""

from __future__ import annotations

import json as _json
from typing import Any, TextIO

from toolkit.__about__ import __version__
from toolkit.findings import Finding, Report, Severity
from toolkit.policy import Policy
from toolkit.render.common import plain, rules_for
from toolkit.rules import Rule, get_rule

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


def _rule(rule: Rule) -> dict[str, Any]:
    refs = list(rule.all_references())
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


def _location(f: Finding) -> dict[str, Any]:
    logical = [{"name": f.target.server, "fullyQualifiedName": f.target.server, "kind": "module"}]
    if f.target.zone:
        logical.append(
            {
                "name": f.target.zone,
                "fullyQualifiedName": f"{f.target.server}/{f.target.zone}",
                "kind": "namespace",
            }
        )
    return {"logicalLocations": logical}


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    text = f.message + (f" (key {f.target.key_id})" if f.target.key_id else "")
    res: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [_location(f)],
        "partialFingerprints": {
            "windnsTarget/v1": "/".join(
                [f.rule_id, f.target.server.lower(), (f.target.zone or "").lower(), f.target.key_id or ""]
            )
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


def sarif_dict(report: Report, policy: Policy | None = None) -> dict[str, Any]:
    rules = list(rules_for(policy))
    present = {f.rule_id for f in (*report.findings, *report.suppressed)}
    rules += [r for rid in sorted(present) if (r := get_rule(rid)) is not None and r not in rules]
    index = {r.id: i for i, r in enumerate(rules)}
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{e.server}: {e.kind}: {e.message}"},
            "locations": [
                {"logicalLocations": [{"name": e.server, "fullyQualifiedName": e.server, "kind": "module"}]}
            ],
        }
        for e in report.host_errors
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
                "results": [_result(f, index) for f in (*report.findings, *report.suppressed)],
                "properties": {"policy": policy.name if policy else report.policy_name},
            }
        ],
    }


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    _json.dump(sarif_dict(report, policy), stream, indent=2)
    stream.write("\n")
