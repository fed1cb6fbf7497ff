"""Prometheus textfile output: parses with prometheus_client, escapes labels, writes atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rules_fixtures import NOW, D, inventory, key, zone

from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.render import render
from toolkit.render.prometheus import escape_label, metrics_text, write_textfile


def _report() -> Report:
    z = zone(
        "a.example",
        keys=(
            key("KSK", 1, zone="a.example", next_rollover_time=NOW + 100 * D),
            key("KSK", 2, zone="a.example", next_rollover_time=NOW + 50 * D),
            key("ZSK", 3, zone="a.example", next_rollover_time=NOW + 5 * D),
            key("ZSK", 4, zone="a.example", next_rollover_time=None, is_rollover_enabled=False),
        ),
    )
    f = [
        Finding("KEY001", Severity.CRITICAL, Target("dns1", "a.example"), "x"),
        Finding("KEY001", Severity.CRITICAL, Target("dns1", "b.example"), "x"),
        Finding("ROLL004", Severity.HIGH, Target("dns1", "a.example"), "y"),
    ]
    hosts = (
        HostReport('dns"1\\odd\nname', inventory=inventory(z), findings=tuple(f)),
        HostReport("dns3", error=HostError("dns3", "timeout", "slow")),
    )
    return Report(hosts=hosts, generated_at=NOW, duration=12.5)


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        assert fam.type == "gauge" and fam.documentation
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def test_metrics_parse_and_carry_the_scan() -> None:
    text = metrics_text(_report())
    m = _families(text)
    odd = 'dns"1\\odd\nname'
    assert m["windns_scan_hosts_total"] == [({}, 2.0)]
    assert sorted(m["windns_scan_host_up"], key=lambda x: x[1]) == [
        ({"server": "dns3"}, 0.0),
        ({"server": odd}, 1.0),
    ]
    assert sorted(m["windns_findings"], key=lambda x: x[1]) == [
        ({"severity": "high", "rule": "ROLL004"}, 1.0),
        ({"severity": "critical", "rule": "KEY001"}, 2.0),
    ]
    assert m["windns_scan_duration_seconds"] == [({}, 12.5)]
    assert m["windns_scan_timestamp_seconds"] == [({}, NOW.timestamp())]
    rolls = {lab["key_type"]: v for lab, v in m["windns_key_next_rollover_timestamp_seconds"]}
    assert rolls == {"KSK": (NOW + 50 * D).timestamp(), "ZSK": (NOW + 5 * D).timestamp()}  # earliest per type
    assert "# HELP windns_findings " in text and "# TYPE windns_findings gauge" in text


def test_escape_label() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_write_textfile_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "windns.prom"
    target.write_text("old content\n", encoding="utf-8")
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        assert Path(src).parent == tmp_path and Path(src).read_text(encoding="utf-8").startswith("# HELP")
        assert target.read_text(encoding="utf-8") == "old content\n"  # untouched until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_textfile(_report(), target)
    assert len(replaced) == 1 and replaced[0][1] == str(target)
    assert _families(target.read_text(encoding="utf-8"))["windns_scan_hosts_total"] == [({}, 2.0)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["windns.prom"]  # no temp file left
    with pytest.raises(ConfigError, match="cannot write"):
        write_textfile(_report(), tmp_path / "missing-dir" / "x.prom")


def test_registered_as_a_report_format() -> None:
    out = io.StringIO()
    render(_report(), "prometheus", out)
    assert "windns_scan_host_up" in out.getvalue()


def test_hosts_an_interruption_left_unscanned_are_counted() -> None:
    import dataclasses

    assert _families(metrics_text(_report()))["windns_scan_hosts_not_scanned"] == [({}, 0.0)]
    cut = dataclasses.replace(_report(), interrupted=True, not_scanned=("dns7", "dns8"))
    m = _families(metrics_text(cut))
    assert m["windns_scan_hosts_not_scanned"] == [({}, 2.0)] and m["windns_scan_interrupted"] == [({}, 1.0)]
