"""JSON report: schema ``windns.report`` version 1 (documented in docs/report-schema.md)."""

from __future__ import annotations

import json as _json
from typing import Any, TextIO

from toolkit.findings import Report
from toolkit.policy import Policy
from toolkit.render.common import finding_dict, host_error_dict

__all__ = ["SCHEMA", "VERSION", "render", "report_dict"]

SCHEMA = "windns.report"
VERSION = 1


def report_dict(report: Report, policy: Policy | None = None) -> dict[str, Any]:
    hosts = []
    for h in report.hosts:
        hosts.append(
            {
                "server": h.server,
                "ok": h.ok,
                "duration": round(h.duration, 3),
                "zones": len(h.inventory.zones) if h.inventory else None,
                "findings": len(h.findings),
                "suppressed": len(h.suppressed),
                "error": host_error_dict(h.error) if h.error else None,
            }
        )
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "generated_at": report.generated_at.isoformat(),
        "policy": {
            "name": policy.name if policy else report.policy_name,
            "fail_on": policy.fail_on.label if policy else None,
        },
        "duration": round(report.duration, 3),
        "interrupted": report.interrupted,
        "summary": report.summary(),
        "hosts": hosts,
        "not_scanned": list(report.not_scanned),
        "findings": [finding_dict(f, report.rules) for f in report.findings],
        "suppressed": [finding_dict(f, report.rules) for f in report.suppressed],
    }


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    _json.dump(report_dict(report, policy), stream, indent=2, sort_keys=False)
    stream.write("\n")
