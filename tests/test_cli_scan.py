"""`windns scan`, `history`, `diff`, `rollovers` end to end (CliRunner and one real process)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from toolkit.cli import main
from toolkit.findings import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_LOCKED, EXIT_USAGE
from toolkit.history import scan_lock
from toolkit.testing.fake_remote import FakeRemote


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(main, list(args))
    assert "Traceback" not in r.output + r.stderr, r.output + r.stderr
    return r.exit_code, r.stdout, r.stderr


def _process(*args: str) -> subprocess.Popen[str]:
    """`windns ARGS` in a real process (signals, exit of the interpreter)."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def _fake_fleet(path: Path, servers: list[tuple[str, str, float]]) -> Path:
    """An inventory of fake servers: (name, simulated server, latency per call)."""
    body = "".join(
        f'[[servers]]\nname = "{n}"\naddress = "{a}"\nfake = {{ latency = {lat} }}\n\n'
        for n, a, lat in servers
    )
    path.write_text('[defaults]\ntransport = "fake"\n\n' + body, encoding="utf-8")
    return path


def test_demo_scan_then_history_and_diff(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    code, out, _ = invoke(runner, "scan", "--demo", "--db", db)
    assert code == EXIT_FINDINGS
    assert "Summary: 5 host(s) (0 failed)" in out
    code, out, _ = invoke(runner, "history", "list", "--db", db, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["status"] == "complete" and rows[0]["hosts"]["ok"] == 5
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
    assert code == 0 and shown["summary"]["hosts"] == 5 and len(shown["findings"]) == rows[0]["findings"]
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
    assert not re.search(r"(?i)https?:", text)
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', text)
    assert charts == [
        "Findings per severity",
        "Findings over the last scans",
        "Rollovers in the next 90 days",
    ]
    code, _, _ = invoke(runner, "scan", "--demo", "--db", db, "--format", "prometheus", "-o", str(prom))
    fams = {f.name: f for f in text_string_to_metric_families(prom.read_text(encoding="utf-8"))}
    assert fams["windns_scan_hosts_total"].samples[0].value == 5
    assert {s.labels["server"] for s in fams["windns_scan_host_up"].samples} == {
        "DNS1.corp.example",
        "DNS2.corp.example",
        "DNS4.branch.example",
        "DNS5.lab.example",
        "DNS6.corp.example",
    }
    assert fams["windns_key_next_rollover_timestamp_seconds"].samples
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_timeout_and_refused_hosts_do_not_stop_the_others(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = tmp_path / "fleet.toml"
    inv.write_text(
        '[defaults]\ntransport = "fake"\n\n'
        '[[servers]]\nname = "dns1"\n\n[[servers]]\nname = "dns2"\n\n'
        '[[servers]]\nname = "slowpoke"\naddress = "dns4"\nfake = { latency = 2.0 }\n\n'
        '[[servers]]\nname = "closed"\naddress = "dns1"\nfake = { fail = "refused" }\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "h.sqlite3")
    # slowpoke's calls wait for the test, not for their latency: the scan must end without them
    release, slow_calls = threading.Event(), []
    plain_run = FakeRemote.run

    def run(self: FakeRemote, script: str, params: Any = None) -> Any:
        if self.host == "slowpoke":
            slow_calls.append(script)
            release.wait(60)
            self.latency = 0.0
        return plain_run(self, script, params)

    monkeypatch.setattr(FakeRemote, "run", run)
    try:
        code, out, _ = invoke(
            runner,
            "scan",
            str(inv),
            "--db",
            db,
            "--host-timeout",
            "0.3",
            "--backoff",
            "0.01",
            "--format",
            "json",
        )
        # the scan was over while slowpoke's one call was still waiting
        assert len(slow_calls) == 1 and not release.is_set()
    finally:
        release.set()
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


def test_sigterm_keeps_finished_hosts_and_counts_the_rest(tmp_path: Path) -> None:
    """A real process: SIGTERM mid-scan, running hosts finish within the grace time, a stuck one
    is cut off, the scan is kept as interrupted and says which hosts it never scanned."""
    names = [f"h{i}" for i in range(9)]
    inv = _fake_fleet(tmp_path / "fleet.toml", [("h0", "dns1", 30.0), *((n, "dns1", 0.4) for n in names[1:])])
    db = tmp_path / "h.sqlite3"
    proc = _process(
        "scan", str(inv), "--db", str(db), "--concurrency", "2", "--grace", "1.5", "--format", "json"
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
        # h0's one call takes 30 s: a process that waited for it would not end in time here
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INCOMPLETE, err
    assert "interrupted" in err and "Traceback" not in err
    report = json.loads(out)
    assert report["interrupted"] is True
    done = [h["server"] for h in report["hosts"]]
    assert 2 <= len(done) < 9 and "h0" not in done
    # after the signal no host started: only the one running beside h0 finished (and, at most,
    # one that finished as the signal was sent, before its record was read)
    assert len(done) <= recorded + 2
    not_scanned = report["not_scanned"]
    assert not_scanned[0] == "h0"  # cut off at the end of the grace time
    assert sorted(done + not_scanned) == names and not_scanned == sorted(not_scanned)
    assert report["summary"]["hosts_not_scanned"] == len(not_scanned) == 9 - len(done)
    assert f"{len(done)} of 9 host(s) finished, {len(not_scanned)} not scanned" in err
    runner = CliRunner()
    r = runner.invoke(main, ["history", "show", "latest", "--db", str(db), "--format", "json"])
    stored = json.loads(r.stdout)
    assert [h["server"] for h in stored["hosts"]] == done and stored["interrupted"] is True
    assert stored["not_scanned"] == not_scanned
    r = runner.invoke(main, ["history", "list", "--db", str(db), "--format", "json"])
    row = json.loads(r.stdout)[0]
    assert row["status"] == "interrupted" and row["hosts"]["not_scanned"] == len(not_scanned)
    r = runner.invoke(main, ["history", "show", "latest", "--db", str(db)])
    assert f"{len(not_scanned)} not scanned" in r.stdout.splitlines()[0]
    assert f"INTERRUPTED, {len(not_scanned)} host(s) not scanned" in r.stdout
    assert "Not scanned: " + ", ".join(not_scanned) in r.stdout


def test_host_timeout_ends_the_process_without_waiting_for_the_stuck_call(tmp_path: Path) -> None:
    # the stuck call takes 600 s: a process that waited for it would not end within the 30 s here
    inv = _fake_fleet(tmp_path / "fleet.toml", [("stuck", "dns2", 600.0), ("quick", "dns1", 0.0)])
    db = tmp_path / "h.sqlite3"
    proc = _process("scan", str(inv), "--db", str(db), "--host-timeout", "1", "--format", "json")
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INCOMPLETE and "Traceback" not in err
    hosts = {h["server"]: h for h in json.loads(out)["hosts"]}
    assert hosts["quick"]["ok"] and hosts["stuck"]["error"]["kind"] == "timeout"
    r = CliRunner().invoke(main, ["history", "show", "latest", "--db", str(db), "--format", "json"])
    assert [h["server"] for h in json.loads(r.stdout)["hosts"]] == ["stuck", "quick"]


def test_hosts_and_findings_in_inventory_order_run_after_run(runner: CliRunner, tmp_path: Path) -> None:
    # the first servers answer last: completion order is the reverse of the inventory's
    order = [("c-first", "dns4", 0.3), ("a-second", "dns2", 0.15), ("b-third", "dns1", 0.0)]
    inv = _fake_fleet(tmp_path / "fleet.toml", order)
    db = str(tmp_path / "h.sqlite3")
    runs = []
    for _ in range(2):
        code, out, _ = invoke(runner, "scan", str(inv), "--db", db, "--format", "json", "-j", "3")
        assert code == EXIT_FINDINGS
        runs.append(json.loads(out))
    names = [n for n, _, _ in order]
    for doc in runs:
        assert [h["server"] for h in doc["hosts"]] == names
    # the same findings in the same order (evidence holds times from the simulated clock)
    where = [[(f["server"], f["zone"], f["rule_id"], f["key_id"]) for f in doc["findings"]] for doc in runs]
    assert where[0] == where[1]
    hosts_of_findings = [f["server"] for f in runs[0]["findings"]]
    computer = {
        "c-first": "DNS4.branch.example",
        "a-second": "DNS2.corp.example",
        "b-third": "DNS1.corp.example",
    }
    assert list(dict.fromkeys(hosts_of_findings)) == [computer[n] for n in names]
    code, out, _ = invoke(runner, "scan", str(inv), "--db", db, "-j", "3")
    heads = [line.split()[0] for line in out.splitlines() if line.split()[:1] and line.split()[0] in names]
    assert heads == names  # the table too
    code, out, _ = invoke(runner, "history", "show", "latest", "--db", db, "--format", "json")
    assert [h["server"] for h in json.loads(out)["hosts"]] == names


def test_basic_over_plain_http_fails_at_load_with_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "fleet.toml"
    inv.write_text(
        '[[servers]]\nname = "ok"\n\n[[servers]]\nname = "clear"\nauth = "basic"\nhttps = false\n',
        encoding="utf-8",
    )
    db = tmp_path / "h.sqlite3"
    code, out, err = invoke(runner, "scan", str(inv), "--db", str(db))
    assert code == 4 and out == "" and err.count("\n") == 1
    assert f"{inv}:6:" in err and "clear" in err and "in the clear" in err
    assert not db.exists()  # refused before anything ran
    # the command line's --allow-basic-over-http is the fallback the file did not override
    code, _, err = invoke(
        runner, "--allow-basic-over-http", "scan", str(inv), "--db", str(db), "--only", "nothing"
    )
    assert code == 4 and "no server named 'nothing'" in err


def test_explicit_db_in_a_missing_directory_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    code, out, err = invoke(runner, "scan", "--demo", "--db", str(missing))
    assert code == 4 and out == "" and err.count("\n") == 1
    assert f"directory {missing.parent} does not exist" in err
    assert not (tmp_path / "no").exists()
    # the default database's directory is made as needed
    data = tmp_path / "data-home"
    r = runner.invoke(
        main, ["-q", "--transport", "fake", "scan", "--host", "dns1"], env={"XDG_DATA_HOME": str(data)}
    )
    assert r.exit_code == EXIT_FINDINGS and (data / "windns" / "history.sqlite3").is_file()
    # --no-history never looks at --db
    code, _, _ = invoke(runner, "-q", "scan", "--demo", "--no-history", "--db", str(missing))
    assert code == EXIT_FINDINGS


def test_seconds_options_refuse_nan_inf_zero_and_negative(runner: CliRunner, tmp_path: Path) -> None:
    inv = _fake_fleet(tmp_path / "fleet.toml", [("h0", "dns1", 0.0)])
    db = str(tmp_path / "h.sqlite3")
    for option in ("--host-timeout", "--backoff", "--grace"):
        for value in ("nan", "inf", "-inf", "-1"):
            code, out, err = invoke(runner, "scan", str(inv), "--db", db, option, value)
            assert code == EXIT_USAGE and option in err and out == "", (option, value, err)
    code, _, err = invoke(runner, "scan", str(inv), "--db", db, "--host-timeout", "0")
    assert code == EXIT_USAGE and "--host-timeout" in err
    code, _, err = invoke(runner, "--connect-timeout", "nan", "scan", str(inv), "--db", db)
    assert code == EXIT_USAGE and "--connect-timeout" in err
    assert not (tmp_path / "h.sqlite3").exists()  # refused before anything ran
    code, _, _ = invoke(runner, "scan", str(inv), "--db", db, "--host-timeout", "5", "--grace", "0")
    assert code in (0, 1)


def test_a_scan_killed_without_cleanup_reports_the_hosts_it_never_scanned(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to record what was not scanned: the scan's host list is stored
    when it starts, so the history tells the hosts never scanned, before and after the next
    scan marks the dead one interrupted."""
    names = [f"h{i:02d}" for i in range(30)]
    inv = _fake_fleet(tmp_path / "fleet.toml", [(n, "dns1", 0.3) for n in names])
    db = tmp_path / "h.sqlite3"
    proc = _process("scan", str(inv), "--db", str(db), "--concurrency", "2", "--format", "json")
    try:
        deadline = time.monotonic() + 30
        recorded = 0
        while time.monotonic() < deadline and recorded < 4:
            time.sleep(0.05)
            if db.exists():
                try:
                    con = sqlite3.connect(db)
                    recorded = con.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    pass
        assert recorded >= 4, "the scan never recorded a host"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(db)
    done = {r[0] for r in con.execute("SELECT server FROM hosts")}
    con.close()
    never = [n for n in names if n not in done]
    assert 4 <= len(done) < 30 and never
    runner = CliRunner()

    def stored() -> tuple[dict[str, object], dict[str, object]]:
        rows = json.loads(
            runner.invoke(main, ["history", "list", "--db", str(db), "--format", "json"]).stdout
        )
        r = runner.invoke(main, ["history", "show", "1", "--db", str(db), "--format", "json"])
        return next(row for row in rows if row["id"] == 1), json.loads(r.stdout)

    row, report = stored()  # the dead scan, not yet marked
    assert row["status"] == "running" and row["hosts"] == {
        "total": 30, "ok": len(done), "failed": 0, "not_scanned": len(never)
    }  # fmt: skip
    assert report["not_scanned"] == never and report["interrupted"] is True
    # the next scan marks it interrupted, and it still says which hosts it never scanned
    quick = _fake_fleet(tmp_path / "quick.toml", [("q1", "dns1", 0.0)])
    code, _, _ = invoke(runner, "scan", str(quick), "--db", str(db), "--format", "json")
    assert code == EXIT_FINDINGS
    row, report = stored()
    assert row["status"] == "interrupted" and row["hosts"]["not_scanned"] == len(never)
    assert report["not_scanned"] == never and report["summary"]["hosts_not_scanned"] == len(never)
    r = runner.invoke(main, ["history", "show", "1", "--db", str(db)])
    assert f"{len(never)} not scanned" in r.stdout.splitlines()[0]
