"""Benchmark: a scan with the DNS view against the same scan without it, 20 zones per server.

The WinRM side is the simulator behind FakeRemote with a per-call latency (``--latency``, seconds;
a real WinRM inventory call takes about that long); the DNS side is BIND on 127.0.0.1 serving 20
signed zones. The DNS view runs beside the inventory call (as ``audit --dns`` does), so the ratio
is (inventory || DNS view) / inventory. Needs BIND (bind9 bind9-utils bind9-dnsutils).

    python benchmarks/bench_dnsview.py [--zones 20] [--servers 4] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from toolkit.dnsview import QueryOptions, ZoneQuery, parse_target, zone_views
from toolkit.dnsview.bind import BindServer, KeySpec, ZoneSpec
from toolkit.remote import FakeRemote
from toolkit.resources import demo_fixtures_dir
from toolkit.simulator import Fleet


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", type=int, default=20)
    ap.add_argument("--servers", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    keys = (KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256"))
    specs = [ZoneSpec(".", keys), ZoneSpec("example", keys)]
    specs += [ZoneSpec(f"z{i}.example", keys, nsec3=(0, "")) for i in range(a.zones)]
    server = Fleet.load(demo_fixtures_dir()).get("dns1")
    with BindServer(specs, lifetime=600) as bind:
        t = parse_target(bind.address)
        queries = [ZoneQuery(s.name, t, t) for s in specs[2:]]

        def host(with_dns: bool) -> None:
            remote = FakeRemote(server, latency=a.latency)
            if not with_dns:
                remote.run("inventory", {})
                return
            with ThreadPoolExecutor(2) as pool:
                inv = pool.submit(remote.run, "inventory", {})
                views = pool.submit(zone_views, queries, QueryOptions(concurrency=8))
                inv.result()
                assert all(v.reachable for v in views.result())

        def scan(with_dns: bool) -> float:
            start = time.perf_counter()
            with ThreadPoolExecutor(a.servers) as pool:
                list(pool.map(lambda _: host(with_dns), range(a.servers)))
            return time.perf_counter() - start

        base = statistics.median(scan(False) for _ in range(a.rounds))
        dns = statistics.median(scan(True) for _ in range(a.rounds))
        dns_only = statistics.median(
            (lambda s: (zone_views(queries, QueryOptions(concurrency=8)), time.perf_counter() - s)[1])(
                time.perf_counter()
            )
            for _ in range(a.rounds)
        )
    print(f"servers={a.servers} zones/server={a.zones} latency={a.latency}s")
    print(f"scan without DNS view: {base:.3f}s  with: {dns:.3f}s  ratio {dns / base:.2f}x")
    print(f"DNS view alone, {a.zones} zones: {dns_only:.3f}s")


if __name__ == "__main__":
    main()
