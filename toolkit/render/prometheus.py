"""Prometheus textfile-collector output (node_exporter ``--collector.textfile.directory``).

Metrics (all gauges)::

    windns_scan_hosts_total                         hosts in the scan
    windns_scan_hosts_not_scanned                   hosts an interruption left unscanned
    windns_scan_host_up{server}                     1 audited, 0 failed
    windns_findings{severity,rule}                  active findings
    windns_scan_duration_seconds                    wall time of the scan
    windns_scan_timestamp_seconds                   when the scan started (Unix time)
    windns_scan_interrupted                         1 when the scan was stopped before the end
    windns_key_next_rollover_timestamp_seconds{server,zone,key_type}
                                                    earliest next rollover of that key type

``write_textfile`` writes atomically (temporary file in the same directory, then
``os.replace``) so the collector never reads half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TextIO

from toolkit.errors import ConfigError
from toolkit.findings import Report
from toolkit.policy import Policy

__all__ = ["escape_label", "metrics_text", "render", "write_textfile"]


def escape_label(value: str) -> str:
    """Escape a label value for the text exposition format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _family(name: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines.extend(f"{name}{_labels(labels)} {_num(v)}" for labels, v in samples)
    return lines


def metrics_text(report: Report) -> str:
    hosts = report.hosts
    by_rule = Counter((f.severity.label, f.rule_id) for f in report.findings)
    rollovers: dict[tuple[str, str, str], datetime] = {}
    for h in hosts:
        if h.inventory is None:
            continue
        for key in h.inventory.iter_keys():
            if key.next_rollover_time is None or not key.rollover_enabled:
                continue
            k = (h.server, key.zone, key.key_type.short)
            if k not in rollovers or key.next_rollover_time < rollovers[k]:
                rollovers[k] = key.next_rollover_time
    lines: list[str] = []
    lines += _family("windns_scan_hosts_total", "Hosts in the last windns scan.", [({}, len(hosts))])
    lines += _family(
        "windns_scan_hosts_not_scanned",
        "Hosts of the inventory the last scan did not reach because it was interrupted.",
        [({}, len(report.not_scanned))],
    )
    lines += _family(
        "windns_scan_host_up",
        "1 when the host was audited, 0 when it failed.",
        (({"server": h.server}, 1 if h.ok else 0) for h in hosts),
    )
    lines += _family(
        "windns_findings",
        "Active findings of the last scan by severity and rule.",
        (({"severity": sev, "rule": rule}, n) for (sev, rule), n in sorted(by_rule.items())),
    )
    lines += _family(
        "windns_scan_duration_seconds", "Wall time of the last scan.", [({}, round(report.duration, 3))]
    )
    lines += _family(
        "windns_scan_timestamp_seconds",
        "Start of the last scan (Unix time).",
        [({}, round(report.generated_at.timestamp(), 3))],
    )
    lines += _family(
        "windns_scan_interrupted",
        "1 when the last scan was stopped before every host was done.",
        [({}, 1 if report.interrupted else 0)],
    )
    lines += _family(
        "windns_key_next_rollover_timestamp_seconds",
        "Earliest scheduled rollover per server, zone and key type (Unix time).",
        (
            ({"server": s, "zone": z, "key_type": t}, round(when.timestamp()))
            for (s, z, t), when in sorted(rollovers.items())
        ),
    )
    return "\n".join(lines) + "\n"


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    stream.write(metrics_text(report))


def write_textfile(report: Report, path: Path) -> None:
    """Write the metrics to ``path`` atomically (the collector never sees a partial file)."""
    text = metrics_text(report)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
