"""CSV report: one row per finding, suppressed finding and host error (``status`` column)."""

from __future__ import annotations

import csv as _csv
import json as _json
from typing import TextIO

from toolkit.findings import Report
from toolkit.policy import Policy
from toolkit.render.common import finding_dict

__all__ = ["COLUMNS", "render"]

COLUMNS = (
    "status",
    "severity",
    "rule_id",
    "title",
    "server",
    "zone",
    "key_id",
    "key_tag",
    "key_algorithm",
    "message",
    "suppressed_reason",
    "evidence",
)


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    w = _csv.writer(stream, lineterminator="\n")
    w.writerow(COLUMNS)
    for status, findings in (("finding", report.findings), ("suppressed", report.suppressed)):
        for f in findings:
            d = finding_dict(f, report.rules)
            d["status"] = status
            d["evidence"] = _json.dumps(d["evidence"], sort_keys=True)
            w.writerow(["" if d.get(c) is None else d[c] for c in COLUMNS])
    for e in report.host_errors:
        code = f" (Win32 {e.code})" if e.code is not None else ""
        row = dict.fromkeys(COLUMNS, "")
        row.update(status="host-error", title=e.kind, server=e.server, message=e.message + code)
        w.writerow([row[c] for c in COLUMNS])
