"""Fleet scans in worker processes: the same reports as threads, and the same deadlines, grace
time, retries, stopping, logging and exit codes; only portable connectors leave the process;
a worker that dies costs its own hosts only; passwords stay out of command lines."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_USAGE, HostReport
from toolkit.fleet import HostSpec
from toolkit.remote import connect
from toolkit.remote.base import ConnectionOptions
from toolkit.services.scan import Scanner, ScanOptions, default_connector
from toolkit.testing.fakeserver import FakeWinrmServer, Fault

pytest.importorskip("toolkit.remote.psrp")

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
#: the demo servers whose inventory the simulator answers (DNS3 denies access)
READABLE = ("DNS1.corp.example", "DNS2.corp.example", "DNS4.branch.example", "DNS5.lab.example")


@pytest.fixture
def fake() -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(capture=False, receive_wait=2.0) as server:
        yield server


def _connector(fake: FakeWinrmServer, **kw: Any) -> Any:
    base = ConnectionOptions(host="-", ssl=False, auth="ntlm", username=fake.credentials.username)
    return default_connector(base, fallback_password=fake.credentials.password, **kw)


def _hosts(fake: FakeWinrmServer, servers: list[str]) -> list[HostSpec]:
    """One inventory entry per item, each reaching that simulated server's port."""
    return [
        HostSpec(name=f"h{i:02d}", address="127.0.0.1", port=fake.endpoint(server).port)
        for i, server in enumerate(servers)
    ]


class _Watch:
    """``on_host`` and progress: what the scanning process sees of each finished host."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.threads: set[str] = set()
        self.children: list[int] = []
        self.progress: list[tuple[str, int, int]] = []

    def on_host(self, host: HostReport) -> None:
        self.hosts.append(host.server)
        self.threads.add(threading.current_thread().name)
        self.children.append(len(multiprocessing.active_children()))

    def started(self, total: int) -> None:
        self.progress.append(("started", 0, total))

    def host_done(self, host: HostReport, done: int, total: int) -> None:
        self.progress.append((host.server, done, total))

    def finished(self) -> None:
        self.progress.append(("finished", 0, 0))


def _shape(report: Any) -> list[Any]:
    return [
        (h.server, h.error.kind if h.error else None, [(f.rule_id, str(f.target)) for f in h.findings])
        for h in report.hosts
    ]


def test_workers_report_what_threads_report(fake: FakeWinrmServer) -> None:
    servers = [*READABLE, "DNS3.corp.example", *READABLE]
    hosts = _hosts(fake, servers)
    runs = {}
    for workers in (1, 2):
        watch = _Watch()
        outcome = Scanner(
            hosts,
            _connector(fake),
            options=ScanOptions(concurrency=4, retries=0, workers=workers),
            on_host=watch.on_host,
            progress=watch,
            now=NOW,
        ).run()
        runs[workers] = (outcome.report, watch)
        assert multiprocessing.active_children() == []  # none outlives the scan
    (threads, by_threads), (procs, by_procs) = runs[1], runs[2]
    assert _shape(procs) == _shape(threads)
    assert [h.server for h in procs.hosts] == [h.name for h in hosts]  # inventory order
    assert procs.hosts[4].error is not None and procs.hosts[4].error.kind == "cmdlet"
    assert all(h.inventory is not None for h in procs.hosts if h.ok)
    assert sum(len(h.findings) for h in procs.hosts) > 0
    # the scanning process's main thread gets every host, with progress, as each finishes
    assert sorted(by_procs.hosts) == sorted(h.name for h in hosts)
    assert by_procs.threads == {"MainThread"}
    done = [p for p in by_procs.progress if p[0] not in ("started", "finished")]
    assert [(d, t) for _, d, t in done] == [(n, len(hosts)) for n in range(1, len(hosts) + 1)]
    assert by_procs.progress[0] == ("started", 0, len(hosts)) and by_procs.progress[-1][0] == "finished"
    # threads: no other process; workers: two, alive while hosts come in
    assert set(by_threads.children) == {0} and set(by_procs.children) == {2}


def test_only_portable_connectors_leave_the_process(fake: FakeWinrmServer, demo_dir: Path) -> None:
    hosts = _hosts(fake, list(READABLE))
    opts = fake.connection_options(READABLE[0])

    def closure(spec: HostSpec) -> Any:  # a library caller's connector: it cannot be pickled
        return connect(replace(opts, port=spec.port), "psrp")

    for connector, specs in (
        (closure, hosts),
        (
            default_connector(transport="fake", fixtures=demo_dir),
            [HostSpec(name=n, address=n) for n in READABLE],
        ),
        (_connector(fake), [HostSpec(name=n, address=n, transport="fake") for n in READABLE]),
    ):
        watch = _Watch()
        report = Scanner(specs, connector, options=ScanOptions(workers=4), on_host=watch.on_host).run().report
        assert all(h.ok for h in report.hosts) and len(report.hosts) == 4
        assert set(watch.children) == {0}  # threads in this process
    with pytest.raises(ValueError, match="workers"):
        ScanOptions(workers=0)


def test_a_host_past_its_deadline_is_abandoned_and_its_worker_ended(fake: FakeWinrmServer) -> None:
    fake.endpoint("DNS2.corp.example").set_faults([Fault("hang", seconds=60)])
    hosts = _hosts(fake, ["DNS2.corp.example", "DNS1.corp.example", "DNS4.branch.example"])
    outcome = Scanner(
        hosts,
        _connector(fake, host_timeout=1.0),
        options=ScanOptions(concurrency=3, host_timeout=1.0, retries=0, workers=2),
    ).run()
    by = {h.server: h for h in outcome.report.hosts}
    assert [h.server for h in outcome.report.hosts] == ["h00", "h01", "h02"]
    assert by["h00"].error is not None and by["h00"].error.kind == "timeout"
    assert "per-host timeout of 1s" in by["h00"].error.message
    assert by["h01"].ok and by["h02"].ok and outcome.abandoned == ("h00",)
    assert multiprocessing.active_children() == []  # the worker holding the hung call is gone


def test_transient_failures_are_retried_in_the_worker_and_its_log_reaches_us(
    fake: FakeWinrmServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    flaky = fake.endpoint("DNS1.corp.example")
    flaky.set_faults([Fault("reset", times=1)])  # the first Receive: the connection reset
    hosts = _hosts(fake, ["DNS1.corp.example", "DNS2.corp.example"])
    report = (
        Scanner(
            hosts,
            _connector(fake),
            options=ScanOptions(retries=2, backoff=0.01, backoff_max=0.02, workers=2),
        )
        .run()
        .report
    )
    assert all(h.ok for h in report.hosts), [h.error for h in report.hosts]
    assert flaky.stats.operations["Create"] == 2  # a second attempt, in a new runspace pool
    retried = [r for r in caplog.records if r.name == "windns.scan" and "retry 1/2" in r.getMessage()]
    assert len(retried) == 1 and retried[0].getMessage().startswith("h00: connect")
    assert retried[0].process != os.getpid()  # made in the worker, handled here


def test_stop_reaches_the_workers_and_the_grace_time_cuts_off_the_rest(fake: FakeWinrmServer) -> None:
    """A stop ends a worker's backoff wait (the refused host is reported within the grace time,
    not cut off); a hung host is cut off when the grace time ends; nothing else starts."""
    fake.endpoint("DNS2.corp.example").set_faults([Fault("hang", seconds=60)])
    fake.endpoint("DNS4.branch.example").set_faults([Fault("refuse")])
    servers = ["DNS2.corp.example", "DNS4.branch.example", "DNS1.corp.example", *READABLE]
    hosts = _hosts(fake, servers)
    scanner: Scanner

    def on_host(host: HostReport) -> None:
        if host.ok:
            scanner.stop("test stop")

    scanner = Scanner(
        hosts,
        _connector(fake),
        options=ScanOptions(concurrency=3, retries=3, backoff=30.0, backoff_max=30.0, grace=3.0, workers=2),
        on_host=on_host,
    )
    outcome = scanner.run()
    report = outcome.report
    done = {h.server: h for h in report.hosts}
    assert report.interrupted and "h00" not in done and report.not_scanned[0] == "h00"
    assert "h00" in outcome.abandoned
    refused = done["h01"].error
    assert refused is not None and refused.kind == "connect"  # its 15-30 s backoff ended at the stop
    assert done["h02"].ok
    names = [h.name for h in hosts]
    assert sorted([*done, *report.not_scanned]) == names and list(report.not_scanned) == sorted(
        report.not_scanned
    )
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_costs_only_its_own_hosts(
    fake: FakeWinrmServer, caplog: pytest.LogCaptureFixture
) -> None:
    for ep in fake:
        ep.set_faults([Fault("latency", seconds=0.02)])
    hosts = _hosts(fake, [*READABLE, *READABLE, *READABLE])
    killed: list[int] = []

    def on_host(host: HostReport) -> None:
        if not killed:
            victim = multiprocessing.active_children()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    outcome = Scanner(
        hosts, _connector(fake), options=ScanOptions(concurrency=4, retries=0, workers=2), on_host=on_host
    ).run()
    report = outcome.report
    assert [h.server for h in report.hosts] == [h.name for h in hosts] and not report.interrupted
    lost = [h for h in report.hosts if not h.ok]
    assert 1 <= len(lost) <= 4  # what the dead worker had in hand (about half of 4), no more
    for h in lost:
        assert h.error is not None and h.error.kind == "internal"
        assert h.error.message == "the worker process scanning it ended unexpectedly (killed by SIGKILL)"
    assert len(report.hosts) - len(lost) >= len(hosts) - 4  # the rest went to the other worker
    assert any("ended unexpectedly" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_the_password_reaches_workers_through_their_pipe_only(fake: FakeWinrmServer) -> None:
    password = fake.credentials.password
    assert password and all(password not in v for v in os.environ.values())
    seen: list[bytes] = []

    def on_host(host: HostReport) -> None:
        for child in multiprocessing.active_children():
            for part in ("cmdline", "environ"):
                seen.append(Path(f"/proc/{child.pid}/{part}").read_bytes())

    report = (
        Scanner(
            _hosts(fake, list(READABLE)), _connector(fake), options=ScanOptions(workers=2), on_host=on_host
        )
        .run()
        .report
    )
    assert all(h.ok for h in report.hosts)  # the workers had the password: they logged in
    assert len(seen) == 4 * 2 * 2 and all(b"multiprocessing" in s for s in seen[::2])
    assert not any(password.encode() in s for s in seen)


def test_a_ctrl_c_while_the_workers_start_does_not_kill_them(fake: FakeWinrmServer) -> None:
    """Ctrl-C reaches the workers too, from the moment they exist: they must not die of it
    while they import, before they can ignore it."""
    from toolkit.services.workers import WorkerPool

    scanner = Scanner(_hosts(fake, list(READABLE)), _connector(fake), options=ScanOptions(workers=2))
    pool = WorkerPool(scanner, 2, lambda index, host: None, ["psrp"])
    started = threading.Event()
    poked: set[int] = set()

    def poke() -> None:
        while not started.is_set():
            for child in multiprocessing.active_children():
                if child.pid is not None:
                    os.kill(child.pid, signal.SIGINT)
                    poked.add(child.pid)
            time.sleep(0.005)

    thread = threading.Thread(target=poke)
    thread.start()
    try:
        assert pool.start()
    finally:
        started.set()
        thread.join()
    try:
        assert len(poked) == 2 and all(w.process.is_alive() and w.ready.is_set() for w in pool.workers)
    finally:
        pool.close()
    assert multiprocessing.active_children() == []


# -- the command ------------------------------------------------------------------------------------
def _inventory(path: Path, fake: FakeWinrmServer, servers: list[str]) -> Path:
    body = "".join(
        f'[[servers]]\nname = "h{i:02d}"\naddress = "127.0.0.1:{fake.endpoint(s).port}"\n\n'
        for i, s in enumerate(servers)
    )
    head = f'transport = "psrp"\nhttps = false\nauth = "ntlm"\nusername = "{fake.credentials.username}"\n'
    path.write_text(f"[defaults]\n{head}\n{body}", encoding="utf-8")
    return path


def test_cli_scan_with_workers(fake: FakeWinrmServer, tmp_path: Path) -> None:
    inv = _inventory(tmp_path / "fleet.toml", fake, [*READABLE, *READABLE])
    db = str(tmp_path / "h.sqlite3")
    runner = CliRunner()
    env = {"WINDNS_PASSWORD": fake.credentials.password}
    r = runner.invoke(
        main, ["scan", str(inv), "--db", db, "--workers", "2", "-j", "4", "-f", "json"], env=env
    )
    assert r.exit_code == EXIT_FINDINGS, r.output + r.stderr
    doc = json.loads(r.stdout)
    names = [f"h{i:02d}" for i in range(8)]
    assert [h["server"] for h in doc["hosts"]] == names and all(h["ok"] for h in doc["hosts"])
    r = runner.invoke(main, ["history", "show", "latest", "--db", db, "--format", "json"])
    stored = json.loads(r.stdout)
    assert [h["server"] for h in stored["hosts"]] == names and len(stored["findings"]) == len(doc["findings"])
    r = runner.invoke(main, ["scan", str(inv), "--db", db, "--workers", "0"], env=env)
    assert r.exit_code == EXIT_USAGE and "--workers" in r.stderr


def _session_processes(sid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # the session id, after state, ppid and pgrp
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_to_the_process_group_stops_the_scan_as_with_threads(
    fake: FakeWinrmServer, tmp_path: Path
) -> None:
    """Ctrl-C reaches the scanning process and its workers alike: the workers carry on, the
    scan stops as it does with threads (exit 2, finished hosts kept, the rest not scanned), and
    no process of it is left."""
    for ep in fake:
        ep.set_faults([Fault("latency", seconds=0.05)])
    servers = [*READABLE, *READABLE, *READABLE]
    inv = _inventory(tmp_path / "fleet.toml", fake, servers)
    db = tmp_path / "h.sqlite3"
    root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
        "WINDNS_PASSWORD": fake.credentials.password,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "scan", str(inv), "--db", str(db), "--workers", "2", "-j", "2"]
        + ["--grace", "10", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
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
        assert len(_session_processes(proc.pid)) >= 3  # the scan and its two workers
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == EXIT_INCOMPLETE, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    report = json.loads(out)
    names = [f"h{i:02d}" for i in range(len(servers))]
    done = [h["server"] for h in report["hosts"]]
    assert report["interrupted"] is True and all(h["ok"] for h in report["hosts"])  # none cut short
    assert 2 <= len(done) < len(names) and sorted(done + report["not_scanned"]) == names
    assert f"{len(done)} of {len(names)} host(s) finished" in err
    for _ in range(50):  # the workers end with the scan (the resource tracker a moment later)
        if not _session_processes(proc.pid):
            break
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []
