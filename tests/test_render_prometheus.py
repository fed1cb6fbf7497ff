"""Prometheus textfile output: parses with prometheus_client's parser, escapes labels, writes
atomically, carries per-host and per-zone gauges, and a failed host's last success from history."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from rules_fixtures import NOW, D, inventory, key, zone

from toolkit.cli import main
from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.render import render
from toolkit.render.prometheus import metrics_text, write_textfile

ODD = 'dns"1\\odd\nname'


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
        Finding("KEY001", Severity.CRITICAL, Target(ODD, "a.example", "k-1"), "x"),
        Finding("KEY001", Severity.CRITICAL, Target(ODD, "a.example", "k-2"), "x"),
        Finding("KEY001", Severity.CRITICAL, Target(ODD, "b.example"), "x"),
        Finding("ROLL004", Severity.HIGH, Target(ODD, "a.example"), "y"),
        Finding("SRV001", Severity.MEDIUM, Target(ODD), "z"),
        Finding(
            "DNS000",
            Severity.INFO,
            Target(ODD),
            "view",
            {
                "zones": {
                    "a.example": {"reachable": True, "rrsig_expires": (NOW + 3 * D).isoformat()},
                    "b.example": {"reachable": False, "problem": "timeout: no answer"},
                }
            },
        ),
    ]
    hosts = (
        HostReport(ODD, inventory=inventory(z), findings=tuple(f), duration=1.25),
        HostReport("dns3", error=HostError("dns3", "timeout", "slow"), duration=30.0),
    )
    return Report(hosts=hosts, generated_at=NOW, duration=12.5)


Samples = dict[str, list[tuple[dict[str, str], float]]]


def _families(text: str) -> Samples:
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        assert fam.type == "gauge" and fam.documentation
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def _by(samples: list[tuple[dict[str, str], float]], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(lab[x] for x in labels): v for lab, v in samples}


def test_metrics_parse_and_carry_the_scan() -> None:
    text = metrics_text(_report())
    m = _families(text)
    assert m["windns_scan_hosts_total"] == [({}, 2.0)]
    assert _by(m["windns_scan_host_up"], "server") == {("dns3",): 0.0, (ODD,): 1.0}
    assert _by(m["windns_host_scan_duration_seconds"], "server") == {("dns3",): 30.0, (ODD,): 1.25}
    assert m["windns_scan_duration_seconds"] == [({}, 12.5)]
    assert m["windns_scan_timestamp_seconds"] == [({}, NOW.timestamp())]
    rolls = _by(m["windns_key_next_rollover_timestamp_seconds"], "server", "zone", "key_type")
    # earliest per zone and key type; a key without automatic rollover has none
    assert rolls == {
        (ODD, "a.example", "KSK"): (NOW + 50 * D).timestamp(),
        (ODD, "a.example", "ZSK"): (NOW + 5 * D).timestamp(),
    }
    assert "# HELP windns_findings " in text and "# TYPE windns_findings gauge" in text


def test_findings_by_server_and_zone_without_key_ids() -> None:
    m = _families(metrics_text(_report()))
    found = _by(m["windns_findings"], "server", "zone", "severity", "rule")
    assert found == {
        (ODD, "a.example", "critical", "KEY001"): 2.0,  # two keys, one series
        (ODD, "b.example", "critical", "KEY001"): 1.0,
        (ODD, "a.example", "high", "ROLL004"): 1.0,
        (ODD, "", "medium", "SRV001"): 1.0,
        (ODD, "", "info", "DNS000"): 1.0,
    }
    assert all(set(lab) == {"server", "zone", "severity", "rule"} for lab, _ in m["windns_findings"])


def test_signature_expiry_from_the_dns_view() -> None:
    m = _families(metrics_text(_report()))
    # b.example did not answer: no expiry, rather than a made-up one
    assert _by(m["windns_zone_signature_expiry_timestamp_seconds"], "server", "zone") == {
        (ODD, "a.example"): (NOW + 3 * D).timestamp()
    }


def test_last_success_is_this_scan_or_the_history_for_a_failed_host() -> None:
    earlier = datetime(2026, 2, 27, 6, 15, tzinfo=UTC)
    m = _families(metrics_text(_report(), {"dns3": earlier, ODD: earlier}))
    assert _by(m["windns_host_last_success_timestamp_seconds"], "server") == {
        (ODD,): NOW.timestamp(),
        ("dns3",): earlier.timestamp(),
    }
    # never audited: no sample (an alert on absence, not on a zero timestamp)
    m = _families(metrics_text(_report()))
    assert _by(m["windns_host_last_success_timestamp_seconds"], "server") == {(ODD,): NOW.timestamp()}


def test_write_textfile_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "windns.prom"
    target.write_text("old content\n", encoding="utf-8")
    renamed: list[tuple[str, str]] = []

    def spy(real: object) -> object:
        def move(src: str, dst: str) -> None:
            renamed.append((str(src), str(dst)))
            assert Path(src).parent == tmp_path and Path(src).read_text(encoding="utf-8").startswith("# HELP")
            assert not Path(src).name.endswith(".prom")  # the collector skips it
            assert target.read_text(encoding="utf-8") == "old content\n"  # untouched until the rename
            real(src, dst)  # type: ignore[operator]

        return move

    monkeypatch.setattr(os, "rename", spy(os.rename))
    monkeypatch.setattr(os, "replace", spy(os.replace))
    old_umask = os.umask(0o077)
    try:
        write_textfile(_report(), target)
    finally:
        os.umask(old_umask)
    assert len(renamed) == 1 and renamed[0][1] == str(target)
    assert _families(target.read_text(encoding="utf-8"))["windns_scan_hosts_total"] == [({}, 2.0)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["windns.prom"]  # no temp file left
    assert target.stat().st_mode & 0o777 == 0o644  # the collector's user can read it
    with pytest.raises(ConfigError, match="cannot write"):
        write_textfile(_report(), tmp_path / "missing-dir" / "x.prom")


def test_registered_as_a_report_format() -> None:
    out = io.StringIO()
    render(_report(), "prometheus", out)
    assert "windns_scan_host_up" in _families(out.getvalue())


def test_hosts_an_interruption_left_unscanned_are_counted() -> None:
    assert _families(metrics_text(_report()))["windns_scan_hosts_not_scanned"] == [({}, 0.0)]
    cut = dataclasses.replace(_report(), interrupted=True, not_scanned=("dns7", "dns8"))
    m = _families(metrics_text(cut))
    assert m["windns_scan_hosts_not_scanned"] == [({}, 2.0)] and m["windns_scan_interrupted"] == [({}, 1.0)]


def test_demo_scan_has_a_server_label_on_findings(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["scan", "--demo", "-f", "prometheus", "--db", str(tmp_path / "h.db")])
    assert r.exit_code == 1, r.output + r.stderr
    m = _families(r.stdout)
    servers = {lab["server"] for lab, _ in m["windns_findings"]}
    assert {lab["server"] for lab, _ in m["windns_scan_host_up"]} >= servers and len(servers) > 1
    assert any(lab["zone"] for lab, _ in m["windns_findings"])
    assert m["windns_key_next_rollover_timestamp_seconds"]


def test_a_failed_host_keeps_its_last_success_from_the_history(tmp_path: Path) -> None:
    """Scan a fleet, then the same fleet with one host failing: the textfile still says when
    that host was last audited, so "not scanned for 2 days" can alert on it."""
    inv = tmp_path / "fleet.toml"
    db = str(tmp_path / "h.db")
    prom = tmp_path / "windns.prom"

    def fleet(fail: bool) -> None:
        fake = '\nfake = { fail = "connect" }' if fail else ""
        inv.write_text(
            '[defaults]\ntransport = "fake"\n\n[[servers]]\nname = "dns1"\n\n'
            f'[[servers]]\nname = "dns2"{fake}\n',
            encoding="utf-8",
        )

    runner = CliRunner()
    fleet(False)
    first = runner.invoke(main, ["scan", str(inv), "-f", "prometheus", "-o", str(prom), "--db", db])
    assert first.exit_code == 1, first.output + first.stderr
    before = _by(
        _families(prom.read_text(encoding="utf-8"))["windns_host_last_success_timestamp_seconds"], "server"
    )
    fleet(True)
    second = runner.invoke(
        main, ["scan", str(inv), "-f", "prometheus", "-o", str(prom), "--db", db, "--retries", "0"]
    )
    assert second.exit_code == 2, second.output + second.stderr
    m = _families(prom.read_text(encoding="utf-8"))
    assert _by(m["windns_scan_host_up"], "server") == {("dns1",): 1.0, ("dns2",): 0.0}
    after = _by(m["windns_host_last_success_timestamp_seconds"], "server")
    assert after[("dns2",)] == pytest.approx(before[("dns2",)], abs=1.0)  # the first scan's start
    assert after[("dns1",)] >= before[("dns1",)]


def test_readme_alert_rules_use_metrics_and_labels_the_textfile_has(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (rules,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if "windns_" in b]
    r = CliRunner().invoke(main, ["scan", "--demo", "-f", "prometheus", "--db", str(tmp_path / "h.db")])
    m = _families(r.stdout)
    exprs = re.findall(r"expr: (.*)", rules)
    summaries = re.findall(r"summary: (.*)", rules)
    assert len(exprs) == len(summaries) == 2
    for expr, summary in zip(exprs, summaries, strict=True):
        (metric,) = set(re.findall(r"windns_\w+", expr))
        assert metric in m, metric
        labels = set().union(*(set(lab) for lab, _ in m[metric]))
        for name, value in re.findall(r'(\w+)="([^"]*)"', expr):
            assert name in labels and any(lab.get(name) == value for lab, _ in m[metric]), (name, value)
        assert set(re.findall(r"\$labels\.(\w+)", summary)) <= labels
