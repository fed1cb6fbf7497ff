"""Benchmark: a fleet scan with the DNS view against the same scan without it, 20 zones per server.

Both scans go through ``toolkit.services.scan.Scanner`` exactly as ``windns scan`` does: the
WinRM side is the simulator behind FakeRemote with ``--latency`` seconds per inventory call (a
real WinRM inventory call takes about that long), normalise, the rules; the second scan adds
``--dns-server`` (``ScanOptions.dns``): after its inventory, each host's signed zones are asked
over DNS (SOA, DNSKEY, NSEC3PARAM, CDS, CDNSKEY, the DS at the parent), every RRSIG validated,
and the join rules run. The DNS side is BIND on 127.0.0.1 serving the ``--zones`` signed zones
(the keys, NSEC3 and validity periods the simulated servers report) under a signed demo root and
``example.``. Every server holds the same ``--zones`` zones (as the domain controllers of an
Active Directory domain hold its integrated zones), so the scan with the view runs twice: with
the hosts sharing the zone views, as ``windns scan`` does (each zone asked of BIND once per
scan), and with each host asking for itself (the cost when every host's zones are its own).
The scans run in the same process, one after the other, ``--rounds`` times; the
figures are medians. The target is the issue's: at 0.45 s per WinRM call (the default
``--latency``), the DNS view adds at most 1.5x to the scan. Needs BIND (bind9 bind9-utils bind9-dnsutils).

    python benchmarks/bench_dnsview.py [--servers 64] [--zones 20] [--concurrency 16] [--latency 0.45]
        [--jitter 0.5] [--skip-scan] [--zone-rounds 10] [--before REV]

With every server taking exactly ``--latency`` (``--jitter 0``, the default) the hosts move in
lock-step: a whole round finishes its inventory at the same instant and does its DNS work while
no WinRM call is pending, the worst case. ``--jitter`` spreads the latencies as a real fleet does.

Part 2, the CPU time per zone: ``zone_view`` of each of the ``--zones`` zones in turn, in one
thread, ``--zone-rounds`` times (and once before, untimed; the parents' keys are kept from round
to round, as a scan keeps them for a host's zones); the process CPU time (user and
system: the socket calls count) divided by the zones asked, median of the rounds. Target: at
most 2 ms per zone. ``--skip-scan`` runs part 2 only.

``--before REV`` also runs the DNS view as it was at the git revision REV (its
``toolkit/dnsview/query.py``, loaded beside the current one; the modules it imports are the
current tree's), in the same process and alternately with the current code: part 2 prints the
CPU per zone of both and their ratio, part 1 a third scan per round with the older view.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from toolkit.dnsview import QueryOptions, query
from toolkit.fleet import HostSpec
from toolkit.policy import load_policy
from toolkit.resources import demo_fixtures_dir
from toolkit.services.audit import DnsViewOptions
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.bind import BindServer
from toolkit.testing.bind_demo import fleet_specs
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import SimulatedServer


def server_document(zones: int) -> dict[str, Any]:
    """A simulated server with ``zones`` copies of the healthy ``corp.example`` zone of DNS1."""
    doc: dict[str, Any] = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    template = next(z for z in doc["Zones"] if z["ZoneName"] == "corp.example")
    doc.pop("Faults", None)
    doc["Server"]["ComputerName"] = "BENCH.example"
    out = []
    for i in range(zones):
        z = copy.deepcopy(template)
        name = f"bench{i:03d}.example"
        z["ZoneName"] = name
        z["DnsSecSetting"]["ZoneName"] = name
        for j, k in enumerate(z["SigningKeys"]):
            k["ZoneName"] = name
            k["KeyId"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}/{j}"))
        out.append(z)
    doc["Zones"] = out
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, default=64)
    ap.add_argument("--zones", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.45, help="seconds per WinRM inventory call")
    ap.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="spread of the per-server latency, a fraction: 0.5 draws each server's latency from "
        "latency x [0.5, 1.5] (seeded, the same in both scans); 0 keeps every server in lock-step",
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--zone-rounds", type=int, default=10, help="rounds of part 2 (CPU per zone)")
    ap.add_argument("--skip-scan", action="store_true", help="part 2 only")
    ap.add_argument(
        "--before",
        metavar="REV",
        help="also run the DNS view of this git revision (its toolkit/dnsview/query.py), alternately",
    )
    a = ap.parse_args()
    before = older_query(a.before) if a.before else None
    doc = server_document(a.zones)
    server = SimulatedServer(doc)
    policy = load_policy()
    hosts = [HostSpec(name=f"dns{i:04d}.example", address=f"dns{i:04d}.example") for i in range(a.servers)]
    rng = random.Random(8)
    latency = {h.name: a.latency * (1 + a.jitter * (2 * rng.random() - 1)) for h in hosts}

    def connector(spec: HostSpec) -> FakeRemote:
        return FakeRemote(server, host=spec.name, latency=latency[spec.name])

    with BindServer(fleet_specs([doc], drift={}), lifetime=1800) as bind:
        dns = DnsViewOptions(server=bind.address, query=QueryOptions(timeout=2.0))

        def scan(view: ModuleType | None, share: bool = True) -> tuple[float, float]:
            """One scan, without the DNS view (None) or with the view of this query module (its
            hosts sharing the zone views, or each asking for itself): its wall time and this
            process's CPU time."""
            opts = ScanOptions(concurrency=a.concurrency, keep_inventory=False, dns=dns if view else None)
            with as_query(view or query), contextlib.nullcontext() if share else unshared():
                start, cpu = time.perf_counter(), time.process_time()
                report = Scanner(hosts, connector, policy, options=opts).run().report
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert not report.host_errors, report.host_errors[:1]
            dns_findings = [f for f in report.findings if f.rule_id.startswith("DNS")]
            if view:  # the view really ran: one DNS000 record per host, and nothing broken
                assert sum(f.rule_id == "DNS000" for f in dns_findings) == a.servers
                assert not [f for f in dns_findings if f.severity.label not in ("info",)], dns_findings[:3]
            return elapsed, cpu

        views = {"current": query} if before is None else {"before": before, "current": query}
        #: the scans with the view: the current code with the hosts sharing the zone views (as
        #: `windns scan` does), then each host asking for itself (as if every host held zones of
        #: its own), and the older code (which had no sharing)
        scans = {"current": (query, True), "current, each host alone": (query, False)}
        if before is not None:
            scans["before"] = (before, False)
        per_zone: dict[str, list[float]] = {name: [] for name in views}
        for r in range(a.zone_rounds + 1):  # alternately: drift in the load hits both
            for name, view in views.items():
                cpu = zone_cpu(view, doc, bind.address)
                if r:  # the first round warms the caches (the parents' keys, dnspython's imports)
                    per_zone[name].append(cpu)
        walls: dict[str, list[tuple[float, float]]] = {"without": [], **{name: [] for name in scans}}
        for _ in range(0 if a.skip_scan else a.rounds):  # interleaved: drift in the load hits all
            walls["without"].append(scan(None))
            for name, (view, share) in scans.items():
                walls[name].append(scan(view, share))
    print(
        f"servers={a.servers} zones/server={a.zones} concurrency={a.concurrency} "
        f"latency={a.latency}s jitter={a.jitter:g} rounds={a.rounds} zone-rounds={a.zone_rounds}"
        + (f" before={a.before}" if a.before else "")
    )
    if walls["without"]:
        b = statistics.median(w for w, _ in walls["without"])
        b_cpu = statistics.median(c for _, c in walls["without"])
        print(f"scan without the DNS view: {b:.2f}s   CPU {b_cpu:.2f}s")
        for name in scans:
            w = statistics.median(w for w, _ in walls[name])
            cpu = statistics.median(c for _, c in walls[name])
            extra = (cpu - b_cpu) / (a.servers * a.zones) * 1000
            print(
                f"scan with the DNS view ({name}): {w:.2f}s   ratio {w / b:.2f}x (target <= 1.5)   "
                f"CPU {cpu:.2f}s ({extra:.2f} ms more per zone)"
            )
    for name, cpu in per_zone.items():
        print(
            f"DNS view CPU per zone ({name}): median {statistics.median(cpu) * 1000:.2f} ms "
            f"(rounds {min(cpu) * 1000:.2f}-{max(cpu) * 1000:.2f}; target <= 2 ms)"
        )
    if before is not None:
        ratio = statistics.median(per_zone["current"]) / statistics.median(per_zone["before"])
        print(f"CPU per zone, current / before: {ratio:.2f}")


def zone_cpu(view: ModuleType, doc: dict[str, Any], address: str) -> float:
    """CPU seconds per zone of one round of ``view.zone_view`` over the zones of ``doc`` (zone and
    parent asked of ``address``); the parents' keys kept from round to round, as a scan keeps them
    for a host's zones."""
    target = view.parse_target(address)
    opts = view.QueryOptions(timeout=2.0)
    parents = _PARENTS.setdefault(view.__name__, view.ParentKeys())
    zones = [z["ZoneName"] for z in doc["Zones"]]
    start = time.process_time()
    for zone in zones:
        got = view.zone_view(zone, target, parent=target, opts=opts, parent_keys=parents)
        assert got.reachable and got.signatures and all(s.valid for s in got.signatures), got
    return (time.process_time() - start) / len(zones)


_PARENTS: dict[str, Any] = {}


def older_query(rev: str) -> ModuleType:
    """``toolkit/dnsview/query.py`` as it was at git revision ``rev``, loaded as a module of its own."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{rev}:toolkit/dnsview/query.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "toolkit.dnsview._query_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:toolkit/dnsview/query.py", "exec"), module.__dict__)  # noqa: S102
    return module


@contextlib.contextmanager
def unshared() -> Iterator[None]:
    """The scanner without its shared zone views: each host asks for its own zones."""
    saved = Scanner._views
    Scanner._views = lambda self: None  # type: ignore[assignment,method-assign,return-value]
    try:
        yield
    finally:
        Scanner._views = saved  # type: ignore[method-assign]


@contextlib.contextmanager
def as_query(view: ModuleType) -> Iterator[None]:
    """``view`` as ``toolkit.dnsview.query`` while the scan runs (the audit imports its functions
    from there when it asks a host's zones)."""
    saved = sys.modules["toolkit.dnsview.query"]
    sys.modules["toolkit.dnsview.query"] = view
    try:
        yield
    finally:
        sys.modules["toolkit.dnsview.query"] = saved


if __name__ == "__main__":
    main()
