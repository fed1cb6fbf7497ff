"""Benchmark: a fleet scan with the DNS view against the same scan without it, 20 zones per server.

Both scans go through ``toolkit.services.scan.Scanner`` exactly as ``windns scan`` does: the
WinRM side is the simulator behind FakeRemote with ``--latency`` seconds per inventory call (a
real WinRM inventory call takes about that long), normalise, the rules; the second scan adds
``--dns-server`` (``ScanOptions.dns``): after its inventory, each host's signed zones are asked
over DNS (SOA, DNSKEY, NSEC3PARAM, CDS, CDNSKEY, the DS at the parent), every RRSIG validated,
and the join rules run. The DNS side is BIND on 127.0.0.1 serving the ``--zones`` signed zones
(the keys, NSEC3 and validity periods the simulated servers report) under a signed demo root and
``example.``. Both scans run in the same process, one after the other, ``--rounds`` times; the
figures are medians. Needs BIND (bind9 bind9-utils bind9-dnsutils).

    python benchmarks/bench_dnsview.py [--servers 64] [--zones 20] [--concurrency 16] [--latency 3]
        [--jitter 0.5] [--skip-scan] [--zone-rounds 10]

With every server taking exactly ``--latency`` (``--jitter 0``, the default) the hosts move in
lock-step: a whole round finishes its inventory at the same instant and does its DNS work while
no WinRM call is pending, the worst case. ``--jitter`` spreads the latencies as a real fleet does.

Part 2, the CPU time per zone: ``zone_view`` of each of the ``--zones`` zones in turn, in one
thread, ``--zone-rounds`` times (and once before, untimed); the process CPU time (user and
system: the socket calls count) divided by the zones asked, median of the rounds. Target: at
most 2 ms per zone. ``--skip-scan`` runs part 2 only.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
import uuid
from typing import Any

from toolkit.dnsview import QueryOptions
from toolkit.dnsview.query import ParentKeys, parse_target, zone_view
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
    ap.add_argument("--latency", type=float, default=3.0, help="seconds per WinRM inventory call")
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
    a = ap.parse_args()
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

        def scan(with_dns: bool) -> tuple[float, int]:
            opts = ScanOptions(concurrency=a.concurrency, keep_inventory=False, dns=dns if with_dns else None)
            start = time.perf_counter()
            report = Scanner(hosts, connector, policy, options=opts).run().report
            elapsed = time.perf_counter() - start
            assert not report.host_errors, report.host_errors[:1]
            dns_findings = [f for f in report.findings if f.rule_id.startswith("DNS")]
            if with_dns:  # the view really ran: one DNS000 record per host, and nothing broken
                assert sum(f.rule_id == "DNS000" for f in dns_findings) == a.servers
                assert not [f for f in dns_findings if f.severity.label not in ("info",)], dns_findings[:3]
            return elapsed, len(dns_findings)

        per_zone = zone_cpu(doc, bind.address, a.zone_rounds)
        base, with_view = [], []
        for _ in range(0 if a.skip_scan else a.rounds):  # interleaved: drift in the load hits both
            base.append(scan(False)[0])
            with_view.append(scan(True)[0])
    print(
        f"servers={a.servers} zones/server={a.zones} concurrency={a.concurrency} "
        f"latency={a.latency}s jitter={a.jitter:g} rounds={a.rounds}"
    )
    if base:
        b, w = statistics.median(base), statistics.median(with_view)
        print(f"scan without the DNS view: {b:.2f}s   with it: {w:.2f}s   ratio {w / b:.2f}x (target <= 1.5)")
    print(
        f"DNS view CPU per zone: median {statistics.median(per_zone) * 1000:.2f} ms "
        f"(rounds {min(per_zone) * 1000:.2f}-{max(per_zone) * 1000:.2f}; target <= 2 ms)"
    )


def zone_cpu(doc: dict[str, Any], address: str, rounds: int) -> list[float]:
    """CPU seconds per zone of ``zone_view`` (zone and parent asked of ``address``), per round."""
    target = parse_target(address)
    opts = QueryOptions(timeout=2.0)
    parents = ParentKeys()
    zones = [z["ZoneName"] for z in doc["Zones"]]
    out = []
    for r in range(rounds + 1):
        start = time.process_time()
        for zone in zones:
            view = zone_view(zone, target, parent=target, opts=opts, parent_keys=parents)
            assert view.reachable and view.signatures and all(s.valid for s in view.signatures), view
        if r:  # the first round warms the caches (the parents' keys, dnspython's imports)
            out.append((time.process_time() - start) / len(zones))
    return out


if __name__ == "__main__":
    main()
