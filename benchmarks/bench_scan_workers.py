"""Benchmark: `windns scan` over the real PSRP client, threads (--workers 1) against worker processes.

    python benchmarks/bench_scan_workers.py            # 1,000 hosts x 20 zones, 64 at once, 200 and 50 ms
    python benchmarks/bench_scan_workers.py --quick    # 192 hosts (well under two minutes)
    python benchmarks/bench_scan_workers.py --latency 0.2 --repeat 2

The hosts are served by `windns fake-server` (the loopback WinRM endpoint: NTLM, message
encryption, PSRP) started in ``--server-processes`` processes of its own, one simulated server
each (``--zones`` signed zones of ``--keys`` keys, from the healthy zone of the demo server
DNS1), with ``--latency`` seconds added to every HTTP exchange (`fake-server --latency`); the
inventory sends host *i* to server *i* mod that count. The servers run with
``--replay-reads`` (``--no-replay`` turns it off): a read script run again on an unchanged
server answers the text of its first run, so the simulator's own CPU, an artefact of the test,
is spent once per server rather than once per host. Each scan is a `windns scan` process of
its own, exactly as a user runs it (inventory, history, JSON report), with ``-j`` hosts at once,
once with ``--workers 1`` and once with ``--workers`` (default: this machine's cores), in one run.

Printed per scan: the scan's own duration (the report's, from the scanner's start to its last
host, worker start-up included) and the process's wall time; the round-trip bound
``ceil(hosts / concurrency) x exchanges per audit x latency`` (the exchanges counted on a
loopback endpoint in this process before the scans) and the ratio to it; the CPU time of the
scan (the process and its workers) and of the fake servers; how busy the machine's cores were
(all processes, others' work included); and which binds. The CPU bound is the CPU time of the
scan and the servers spread over the cores, and for ``--workers 1`` at least the scan's own CPU
time (one interpreter runs its Python code one thread at a time). CPU binds when the cores were
90% busy or more (whoever's work it was: the share of other processes is printed) or when the
CPU bound exceeds the round-trip bound; the network binds when neither holds and the scan is
within 1.25x of its round-trip bound. On this loopback test the
servers' CPU is on the same machine; against real servers it is theirs, so the scan's share
alone is printed too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_scan import server_document  # noqa: E402

from toolkit.remote import connect  # noqa: E402
from toolkit.services.audit import audit_server  # noqa: E402
from toolkit.services.workers import default_workers  # noqa: E402
from toolkit.testing.fakeserver import FakeWinrmServer  # noqa: E402
from toolkit.testing.simulator import Fleet, SimulatedServer  # noqa: E402

USERNAME = "windns"


def server_docs(count: int, zones: int, keys: int) -> list[dict[str, Any]]:
    docs = []
    for k in range(count):
        doc = server_document(zones, keys)
        doc["Server"]["ComputerName"] = f"bench{k}.bench.example"
        docs.append(doc)
    return docs


def exchanges_per_audit(doc: dict[str, Any]) -> int:
    """HTTP exchanges (authentication legs included) of one PSRP audit of ``doc``'s server."""
    sim = SimulatedServer(doc)
    with FakeWinrmServer(Fleet(servers={sim.name.lower(): sim}), capture=False) as fake:
        ep = next(iter(fake))
        with connect(fake.connection_options(ep.name), "psrp") as remote:
            report = audit_server(remote)
        if report.error is not None:
            raise SystemExit(f"the calibration audit failed: {report.error.message}")
        return ep.stats.exchanges


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process (Linux ``/proc``), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all cores since boot (Linux ``/proc/stat``)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in first[:8]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class FakeServers:
    """``count`` `windns fake-server` processes, one simulated server each."""

    def __init__(
        self, docs: list[dict[str, Any]], latency: float, work: Path, env: dict[str, str], replay: bool = True
    ) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.ports: list[int] = []
        for k, doc in enumerate(docs):
            fixtures = work / f"servers-{k}"
            fixtures.mkdir(exist_ok=True)
            (fixtures / "bench.json").write_text(json.dumps(doc), encoding="utf-8")
            argv = [
                sys.executable,
                "-m",
                "toolkit",
                "fake-server",
                "--fixtures",
                str(fixtures),
                "--port-base",
                "0",
            ]
            if latency:
                argv += ["--latency", str(latency)]
            if replay:
                argv += ["--replay-reads"]
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
            self.procs.append(proc)
        try:
            for proc in self.procs:
                assert proc.stdout is not None
                self.ports.append(self._port(proc.stdout))
                threading.Thread(target=proc.stdout.read, daemon=True).start()  # never a full pipe
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _port(out: IO[str]) -> int:
        for line in out:
            m = re.search(r"\bport (\d+) ", line)
            if m:
                return int(m.group(1))
        raise SystemExit("fake-server ended before listening")

    def cpu(self) -> float | None:
        times = [cpu_seconds(p.pid) for p in self.procs]
        return None if any(t is None for t in times) else sum(t for t in times if t is not None)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def write_inventory(path: Path, hosts: int, ports: list[int]) -> None:
    lines = [
        "[defaults]",
        'transport = "psrp"',
        "https = false",
        'auth = "ntlm"',
        f'username = "{USERNAME}"',
        "",
    ]
    for i in range(hosts):
        lines += ["[[servers]]", f'name = "srv{i:05d}"', f'address = "127.0.0.1:{ports[i % len(ports)]}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


@dataclass
class Run:
    workers: int
    scan: float  # the report's duration
    wall: float  # the process's
    scan_cpu: float
    server_cpu: float | None
    machine_busy: float | None  # share of all cores' time busy during the process, all processes
    ok: int
    failed: int


def run_scan(
    a: argparse.Namespace,
    workers: int,
    inventory: Path,
    work: Path,
    env: dict[str, str],
    servers: FakeServers,
) -> Run:
    out = work / f"report-{workers}.json"
    db = work / f"history-{workers}.sqlite3"
    db.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "toolkit",
        "-q",
        "scan",
        str(inventory),
        "--db",
        str(db),
        "-j",
        str(a.concurrency),
    ]
    argv += ["--workers", str(workers), "--retries", "0", "--format", "json", "-o", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server0, ticks0 = servers.cpu(), machine_ticks()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    server1, ticks1 = servers.cpu(), machine_ticks()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the scan and its workers, all waited for
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"windns scan --workers {workers} exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    failed = [h for h in report["hosts"] if not h["ok"]]
    if failed:
        first = failed[0]["error"]
        print(f"    {len(failed)} host(s) failed, first: {first['kind']}: {first['message']}")
    busy = None
    if ticks0 is not None and ticks1 is not None and ticks1[1] > ticks0[1]:
        busy = (ticks1[0] - ticks0[0]) / (ticks1[1] - ticks0[1])
    return Run(
        workers=workers,
        scan=float(report["duration"]),
        wall=wall,
        scan_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        server_cpu=None if server0 is None or server1 is None else server1 - server0,
        machine_busy=busy,
        ok=len(report["hosts"]) - len(failed),
        failed=len(failed),
    )


def cpu_bound(r: Run, cores: int) -> float:
    total = r.scan_cpu + (r.server_cpu or 0.0)
    spread = total / cores
    return max(spread, r.scan_cpu) if r.workers == 1 else spread


def describe(r: Run, bound: float, cores: int) -> str:
    """Which binds: the cores (busy, or the CPU work alone longer than the round trips) or the
    network (the scan within reach of its round-trip bound with cores to spare)."""
    cpu = cpu_bound(r, cores)
    ours = (r.scan_cpu + (r.server_cpu or 0.0)) / (r.wall * cores)
    if r.machine_busy is not None and r.machine_busy >= 0.9:
        others = max(0.0, r.machine_busy - ours)
        shares = f"this benchmark {ours:.0%}, other work {others:.0%}"
        return f"CPU binds: the cores {r.machine_busy:.0%} busy ({shares})"
    if cpu > bound:
        return f"CPU binds: CPU bound {cpu:.1f} s > round trips {bound:.1f} s"
    busy = f"{r.machine_busy:.0%}" if r.machine_busy is not None else "n/a"
    if r.scan / bound <= 1.25:
        return f"the network binds (cores {busy} busy, CPU bound {cpu:.1f} s)"
    return f"neither saturated (cores {busy} busy, CPU bound {cpu:.1f} s): hand-off and scheduling delays"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--servers", type=int, default=None, help="hosts scanned (1000; --quick: 192)")
    ap.add_argument("--zones", type=int, default=20)
    ap.add_argument("--keys", type=int, default=4)
    ap.add_argument("--concurrency", "-j", type=int, default=64)
    ap.add_argument(
        "--latency", type=float, nargs="+", default=[0.2, 0.05], help="seconds per HTTP exchange (0.2 0.05)"
    )
    ap.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[default_workers()],
        help="worker processes, one scan per value beside --workers 1 (default: the cores)",
    )
    ap.add_argument("--server-processes", type=int, default=2, help="fake-server processes (2)")
    ap.add_argument("--repeat", type=int, default=1, help="pairs of scans per latency, alternating")
    ap.add_argument("--quick", action="store_true", help="192 hosts")
    ap.add_argument(
        "--no-replay",
        action="store_true",
        help="the fake servers run the simulator for every read (default: --replay-reads)",
    )
    a = ap.parse_args()
    hosts = a.servers or (192 if a.quick else 1000)
    cores = default_workers()
    docs = server_docs(a.server_processes, a.zones, a.keys)
    exchanges = exchanges_per_audit(docs[0])
    password = secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "WINDNS_PASSWORD": password,
    }
    env.pop("WINDNS_DB", None)
    print(
        f"windns scan over PSRP: {hosts} hosts x {a.zones} zones x {a.keys} keys, {a.concurrency} at once, "
        f"{exchanges} HTTP exchanges per audit; {a.server_processes} fake-server process(es); "
        f"this machine: {cores} core(s); --workers 1 against --workers {' '.join(map(str, a.workers))}"
    )
    with tempfile.TemporaryDirectory(prefix="windns-bench-") as tmp:
        work = Path(tmp)
        inventory = work / "fleet.toml"
        for latency in a.latency:
            bound = math.ceil(hosts / a.concurrency) * exchanges * latency
            print(
                f"\n{latency * 1000:g} ms per exchange: round-trip bound ceil({hosts}/{a.concurrency}) x "
                f"{exchanges} x {latency * 1000:g} ms = {bound:.2f} s (target: within 1.25x)"
            )
            servers = FakeServers(docs, latency, work, env, replay=not a.no_replay)
            try:
                write_inventory(inventory, hosts, servers.ports)
                runs: dict[int, list[Run]] = {w: [] for w in (1, *a.workers)}
                for _ in range(a.repeat):
                    for workers in runs:
                        runs[workers].append(run_scan(a, workers, inventory, work, env, servers))
            finally:
                servers.stop()
            print(
                f"  {'workers':>7} {'scan s':>8} {'ratio':>6} {'process s':>9} {'scan CPU s':>10} "
                f"{'server CPU s':>12} {'cores busy':>10}  hosts ok"
            )
            for workers, rs in runs.items():
                for r in rs:
                    server = f"{r.server_cpu:12.1f}" if r.server_cpu is not None else f"{'n/a':>12}"
                    busy = f"{r.machine_busy:10.0%}" if r.machine_busy is not None else f"{'n/a':>10}"
                    times = f"{r.scan:8.2f} {r.scan / bound:6.2f} {r.wall:9.2f}"
                    print(f"  {workers:7d} {times} {r.scan_cpu:10.1f} {server} {busy}  {r.ok}/{hosts}")
            for workers, rs in runs.items():
                best = min(rs, key=lambda r: r.scan)
                verdict = "ok" if best.scan / bound <= 1.25 else "MISSED"
                print(
                    f"  --workers {workers}: best ratio {best.scan / bound:.2f} ({verdict}); "
                    f"{describe(best, bound, cores)}; the scan's CPU alone, spread over {cores} core(s): "
                    f"{best.scan_cpu / cores:.1f} s"
                )
            one = min(r.scan for r in runs[1])
            for workers in a.workers:
                if workers != 1:
                    many = min(r.scan for r in runs[workers])
                    print(
                        f"  speed-up of --workers {workers} over --workers 1: {one / many:.2f}x (best scans)"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
