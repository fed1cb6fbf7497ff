"""Benchmark: a fleet scan of simulated servers, and normalise + rules throughput on one core.

    python benchmarks/bench_scan.py                      # 1,000 servers x 20 zones x 4 keys, 64 workers
    python benchmarks/bench_scan.py --servers 128 --latency 0.2   # a quick run
    python benchmarks/bench_scan.py --profile            # cProfile of normalise + rules

Part 1 scans ``--servers`` simulated servers through ``toolkit.services.scan.Scanner`` exactly as
``windns scan`` does (FakeRemote with ``--latency`` seconds per call, normalise, rules, each host
written to a throw-away SQLite history as it finishes) and prints the wall time against the ideal
bound ``ceil(servers / concurrency) x latency`` and the peak memory. FakeRemote sleeps once per
host and has no transport (no XML, NTLM or PSRP): this is the toolkit's own work in a scan, not
a scan as users feel it (``bench_fleet.py`` and ``bench_scan_workers.py`` are that).

``--replay`` answers every host with the simulator's inventory text recorded once before the
scan (each host still sleeps ``--latency`` and parses the JSON, as a transport does): the ratio
then counts only the toolkit's own work, not the simulator building each answer (which a real
server does on its side).

Part 2 times ``normalise_inventory`` + ``rules.evaluate`` on one server document in one thread
and prints keys per second of the median round, CPU time per host and per zone, and the
share of each step. Each round first parses the server's JSON text afresh, untimed, as the
transport does for each host of a scan.

The servers are generated in memory from a template (the healthy ``corp.example`` zone of the
demo server DNS1, copied to ``--zones`` zones of ``--keys`` keys). All hosts share one simulated
server object, answering under their own host names, so the memory figure measures the scan,
not the simulator.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import json
import math
import pstats
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.fleet import HostSpec
from toolkit.history import History
from toolkit.policy import load_policy
from toolkit.remote import RemoteResult
from toolkit.remote.base import Remote, parse_script_output
from toolkit.resources import demo_fixtures_dir
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import SimulatedServer


def server_document(zones: int, keys: int) -> dict[str, Any]:
    """A simulated server fixture with ``zones`` signed zones of ``keys`` keys each."""
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    template = next(z for z in doc["Zones"] if z["ZoneName"] == "corp.example")
    doc.pop("Faults", None)
    doc["Server"]["ComputerName"] = "BENCH.bench.example"
    out = []
    for i in range(zones):
        z = copy.deepcopy(template)
        name = f"z{i:03d}.bench.example"
        z["ZoneName"] = name
        z["DnsSecSetting"]["ZoneName"] = name
        base = template["SigningKeys"]
        z["SigningKeys"] = []
        for j in range(keys):
            k = copy.deepcopy(base[j % len(base)])
            k["ZoneName"] = name
            k["KeyId"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}/{j}"))
            z["SigningKeys"].append(k)
        out.append(z)
    doc["Zones"] = out
    return doc


def rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class ReplayRemote:
    """A host answering with recorded inventory text after ``latency`` seconds (``--replay``)."""

    def __init__(self, host: str, raw: str, latency: float) -> None:
        self.host, self.raw, self.latency = host, raw, latency

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        time.sleep(self.latency)
        data = parse_script_output(script, self.raw, host=self.host)  # as the transports parse it
        return RemoteResult(script=script, data=data, raw=self.raw, elapsed=self.latency)

    def close(self) -> None:
        pass

    def __enter__(self) -> ReplayRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bench_scan(a: argparse.Namespace, server: SimulatedServer) -> None:
    policy = load_policy()
    hosts = [
        HostSpec(name=f"srv{i:05d}.bench.example", address="bench", transport="fake")
        for i in range(a.servers)
    ]
    raw = server.run_text("inventory", {}) if a.replay else ""

    def connector(spec: HostSpec) -> Remote:
        if a.replay:
            return ReplayRemote(spec.name, raw, a.latency)
        return FakeRemote(server, host=spec.name, latency=a.latency)

    with tempfile.TemporaryDirectory() as tmp:
        history = History(Path(tmp) / "bench.sqlite3")
        scan_id = history.begin_scan(policy=policy.name, fail_on="high", hosts_total=len(hosts))
        options = ScanOptions(
            concurrency=a.concurrency, host_timeout=None, retries=0, keep_inventory=a.keep_inventory
        )
        scanner = Scanner(
            hosts, connector, policy, options=options, on_host=lambda h: history.record_host(scan_id, h)
        )
        rss_before = rss_mib()
        if a.tracemalloc:
            tracemalloc.start()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        outcome = scanner.run()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if a.tracemalloc else None
        tracemalloc.stop()
        history.finish_scan(scan_id, duration=wall)
        db_size = (Path(tmp) / "bench.sqlite3").stat().st_size / 2**20
        history.close()
    report = outcome.report
    failed = sum(1 for h in report.hosts if not h.ok)
    bound = math.ceil(a.servers / a.concurrency) * a.latency
    keys = a.servers * a.zones * a.keys
    answers = "recorded answers (--replay)" if a.replay else "the simulator"
    print(
        f"scan: {a.servers} servers x {a.zones} zones x {a.keys} keys = {keys:,} keys, "
        f"concurrency {a.concurrency}, latency {a.latency:g}s per call, {answers}"
    )
    print(f"  hosts ok {len(report.hosts) - failed}, failed {failed}, findings {len(report.findings):,}")
    print(f"  wall time          {wall:8.2f} s")
    print(f"  ideal bound        {bound:8.2f} s   (ceil({a.servers}/{a.concurrency}) x {a.latency:g}s)")
    print(f"  ratio              {wall / bound:8.2f}     (FakeRemote: one sleep per host, no transport)")
    print(
        f"  CPU time           {cpu:8.2f} s   "
        f"({cpu / (a.servers * a.zones) * 1e3:.3f} ms per zone, all threads)"
    )
    print(f"  peak RSS           {rss_mib():8.1f} MiB (before the scan {rss_before:.1f} MiB)")
    if traced is not None:
        print(f"  peak traced        {traced:8.1f} MiB (tracemalloc, Python allocations during the scan)")
    print(f"  history database   {db_size:8.1f} MiB; inventories kept in memory: {a.keep_inventory}")


def bench_rules(a: argparse.Namespace, doc: dict[str, Any]) -> None:
    from toolkit.normalise import normalise_inventory
    from toolkit.rules import evaluate

    policy = load_policy()
    server = SimulatedServer(doc)
    text = json.dumps(server.run("inventory", {}))  # what the server's script prints
    keys = a.zones * a.keys

    def parsed() -> Any:
        return parse_script_output("inventory", text)  # as the transport parses each host's answer

    evaluate(normalise_inventory(parsed()), policy)  # warm caches (rule registry, enum spellings, spans)
    times: dict[str, list[float]] = {"normalise": [], "rules": []}
    t0 = time.perf_counter()
    # Each round reads a freshly parsed document, as a scan does for each host.
    while time.perf_counter() - t0 < a.seconds:
        document = parsed()
        c0 = time.process_time()
        inv = normalise_inventory(document)
        c1 = time.process_time()
        evaluate(inv, policy)
        times["rules"].append(time.process_time() - c1)
        times["normalise"].append(c1 - c0)
    wall = time.perf_counter() - t0
    # The median round: a burst of other load on a shared machine moves it far less than the mean.
    median = {step: statistics.median(spent) for step, spent in times.items()}
    print(
        f"normalise + rules, one thread: {len(times['normalise'])} rounds of {a.zones} zones x {a.keys} keys "
        f"in {wall:.2f}s (each: parse the server's JSON, untimed; normalise; rules)"
    )
    cpu = median["normalise"] + median["rules"]
    rate = keys / cpu
    print(f"    throughput       {rate:10,.0f} keys/s   (median round)")
    print(f"    CPU per host     {cpu * 1e3:10.2f} ms")
    print(f"    CPU per zone     {cpu / a.zones * 1e6:10.1f} us")
    for step in ("normalise", "rules"):
        spent = median[step]
        share = f"{keys / spent:,.0f} keys/s, {spent / cpu:.0%}"
        print(f"      {step:14s} {spent / a.zones * 1e6:10.1f} us  ({share})")
    if a.profile:
        prof = cProfile.Profile()
        documents = [parsed() for _ in range(max(len(times["normalise"]) // 4, 5))]
        prof.enable()
        for document in documents:
            evaluate(normalise_inventory(document), policy)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--servers", type=int, default=1000)
    ap.add_argument("--zones", type=int, default=20)
    ap.add_argument("--keys", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.5, help="seconds per remote call (default 0.5)")
    ap.add_argument("--seconds", type=float, default=3.0, help="how long to time normalise + rules")
    ap.add_argument(
        "--keep-inventory",
        action="store_true",
        help="keep every inventory in memory (as `windns scan` does for its report)",
    )
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    ap.add_argument("--profile", action="store_true", help="cProfile normalise + rules")
    ap.add_argument("--replay", action="store_true", help="answer with recorded text, not the simulator")
    ap.add_argument("--skip-scan", action="store_true")
    a = ap.parse_args()
    doc = server_document(a.zones, a.keys)
    if not a.skip_scan:
        bench_scan(a, SimulatedServer(doc))
    bench_rules(a, doc)


if __name__ == "__main__":
    main()
