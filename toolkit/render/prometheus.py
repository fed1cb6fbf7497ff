"""Prometheus textfile-collector output (node_exporter ``--collector.textfile.directory``),
made with prometheus_client: its exposition writer, and ``write_to_textfile`` for the file.

Metrics (all gauges)::

    windns_scan_hosts_total                         hosts in the scan
    windns_scan_hosts_not_scanned                   hosts an interruption left unscanned
    windns_scan_host_up{server}                     1 audited, 0 failed
    windns_host_last_success_timestamp_seconds{server}
                                                    last scan that audited the host (Unix time):
                                                    this one, or for a host that failed now, the
                                                    last one the history recorded
    windns_host_scan_duration_seconds{server}       wall time of the host, retries included
    windns_findings{server,zone,severity,rule}      active findings (zone "" for the server's own)
    windns_scan_duration_seconds                    wall time of the scan
    windns_scan_timestamp_seconds                   when the scan started (Unix time)
    windns_scan_interrupted                         1 when the scan was stopped before the end
    windns_key_next_rollover_timestamp_seconds{server,zone,key_type}
                                                    earliest next rollover of that key type
    windns_zone_signature_expiry_timestamp_seconds{server,zone}
                                                    the first served RRSIG to expire (needs the
                                                    DNS view, ``--dns``: DNS000's evidence)

Labels stay bounded: servers, zones, rules and severities, never key ids or messages.
``write_textfile`` writes atomically (``write_to_textfile``: a temporary file beside the target,
which the collector ignores as it does not end in ``.prom``, then a rename), so the collector
never reads half a file.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TextIO

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest, write_to_textfile
from prometheus_client.registry import Collector, CollectorRegistry

from toolkit.errors import ConfigError
from toolkit.findings import HostReport, Report
from toolkit.policy import Policy

__all__ = ["ReportCollector", "metrics_text", "registry_for", "render", "write_textfile"]


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _expiries(host: HostReport) -> dict[str, datetime]:
    """Per zone, when the first RRSIG the DNS view saw expires (from DNS000's evidence)."""
    out: dict[str, datetime] = {}
    for f in (*host.findings, *host.suppressed):
        zones = f.evidence.get("zones") if f.rule_id == "DNS000" else None
        if not isinstance(zones, Mapping):
            continue
        for zone, seen in zones.items():
            when = seen.get("rrsig_expires") if isinstance(seen, Mapping) else None
            if isinstance(when, str):
                try:
                    out[str(zone)] = datetime.fromisoformat(when)
                except ValueError:
                    continue
    return out


class ReportCollector(Collector):
    """The metrics of one report. ``last_success`` (server -> time) is when each host was last
    audited according to the history; hosts audited in this report are this report's time."""

    def __init__(self, report: Report, last_success: Mapping[str, datetime] | None = None) -> None:
        self.report = report
        self.last_success = dict(last_success or {})

    def collect(self) -> Iterator[GaugeMetricFamily]:
        r = self.report
        hosts = r.hosts
        g = _gauge("windns_scan_hosts_total", "Hosts in the last windns scan.")
        g.add_metric([], len(hosts))
        yield g
        g = _gauge(
            "windns_scan_hosts_not_scanned",
            "Hosts of the inventory the last scan did not reach because it was interrupted.",
        )
        g.add_metric([], len(r.not_scanned))
        yield g
        up = _gauge("windns_scan_host_up", "1 when the host was audited, 0 when it failed.", ("server",))
        last = _gauge(
            "windns_host_last_success_timestamp_seconds",
            "When the host was last audited successfully (Unix time).",
            ("server",),
        )
        took = _gauge(
            "windns_host_scan_duration_seconds", "Wall time of the host in the last scan.", ("server",)
        )
        started = r.generated_at.timestamp()
        for h in hosts:
            up.add_metric([h.server], 1 if h.ok else 0)
            took.add_metric([h.server], round(h.duration, 3))
            when = started if h.ok else (t.timestamp() if (t := self.last_success.get(h.server)) else None)
            if when is not None:
                last.add_metric([h.server], round(when, 3))
        yield from (up, last, took)
        counts = Counter(
            (f.target.server, f.target.zone or "", f.severity.label, f.rule_id) for f in r.findings
        )
        g = _gauge(
            "windns_findings",
            "Active findings of the last scan by server, zone, severity and rule.",
            ("server", "zone", "severity", "rule"),
        )
        for labels, n in sorted(counts.items()):
            g.add_metric(list(labels), n)
        yield g
        g = _gauge("windns_scan_duration_seconds", "Wall time of the last scan.")
        g.add_metric([], round(r.duration, 3))
        yield g
        g = _gauge("windns_scan_timestamp_seconds", "Start of the last scan (Unix time).")
        g.add_metric([], round(started, 3))
        yield g
        g = _gauge("windns_scan_interrupted", "1 when the last scan was stopped before every host was done.")
        g.add_metric([], 1 if r.interrupted else 0)
        yield g
        yield self._rollovers()
        g = _gauge(
            "windns_zone_signature_expiry_timestamp_seconds",
            "When the first RRSIG the zone serves expires, as the DNS view saw it (Unix time).",
            ("server", "zone"),
        )
        for h in hosts:
            for zone, expires in sorted(_expiries(h).items()):
                g.add_metric([h.server, zone], round(expires.timestamp()))
        yield g

    def _rollovers(self) -> GaugeMetricFamily:
        rollovers: dict[tuple[str, str, str], datetime] = {}
        for h in self.report.hosts:
            if h.inventory is None:
                continue
            for key in h.inventory.iter_keys():
                if key.next_rollover_time is None or not key.rollover_enabled:
                    continue
                k = (h.server, key.zone, key.key_type.short)
                if k not in rollovers or key.next_rollover_time < rollovers[k]:
                    rollovers[k] = key.next_rollover_time
        g = _gauge(
            "windns_key_next_rollover_timestamp_seconds",
            "Earliest scheduled rollover per server, zone and key type (Unix time).",
            ("server", "zone", "key_type"),
        )
        for labels, when in sorted(rollovers.items()):
            g.add_metric(list(labels), round(when.timestamp()))
        return g


def registry_for(report: Report, last_success: Mapping[str, datetime] | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportCollector(report, last_success))
    return registry


def metrics_text(report: Report, last_success: Mapping[str, datetime] | None = None) -> str:
    return generate_latest(registry_for(report, last_success)).decode("utf-8")


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    stream.write(metrics_text(report))


def write_textfile(report: Report, path: Path, last_success: Mapping[str, datetime] | None = None) -> None:
    """Write the metrics to ``path`` atomically (the collector never sees a partial file),
    readable by the collector whatever the umask (mode 0644)."""
    try:
        write_to_textfile(str(path), registry_for(report, last_success))
        os.chmod(path, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
