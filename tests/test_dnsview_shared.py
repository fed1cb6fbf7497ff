"""Zone views shared by a scan's hosts (``toolkit.dnsview.shared``): what one DNS server publishes
for a zone is asked once per scan, whichever hosts hold the zone, and gives the same findings as
every host asking for itself. Against the real BIND of ``demo_bind`` where it matters."""

from __future__ import annotations

import pickle
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from toolkit.dnsview import shared as shared_mod
from toolkit.dnsview.descriptors import DnsProblem, ZoneDnsView
from toolkit.dnsview.query import DnsTarget, QueryOptions
from toolkit.dnsview.shared import SharedViews
from toolkit.fleet import HostSpec
from toolkit.resources import demo_fixtures_dir
from toolkit.services.audit import DnsViewOptions
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.bind import BindServer, ZoneSpec
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

SERVER = DnsTarget("127.0.0.1", 5300)
OTHER = DnsTarget("127.0.0.1", 5301)
OPTS = QueryOptions(timeout=0.5, retries=0)


class _Asked:
    """A stand-in for ``zone_view``: counts each (zone, server) asked, answers a view at once
    (or after ``gate`` opens), with ``kind`` as its one problem when set."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.gate = threading.Event()
        self.gate.set()
        self.kind: str | None = None
        self.fail: BaseException | None = None

    def __call__(self, zone: str, server: DnsTarget, **_: Any) -> ZoneDnsView:
        self.calls[(zone, str(server))] += 1
        self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        problems = (DnsProblem(f"{zone}. SOA", str(server), self.kind, "no answer"),) if self.kind else ()
        return ZoneDnsView(
            zone=zone, server=str(server), queried_at=datetime.now(UTC), reachable=True, problems=problems
        )


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> _Asked:
    fake = _Asked()
    monkeypatch.setattr(shared_mod, "zone_view", fake)
    return fake


def test_hosts_asking_at_once_share_one_question(asked: _Asked) -> None:
    views = SharedViews()
    asked.gate.clear()  # the first asker waits in zone_view while the others arrive
    got: list[ZoneDnsView] = []
    threads = [
        threading.Thread(
            target=lambda: got.append(views.view("corp.example", SERVER, parent=None, opts=OPTS))
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    asked.gate.set()
    for t in threads:
        t.join(10)
    assert asked.calls == Counter({("corp.example", str(SERVER)): 1})
    assert len(got) == 8 and all(v is got[0] for v in got)
    assert views.asked == 1


def test_what_is_asked_tells_the_views_apart(asked: _Asked) -> None:
    views = SharedViews()
    views.view("corp.example", SERVER, parent=None, opts=OPTS)
    views.view("CORP.example.", SERVER, parent=None, opts=OPTS)  # the same zone, spelt otherwise
    views.view("corp.example", OTHER, parent=None, opts=OPTS)
    views.view("corp.example", SERVER, parent=OTHER, opts=OPTS)
    views.view("corp.example", SERVER, parent=None, opts=QueryOptions(timeout=0.5, retries=1))
    views.view("shop.corp.example", SERVER, parent=None, opts=OPTS)
    assert sum(asked.calls.values()) == 5 == views.asked


@pytest.mark.parametrize("kind", ["timeout", "unreachable", "error"])
def test_a_view_without_an_answer_is_asked_again(asked: _Asked, kind: str) -> None:
    views = SharedViews()
    asked.kind = kind
    first = views.view("corp.example", SERVER, parent=None, opts=OPTS)
    assert first.problems[0].kind == kind
    asked.kind = None
    second = views.view("corp.example", SERVER, parent=None, opts=OPTS)
    assert not second.problems and sum(asked.calls.values()) == 2
    views.view("corp.example", SERVER, parent=None, opts=OPTS)
    assert sum(asked.calls.values()) == 2  # an answered view is kept


def test_a_view_with_an_answered_problem_is_kept(asked: _Asked) -> None:
    views = SharedViews()
    asked.kind = "servfail"  # the server answered: SERVFAIL is what it publishes
    views.view("corp.example", SERVER, parent=None, opts=OPTS)
    views.view("corp.example", SERVER, parent=None, opts=OPTS)
    assert sum(asked.calls.values()) == 1


def test_a_failure_reaches_every_waiter_and_is_not_kept(asked: _Asked) -> None:
    views = SharedViews()
    asked.fail = RuntimeError("boom")
    asked.gate.clear()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            views.view("corp.example", SERVER, parent=None, opts=OPTS)
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    asked.gate.set()
    for t in threads:
        t.join(10)
    assert len(errors) == 4 and sum(asked.calls.values()) == 1
    asked.fail = None
    assert views.view("corp.example", SERVER, parent=None, opts=OPTS).reachable
    assert sum(asked.calls.values()) == 2


def test_a_worker_process_gets_an_empty_cache(asked: _Asked) -> None:
    views = SharedViews()
    views.view("corp.example", SERVER, parent=None, opts=OPTS)
    copy = pickle.loads(pickle.dumps(views))
    assert isinstance(copy, SharedViews) and copy.asked == 0
    copy.view("corp.example", SERVER, parent=None, opts=OPTS)
    assert sum(asked.calls.values()) == 2


# -- a scan: hosts holding the same zones, against BIND ------------------------------------------
@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The zones ``zone_view`` itself asked (each a question to BIND), shared or not."""
    import toolkit.dnsview.query as query

    zones: Counter[str] = Counter()
    real = query.zone_view

    def zone_view(zone: str, *args: Any, **kwargs: Any) -> ZoneDnsView:
        zones[zone] += 1
        return real(zone, *args, **kwargs)

    monkeypatch.setattr(query, "zone_view", zone_view)
    monkeypatch.setattr(shared_mod, "zone_view", zone_view)
    yield zones


def _scan(bind: BindServer, copies: int, shared: SharedViews | None) -> tuple[set[tuple[Any, ...]], int]:
    """Scan ``copies`` hosts that are all the demo's dns2 (three signed zones), asking BIND."""
    fleet = Fleet.load(demo_fixtures_dir())
    specs = [HostSpec(name=f"dc{i}.corp.example", address=f"dc{i}.corp.example") for i in range(copies)]
    dns = DnsViewOptions(server=bind.address, query=QueryOptions(timeout=2.0), shared=shared)
    report = (
        Scanner(
            specs,
            lambda spec: FakeRemote(fleet.get("dns2"), host=spec.name),
            options=ScanOptions(concurrency=copies, retries=0, dns=dns),
        )
        .run()
        .report
    )
    assert all(h.error is None for h in report.hosts)
    # the evidence holds when each view was asked and the key order BIND answered in (it rotates
    # an RRset's order), which differ between two asks of the same zone
    found = {(h.server, f.rule_id, str(f.target), f.message) for h in report.hosts for f in h.findings}
    return found, len(report.hosts)


def test_a_scan_asks_each_zone_once_and_finds_the_same(
    demo_bind: tuple[BindServer, list[ZoneSpec]], counted: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bind, _ = demo_bind
    found, hosts = _scan(bind, 6, None)  # the scanner's own shared views
    assert hosts == 6
    assert set(counted.values()) == {1} and len(counted) == 3  # dns2's three signed zones, once each
    assert any(f[1].startswith("DNS") for f in found)

    # every host asking for itself (the scan before shared views) finds the same
    counted.clear()
    monkeypatch.setattr(
        SharedViews,
        "view",
        lambda self, zone, server, *, parent, opts, now=None: shared_mod.zone_view(
            zone, server, parent=parent, opts=opts, now=now, parent_keys=self.parent_keys
        ),
    )
    alone, _ = _scan(bind, 6, None)
    assert set(counted.values()) == {6}
    assert alone == found
