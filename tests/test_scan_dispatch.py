"""How the scanner moves hosts along: workers start the next host themselves, the hosts waiting
for the main thread stay bounded, and the CPU gate is always given back."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from toolkit.errors import ConnectError
from toolkit.findings import HostReport
from toolkit.fleet import HostSpec
from toolkit.remote import RemoteResult
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet


def _hosts(n: int) -> list[HostSpec]:
    return [HostSpec(name=f"h{i:02d}", address=f"h{i:02d}", transport="fake") for i in range(n)]


class _Started:
    """A connector that counts the hosts started, over the demo server DNS1."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, spec: HostSpec) -> FakeRemote:
        with self.lock:
            self.count += 1
        return FakeRemote(self.fleet.get("dns1"), host=spec.name)


def test_workers_start_hosts_while_the_main_thread_is_busy(fleet: Fleet) -> None:
    conc = 2
    conn = _Started(fleet)
    started_during_first: list[int] = []

    def on_host(host: HostReport) -> None:
        if not started_during_first:
            time.sleep(0.5)  # a slow history write
            started_during_first.append(conn.count)

    outcome = Scanner(_hosts(8), conn, options=ScanOptions(concurrency=conc), on_host=on_host).run()
    assert len(outcome.report.hosts) == 8 and all(h.ok for h in outcome.report.hosts)
    # the main thread dispatching alone would have started only the first `conc` hosts by then
    assert started_during_first[0] > conc + 1


def test_hosts_waiting_for_the_main_thread_stay_bounded(fleet: Fleet) -> None:
    conc = 2
    conn = _Started(fleet)
    handed = 0
    ahead: list[int] = []

    def on_host(host: HostReport) -> None:
        nonlocal handed
        ahead.append(conn.count - handed)  # started, not yet handed on (this host included)
        handed += 1
        time.sleep(0.03)  # a history writer slower than the hosts

    outcome = Scanner(_hosts(20), conn, options=ScanOptions(concurrency=conc), on_host=on_host).run()
    assert len(outcome.report.hosts) == 20
    assert max(ahead) <= 2 * conc + 1


class _Broken:
    """A Remote whose answer the normaliser refuses (after the call: inside the CPU gate)."""

    def __init__(self, host: str) -> None:
        self.host = host

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        return RemoteResult(script=script, data={"Schema": "not-an-inventory"}, raw="", elapsed=0.0)

    def close(self) -> None:
        pass

    def __enter__(self) -> _Broken:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_failing_hosts_cost_only_themselves(fleet: Fleet) -> None:
    def connector(spec: HostSpec) -> Any:
        if spec.name.endswith(("0", "2", "4")):
            return _Broken(spec.name)
        fail = ConnectError("refused") if spec.name.endswith(("1", "3")) else None
        return FakeRemote(fleet.get("dns1"), host=spec.name, fail_with=fail)

    scanner = Scanner(_hosts(12), connector, options=ScanOptions(concurrency=3, retries=0))
    report = scanner.run().report
    kinds = sorted({h.error.kind if h.error else "ok" for h in report.hosts})
    assert kinds == ["connect", "normalise", "ok"]
