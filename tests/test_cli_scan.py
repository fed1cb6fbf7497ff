"""`windns scan`, `history`, `diff`, `rollovers` end to end (CliRunner and one real process)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from toolkit.cli import main
from toolkit.findings import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_LOCKED, EXIT_USAGE
from toolkit.history import scan_lock


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(main, list(args))
    assert "Traceback" not in r.output + r.stderr, r.output + r.stderr
    return r.exit_code, r.stdout, r.stderr


def test_demo_scan_then_history_and_diff(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    code, out, _ = invoke(runner, "scan", "--demo", "--db", db)
    assert code == EXIT_FINDINGS
    assert "Summary: 3 host(s) (0 failed)" in out
    code, out, _ = invoke(runner, "history", "list", "--db", db, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["status"] == "complete" and rows[0]["hosts"]["ok"] == 3
    assert rows[0]["findings"] > 0
    code, _, _ = invoke(runner, "-q", "scan", "--demo", "--db", db)
    assert code == EXIT_FINDINGS
    code, out, _ = invoke(runner, "diff", "--db", db)
    assert code == 0 and re.search(r"Findings: 0 new, 0 resolved, \d+ unchanged", out), out
    assert "No changes." in out
    code, out, _ = invoke(runner, "diff", "1", "2", "--db", db, "--format", "json")
    d = json.loads(out)
    assert d["a"]["id"] == 1 and d["b"]["id"] == 2 and d["findings"]["unchanged"] == rows[0]["findings"]
    code, out, _ = invoke(runner, "history", "show", "latest", "--db", db, "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["summary"]["hosts"] == 3 and len(shown["findings"]) == rows[0]["findings"]
    code, out, _ = invoke(runner, "history", "prune", "--keep", "1", "--db", db)
    assert code == 0 and "deleted 1 scan(s): 1" in out


def test_demo_all_includes_the_failing_host(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _ = invoke(runner, "scan", "--demo-all", "--db", str(tmp_path / "h.sqlite3"))
    assert code == EXIT_INCOMPLETE and "Access is denied" in out and "(1 failed)" in out


def test_html_and_prometheus_outputs(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    invoke(runner, "-q", "scan", "--demo", "--db", db)
    html_file, prom = tmp_path / "report.html", tmp_path / "x.prom"
    code, out, _ = invoke(runner, "scan", "--demo", "--db", db, "--format", "html", "-o", str(html_file))
    assert code == EXIT_FINDINGS and out == ""
    text = html_file.read_text(encoding="utf-8")
    assert not re.search(r"(?i)https?:", text) and text.count("<svg") == 2  # trend from history
    code, _, _ = invoke(runner, "scan", "--demo", "--db", db, "--format", "prometheus", "-o", str(prom))
    fams = {f.name: f for f in text_string_to_metric_families(prom.read_text(encoding="utf-8"))}
    assert fams["windns_scan_hosts_total"].samples[0].value == 3
    assert {s.labels["server"] for s in fams["windns_scan_host_up"].samples} == {
        "DNS1.corp.example",
        "DNS2.corp.example",
        "DNS4.branch.example",
    }
    assert fams["windns_key_next_rollover_timestamp_seconds"].samples
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_timeout_and_refused_hosts_do_not_stop_the_others(runner: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "fleet.toml"
    inv.write_text(
        '[defaults]\ntransport = "fake"\n\n'
        '[[servers]]\nname = "dns1"\n\n[[servers]]\nname = "dns2"\n\n'
        '[[servers]]\nname = "slowpoke"\naddress = "dns4"\nfake = { latency = 2.0 }\n\n'
        '[[servers]]\nname = "closed"\naddress = "dns1"\nfake = { fail = "refused" }\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "h.sqlite3")
    t0 = time.perf_counter()
    code, out, _ = invoke(
        runner, "scan", str(inv), "--db", db, "--host-timeout", "0.3", "--backoff", "0.01", "--format", "json"
    )
    assert time.perf_counter() - t0 < 1.8
    assert code == EXIT_INCOMPLETE
    hosts = {h["server"]: h for h in json.loads(out)["hosts"]}
    assert hosts["dns1"]["ok"] and hosts["dns2"]["ok"]
    assert hosts["slowpoke"]["error"]["kind"] == "timeout" and hosts["closed"]["error"]["kind"] == "connect"
    code, out, _ = invoke(runner, "history", "show", "--db", db, "--format", "json")
    assert {h["server"] for h in json.loads(out)["hosts"]} == {"dns1", "dns2", "slowpoke", "closed"}


def test_lock_contention_exit_code(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with scan_lock(db):
        code, out, err = invoke(runner, "scan", "--demo", "--db", str(db))
    assert code == EXIT_LOCKED and out == ""
    assert err.count("\n") == 1 and "another scan is running" in err and str(os.getpid()) in err
    code, _, _ = invoke(runner, "-q", "scan", "--demo", "--db", str(db))
    assert code == EXIT_FINDINGS


def test_rollovers_from_latest_scan(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    invoke(runner, "-q", "scan", "--demo", "--db", db)
    code, out, _ = invoke(runner, "rollovers", "--db", db, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    times = [r["next_rollover"] for r in rows if r["next_rollover"]]
    assert times == sorted(times)
    assert {"stuck", "scheduled"} <= {r["state"] for r in rows}
    code, out, _ = invoke(runner, "rollovers", "--db", db, "--format", "json", "--within", "30d")
    soon = json.loads(out)
    assert 0 < len(soon) < len(rows)
    assert all(r["state"] != "scheduled" or r["next_rollover"] for r in soon)
    code, out, _ = invoke(runner, "rollovers", "--db", db, "--within", "soon")
    assert code == EXIT_USAGE


def test_usage_and_missing_history(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = invoke(runner, "scan")
    assert code == EXIT_USAGE and "nothing to scan" in err
    code, _, err = invoke(runner, "scan", "--demo", "--format", "pdf")
    assert code == EXIT_USAGE
    code, _, err = invoke(runner, "history", "list", "--db", str(tmp_path / "none.sqlite3"))
    assert code == 4 and "run `windns scan` first" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[[servers]]\nname = "a"\npassword = "x"\n', encoding="utf-8")
    code, _, err = invoke(runner, "scan", str(bad), "--db", str(tmp_path / "h.sqlite3"))
    assert code == 4 and f"{bad}:3:" in err and "never put a password" in err and err.count("\n") == 1


def test_sigterm_keeps_finished_hosts(tmp_path: Path) -> None:
    """A real process: SIGTERM mid-scan, running hosts finish, the scan is kept as interrupted."""
    inv = tmp_path / "fleet.toml"
    servers = "".join(
        f'[[servers]]\nname = "h{i}"\naddress = "dns1"\nfake = {{ latency = 0.4 }}\n\n' for i in range(8)
    )
    inv.write_text('[defaults]\ntransport = "fake"\n\n' + servers, encoding="utf-8")
    db = tmp_path / "h.sqlite3"
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolkit",
            "scan",
            str(inv),
            "--db",
            str(db),
            "--concurrency",
            "2",
            "--grace",
            "5",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        recorded = 0
        while time.monotonic() < deadline and recorded < 2:
            time.sleep(0.05)
            if db.exists():
                try:
                    con = sqlite3.connect(db)
                    recorded = con.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    pass
        assert recorded >= 2, "the scan never recorded a host"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INCOMPLETE, err
    assert "interrupted" in err and "Traceback" not in err
    report = json.loads(out)
    assert report["interrupted"] is True
    done = {h["server"] for h in report["hosts"]}
    assert 2 <= len(done) < 8
    runner = CliRunner()
    r = runner.invoke(main, ["history", "show", "latest", "--db", str(db), "--format", "json"])
    stored = json.loads(r.stdout)
    assert {h["server"] for h in stored["hosts"]} == done and stored["interrupted"] is True
    r = runner.invoke(main, ["history", "list", "--db", str(db), "--format", "json"])
    assert json.loads(r.stdout)[0]["status"] == "interrupted"
