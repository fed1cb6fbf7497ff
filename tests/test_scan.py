"""Fleet scans: concurrency, per-host errors of every class, retries, timeouts, stopping."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from toolkit.errors import AuthError, CmdletError, ConnectError, ProtocolError, RemoteTimeout, WindnsError
from toolkit.findings import EXIT_INCOMPLETE, HostReport, Severity
from toolkit.fleet import FakeBehaviour, HostSpec
from toolkit.normalise import normalise_inventory
from toolkit.remote import RemoteResult
from toolkit.services.scan import Scanner, ScanOptions, default_connector
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

FAST = dict(backoff=0.01, backoff_max=0.02)


class Connector:
    """Builds FakeRemotes from a table of per-host behaviour and keeps them for inspection."""

    def __init__(self, fleet: Fleet, plan: Mapping[str, dict[str, Any]]) -> None:
        self.fleet = fleet
        self.plan = plan
        self.remotes: dict[str, list[FakeRemote]] = {}
        self.lock = threading.Lock()

    def __call__(self, spec: HostSpec) -> FakeRemote:
        kw = dict(self.plan.get(spec.name, {}))
        target = kw.pop("server", "dns1")
        fail = kw.pop("fail", None)
        remote = FakeRemote(self.fleet.get(target), host=spec.name, fail_with=fail() if fail else None, **kw)
        with self.lock:
            self.remotes.setdefault(spec.name, []).append(remote)
        return remote

    def calls(self, name: str) -> int:
        return sum(len(r.calls) for r in self.remotes.get(name, []))


def _hosts(*names: str) -> list[HostSpec]:
    return [HostSpec(name=n, address=n, transport="fake") for n in names]


def test_mixed_fleet_reports_every_host_with_typed_errors(fleet: Fleet) -> None:
    plan: dict[str, dict[str, Any]] = {
        "ok1": {"server": "dns1"},
        "ok2": {"server": "dns2"},
        "slow": {"server": "dns4", "latency": 0.05},
        "denied": {"server": "dns3"},  # the simulator's access denied (Win32 5)
        "refused": {"fail": lambda: ConnectError("connection refused")},
        "timeout": {"fail": lambda: RemoteTimeout("read timed out")},
        "auth": {"fail": lambda: AuthError("bad credentials")},
        "protocol": {"fail": lambda: ProtocolError("garbage")},
        "cmdlet": {"fail": lambda: CmdletError("Access is denied.", code=5, cmdlet="Get-DnsServerZone")},
    }
    conn = Connector(fleet, plan)
    seen: list[str] = []
    scanner = Scanner(
        _hosts(*plan),
        conn,
        options=ScanOptions(concurrency=4, retries=2, **FAST),
        on_host=lambda h: seen.append(h.server),
    )
    outcome = scanner.run()
    report = outcome.report
    by = {h.server: h for h in report.hosts}
    assert sorted(by) == sorted(plan) == sorted(seen)
    assert all(by[n].ok and by[n].inventory is not None for n in ("ok1", "ok2", "slow"))
    assert by["ok1"].findings and by["ok1"].findings[0].target.server == "DNS1.corp.example"
    kinds = {n: h.error.kind for n, h in by.items() if h.error is not None}
    assert kinds == {
        "denied": "cmdlet",
        "refused": "connect",
        "timeout": "timeout",
        "auth": "auth",
        "protocol": "protocol",
        "cmdlet": "cmdlet",
    }
    assert by["denied"].error is not None and by["denied"].error.code == 5
    assert all(h.error.server == n for n, h in by.items() if h.error is not None)
    # transient failures are retried, the others are not
    assert conn.calls("refused") == 3 and conn.calls("timeout") == 3
    assert conn.calls("auth") == 1 and conn.calls("protocol") == 1 and conn.calls("cmdlet") == 1
    assert conn.calls("denied") == 1
    assert report.exit_code(Severity.HIGH) == EXIT_INCOMPLETE and not report.interrupted
    assert all(r.closed for rs in conn.remotes.values() for r in rs)


def test_transient_failure_that_recovers_is_a_success(fleet: Fleet) -> None:
    attempts: list[int] = []

    def connector(spec: HostSpec) -> FakeRemote:
        attempts.append(1)
        fail = ConnectError("connection reset") if len(attempts) < 3 else None
        return FakeRemote(fleet.get("dns1"), host=spec.name, fail_with=fail)

    report = Scanner(_hosts("flaky"), connector, options=ScanOptions(retries=2, **FAST)).run().report
    assert len(attempts) == 3 and report.hosts[0].ok
    report = Scanner(_hosts("flaky2"), connector, options=ScanOptions(retries=0, **FAST)).run().report
    assert report.hosts[0].ok  # attempts >= 3 now: succeeds at once
    attempts.clear()
    report = Scanner(_hosts("flaky3"), connector, options=ScanOptions(retries=1, **FAST)).run().report
    assert (
        len(attempts) == 2 and report.hosts[0].error is not None and report.hosts[0].error.kind == "connect"
    )


def test_connector_errors_and_bugs_never_abort_the_scan(fleet: Fleet) -> None:
    def connector(spec: HostSpec) -> FakeRemote:
        if spec.name == "badconfig":
            raise WindnsError("no password for this host")
        if spec.name == "bug":
            raise RuntimeError("boom\nsecond line")
        return FakeRemote(fleet.get("dns1"), host=spec.name)

    report = Scanner(_hosts("badconfig", "bug", "good"), connector, options=ScanOptions(**FAST)).run().report
    by = {h.server: h for h in report.hosts}
    assert by["good"].ok
    assert by["badconfig"].error is not None and by["badconfig"].error.kind == "error"
    assert by["bug"].error is not None and by["bug"].error.kind == "internal"
    assert by["bug"].error.message == "RuntimeError: boom second line"


class _Counting:
    """A Remote that sleeps and counts how many run at once."""

    active = 0
    peak = 0
    lock = threading.Lock()

    def __init__(self, inner: FakeRemote, delay: float) -> None:
        self.inner, self.delay, self.host = inner, delay, inner.host

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        with self.lock:
            type(self).active += 1
            type(self).peak = max(type(self).peak, type(self).active)
        try:
            time.sleep(self.delay)
            return self.inner.run(script, params)
        finally:
            with self.lock:
                type(self).active -= 1

    def close(self) -> None:
        pass

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_concurrency_is_bounded_and_used(fleet: Fleet) -> None:
    delay, n, conc = 0.05, 12, 4

    def connector(spec: HostSpec) -> Any:
        return _Counting(FakeRemote(fleet.get("dns1"), host=spec.name), delay)

    report = Scanner(
        _hosts(*(f"h{i}" for i in range(n))), connector, options=ScanOptions(concurrency=conc)
    ).run()
    # parallel (conc hosts at once at some point), never more than conc, and every call ended
    assert len(report.report.hosts) == n and _Counting.peak == conc and _Counting.active == 0


class _Hung:
    """A Remote whose calls block until ``release`` is set: ``started`` and ``finished`` count
    them, so a test can tell the scan ended while a call was still running."""

    def __init__(self, inner: FakeRemote, release: threading.Event) -> None:
        self.inner, self.release, self.host = inner, release, inner.host
        self.started = threading.Event()
        self.finished: list[str] = []

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        self.started.set()
        self.release.wait(60)
        self.finished.append(script)
        return self.inner.run(script, params)

    def close(self) -> None:
        pass

    def __enter__(self) -> _Hung:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_per_host_timeout_reports_the_host_and_moves_on(fleet: Fleet) -> None:
    release = threading.Event()
    hung = _Hung(FakeRemote(fleet.get("dns1"), host="hung"), release)
    fine = Connector(fleet, {"fine": {}})

    def conn(spec: HostSpec) -> Any:
        return hung if spec.name == "hung" else fine(spec)

    try:
        outcome = Scanner(
            _hosts("hung", "fine"), conn, options=ScanOptions(host_timeout=0.15, retries=0)
        ).run()
        # the scan ended while the hung host's call was still running: it did not wait for it
        assert hung.started.is_set() and hung.finished == []
    finally:
        release.set()
    by = {h.server: h for h in outcome.report.hosts}
    assert by["fine"].ok
    assert by["hung"].error is not None and by["hung"].error.kind == "timeout"
    assert "per-host timeout" in by["hung"].error.message
    assert outcome.abandoned == ("hung",) and not outcome.report.interrupted


def test_stop_lets_running_hosts_finish_and_skips_the_rest(fleet: Fleet) -> None:
    conn = Connector(fleet, {f"h{i}": {"latency": 0.1} for i in range(8)})
    finished: list[HostReport] = []
    scanner = Scanner(
        _hosts(*(f"h{i}" for i in range(8))),
        conn,
        options=ScanOptions(concurrency=2, grace=5.0),
        on_host=finished.append,
    )
    timer = threading.Timer(0.15, scanner.stop)
    timer.start()
    outcome = scanner.run()
    timer.join()
    report = outcome.report
    assert report.interrupted and report.exit_code(Severity.CRITICAL) == EXIT_INCOMPLETE
    assert 2 <= len(report.hosts) <= 6 and all(h.ok for h in report.hosts)  # running hosts finished
    assert sorted(h.server for h in finished) == [h.server for h in report.hosts]
    assert set(outcome.not_started) | {h.server for h in report.hosts} == {f"h{i}" for i in range(8)}
    assert outcome.abandoned == ()
    # the report says which hosts the stop left out, in inventory order
    assert report.not_scanned == outcome.not_started and report.not_scanned
    assert [h.server for h in report.hosts] + list(report.not_scanned) == [f"h{i}" for i in range(8)]
    assert report.summary()["hosts_not_scanned"] == len(report.not_scanned)


def test_stop_with_no_grace_abandons_running_hosts(fleet: Fleet) -> None:
    release = threading.Event()
    running = {n: _Hung(FakeRemote(fleet.get("dns1"), host=n), release) for n in ("a", "b")}
    rest = Connector(fleet, {"c": {}})

    def conn(spec: HostSpec) -> Any:
        return running[spec.name] if spec.name in running else rest(spec)

    scanner = Scanner(_hosts("a", "b", "c"), conn, options=ScanOptions(concurrency=2, grace=0.0))

    def stop_once_both_run() -> None:
        if all(r.started.wait(30) for r in running.values()):
            scanner.stop()

    stopper = threading.Thread(target=stop_once_both_run)
    stopper.start()
    try:
        outcome = scanner.run()
        # no grace: the scan ended with both calls still running
        assert all(r.finished == [] for r in running.values())
    finally:
        release.set()
        stopper.join()
    assert rest.calls("c") == 0  # never started
    assert outcome.report.interrupted and outcome.report.hosts == ()
    assert sorted(outcome.abandoned) == ["a", "b"] and outcome.not_started == ("c",)
    # cut off at the end of the grace time: not scanned either
    assert outcome.report.not_scanned == ("a", "b", "c")


def test_report_follows_inventory_order_not_completion_order(fleet: Fleet) -> None:
    # the first hosts of the inventory are the slowest: they finish last
    latency = {"s0": 0.3, "s1": 0.2, "s2": 0.1, "s3": 0.0, "s4": 0.05}
    servers = {"s0": "dns1", "s1": "dns2", "s2": "dns4", "s3": "dns1", "s4": "dns2"}
    plan = {n: {"server": servers[n], "latency": latency[n]} for n in latency}
    inventory = ["s0", "s1", "s2", "s3", "s4"]
    completed: list[str] = []
    outcome = Scanner(
        _hosts(*inventory),
        Connector(fleet, plan),
        options=ScanOptions(concurrency=5),
        on_host=lambda h: completed.append(h.server),
    ).run()
    assert completed != inventory and sorted(completed) == inventory  # the history gets them as they come
    report = outcome.report
    assert [h.server for h in report.hosts] == inventory
    # findings: host by host in inventory order, each host's as the rules engine sorted them
    expected: list[Any] = []
    for h in report.hosts:
        assert h.findings and list(h.findings) == sorted(h.findings, key=lambda f: f.sort_key)
        expected.extend(h.findings)
    assert list(report.findings) == expected


class _Blocked(_Counting):
    """A Remote whose calls wait until the test releases them."""

    def __init__(self, inner: FakeRemote, release: threading.Event) -> None:
        super().__init__(inner, 0.0)
        self.release = release

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        self.release.wait(60)
        return self.inner.run(script, params)


def test_timeout_ends_the_scan_without_waiting_for_the_stuck_worker(fleet: Fleet) -> None:
    # No clock in the assertion: the stuck host's call waits for an event the test sets only
    # after the scan has returned, so a scan that waited for it could not return at all.
    release = threading.Event()
    conn = Connector(fleet, {"fine": {}})

    def connector(spec: HostSpec) -> Any:
        inner = conn(spec)
        return _Blocked(inner, release) if spec.name == "stuck" else inner

    try:
        options = ScanOptions(host_timeout=2.0, retries=0)
        outcome = Scanner(_hosts("stuck", "fine"), connector, options=options).run()
        assert not release.is_set()
        by = {h.server: h for h in outcome.report.hosts}
        assert [h.server for h in outcome.report.hosts] == ["stuck", "fine"] and by["fine"].ok
        assert by["stuck"].error is not None and by["stuck"].error.kind == "timeout"
        stuck = [t for t in threading.enumerate() if t.name.startswith("windns-scan")]
        assert stuck and all(t.daemon for t in stuck)  # still in its call, and no obstacle to exiting
    finally:
        release.set()


def test_default_connector_fake_behaviour_from_inventory(fleet: Fleet, demo_dir: Any) -> None:
    connector = default_connector(fixtures=demo_dir)
    spec = HostSpec(name="alias", address="dns2", transport="fake", fake=FakeBehaviour(fail="refused"))
    remote = connector(spec)
    assert isinstance(remote, FakeRemote) and remote.host == "alias"
    with pytest.raises(ConnectError):
        remote.run("inventory")
    ok = connector(HostSpec(name="alias", address="dns2", transport="fake"))
    assert ok.run("inventory").data["Server"]["ComputerName"] == "DNS2.corp.example"


def test_keep_inventory_false_drops_descriptors_after_on_host(fleet: Fleet) -> None:
    got: list[HostReport] = []
    conn = Connector(fleet, {})
    out = Scanner(_hosts("x"), conn, options=ScanOptions(keep_inventory=False), on_host=got.append).run()
    assert got[0].inventory is not None and out.report.hosts[0].inventory is None
    assert out.report.hosts[0].findings == got[0].findings


def test_the_history_gets_the_servers_text_and_the_report_does_not_keep_it(fleet: Fleet) -> None:
    got: list[HostReport] = []
    conn = Connector(fleet, {"a": {"server": "dns1"}, "b": {"server": "dns2"}})
    out = Scanner(_hosts("a", "b"), conn, options=ScanOptions(keep_inventory=True), on_host=got.append).run()
    for host in got:
        # exactly what the server printed for its inventory, as the transport received it
        printed = fleet.get("dns1" if host.server == "a" else "dns2").run_text("inventory", {})
        assert host.inventory_text == printed
        assert host.inventory == normalise_inventory(json.loads(printed))
    assert all(h.inventory is not None and h.inventory_text is None for h in out.report.hosts)
