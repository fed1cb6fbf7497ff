"""Round trips over the real transports, measured on the loopback WinRM endpoint.

    python benchmarks/bench_transport.py            # full run (about two minutes)
    python benchmarks/bench_transport.py --quick    # 40 servers instead of 200

1. HTTP exchanges (authentication legs included) per single-server audit with 1, 50 and 500
   zones, through PsrpRemote and WinrmRemote: the target is the same count for every size.
2. Connection reuse: ten scripts through one Remote (one runspace pool / cmd shell) against a
   new connection per script, through each transport, with 20 ms added per HTTP exchange.
3. A fleet scan of 200 servers x 20 zones with 20 ms added per HTTP exchange, through
   PsrpRemote at the scanner's default concurrency, against a naive baseline on the same
   endpoint: pywinrm ``run_ps`` of one cmdlet per call (the zone list, then three cmdlets
   per zone), at the same concurrency. Targets: >= 10x faster than the baseline, and within
   1.5x of the bound ceil(servers / concurrency) x exchanges per audit x latency.

``--client-cpu`` runs instead: audits of 20-zone servers one after another through PsrpRemote
(no added latency), timing the CPU of the auditing thread only (``time.thread_time``; the
loopback server answers in its own threads), then normalise + rules alone on each server's
answer in the same run: their share of a real-client audit's CPU (target: under 5%).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.fleet import HostSpec  # noqa: E402
from toolkit.remote import connect  # noqa: E402
from toolkit.resources import demo_fixtures_dir  # noqa: E402
from toolkit.services.audit import audit_server  # noqa: E402
from toolkit.services.scan import ScanOptions, scan_hosts  # noqa: E402
from toolkit.testing.fakeserver import FakeWinrmServer, Fault  # noqa: E402
from toolkit.testing.simulator import Fleet, SimulatedServer  # noqa: E402


def _template() -> tuple[dict[str, Any], dict[str, Any]]:
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    doc.pop("Faults", None)
    zone = next(z for z in doc["Zones"] if z.get("SigningKeys") and not z.get("Faults"))
    return doc, zone


def synthetic_fleet(servers: int, zones: int, zone_name: str = "z{z:03d}.bench.example") -> Fleet:
    """``servers`` copies of a demo server, each with ``zones`` copies of one signed zone, named
    by ``zone_name`` (a format string of ``z``, the zone's number)."""
    doc, zone = _template()
    sims: dict[str, SimulatedServer] = {}
    for s in range(servers):
        d = copy.deepcopy(doc)
        name = f"bench{s:03d}.corp.example"
        d["Server"]["ComputerName"] = name
        d["Zones"] = []
        for z in range(zones):
            zz = copy.deepcopy(zone)
            zz["ZoneName"] = zone_name.format(z=z)
            for k in zz.get("SigningKeys", []):
                k.pop("KeyId", None)
                k["ZoneName"] = zz["ZoneName"]
            if isinstance(zz.get("DnsSecSetting"), dict):
                zz["DnsSecSetting"]["ZoneName"] = zz["ZoneName"]
            d["Zones"].append(zz)
        d["TrustAnchors"], d["TrustPoints"] = [], []
        sims[name.lower()] = SimulatedServer(d)
    return Fleet(servers=sims)


# -- the naive baseline: one cmdlet per run_ps ---------------------------------------------------
_NAIVE = re.compile(
    r"^(Get-DnsServerZone|Get-DnsServerDnsSecZoneSetting|Get-DnsServerSigningKey)"
    r"(?: -(?:Name|ZoneName) '([^']*)')? \| ConvertTo-Json$"
)


def naive_scripts(text: str) -> Callable[[SimulatedServer, Mapping[str, Any]], Any] | None:
    m = _NAIVE.match(text.strip())
    if m is None:
        return None
    cmdlet, zone = m.group(1), m.group(2)

    def handler(server: SimulatedServer, _params: Mapping[str, Any]) -> Any:
        if zone is None:
            return [{"ZoneName": z["ZoneName"], "ZoneType": z.get("ZoneType")} for z in server.state["Zones"]]
        z = server.find_zone(zone) or {}
        if cmdlet == "Get-DnsServerZone":
            return {k: v for k, v in z.items() if not isinstance(v, (list, dict))}
        if cmdlet == "Get-DnsServerDnsSecZoneSetting":
            return z.get("DnsSecSetting")
        return z.get("SigningKeys", [])

    return handler


def naive_audit(fake: FakeWinrmServer, name: str) -> int:
    import winrm

    ep = fake.endpoint(name)
    session = winrm.Session(
        ep.url,
        auth=(fake.credentials.username, fake.credentials.password),
        transport="ntlm",
        server_cert_validation="ignore",
    )
    r = session.run_ps("Get-DnsServerZone | ConvertTo-Json")
    zones = [z["ZoneName"] for z in json.loads(r.std_out)]
    for z in zones:
        for cmdlet, param in (
            ("Get-DnsServerZone", "Name"),
            ("Get-DnsServerDnsSecZoneSetting", "ZoneName"),
            ("Get-DnsServerSigningKey", "ZoneName"),
        ):
            r = session.run_ps(f"{cmdlet} -{param} '{z}' | ConvertTo-Json")
            if r.status_code != 0:
                raise RuntimeError(r.std_err.decode("utf-8", "replace")[:200])
    return len(zones)


def exchanges_per_audit(transport: str, zones: int) -> int:
    fleet = synthetic_fleet(1, zones)
    with FakeWinrmServer(fleet, capture=False) as fake:
        ep = next(iter(fake))
        with connect(fake.connection_options(ep.name), transport) as remote:
            report = audit_server(remote)
        assert report.error is None and report.inventory is not None, report.error
        assert len(report.inventory.zones) == zones
        return ep.stats.exchanges


def reuse_vs_reconnect(transport: str, scripts: int, latency: float) -> dict[str, tuple[float, int]]:
    """(seconds, HTTP exchanges) for ``scripts`` inventory runs through one Remote ("reused") and
    through a new Remote per script ("new")."""
    fleet = synthetic_fleet(1, 20)
    out: dict[str, tuple[float, int]] = {}
    with FakeWinrmServer(fleet, capture=False) as fake:
        ep = next(iter(fake))
        ep.faults.set([Fault("latency", seconds=latency)])
        opts = fake.connection_options(ep.name)
        start = time.perf_counter()
        with connect(opts, transport) as remote:
            for _ in range(scripts):
                remote.run("inventory", {})
        out["reused"] = (time.perf_counter() - start, ep.stats.exchanges)
        ep.stats.reset()
        start = time.perf_counter()
        for _ in range(scripts):
            with connect(opts, transport) as remote:
                remote.run("inventory", {})
        out["new"] = (time.perf_counter() - start, ep.stats.exchanges)
    return out


def client_cpu(servers: int, zones: int) -> int:
    """Client CPU per audit through PsrpRemote, and the share of it that normalise + rules take."""
    from toolkit.normalise import normalise_inventory
    from toolkit.policy import load_policy
    from toolkit.remote.base import parse_script_output
    from toolkit.rules import evaluate

    policy = load_policy()
    fleet = synthetic_fleet(servers, zones)
    audit_cpu: list[float] = []
    texts: list[str] = []
    with FakeWinrmServer(fleet, capture=False) as fake:
        for ep in fake:
            c0 = time.thread_time()
            with connect(fake.connection_options(ep.name), "psrp") as remote:
                report = audit_server(remote)
            audit_cpu.append(time.thread_time() - c0)
            if report.error is not None or report.inventory_text is None:
                print(f"   audit error: {report.error}")
                return 1
            texts.append(report.inventory_text)
    steps: list[float] = []
    for _ in range(5):  # each answer read afresh, as each host of a scan is
        for text in texts:
            document = parse_script_output("inventory", text)
            c0 = time.thread_time()
            evaluate(normalise_inventory(document), policy)
            steps.append(time.thread_time() - c0)
    audit, step = statistics.median(audit_cpu[1:] or audit_cpu), statistics.median(steps)
    share = step / audit
    print(f"4. Client CPU per audit: {servers} servers x {zones} zones through PsrpRemote, one at a time")
    print(f"   audit (connect, run, parse, normalise, rules), client thread: {audit * 1000:7.2f} ms (median)")
    print(f"   normalise + rules alone on the same answers:            {step * 1000:7.2f} ms (median)")
    print(
        f"   share of the audit's client CPU: {share:.1%} (target < 5%) {'OK' if share < 0.05 else 'MISSED'}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 servers instead of 200")
    ap.add_argument("--servers", type=int, default=None)
    ap.add_argument("--zones", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.020)
    ap.add_argument("--client-cpu", action="store_true", help="only the client CPU per audit (part 4)")
    args = ap.parse_args(argv)
    if args.client_cpu:
        return client_cpu(args.servers or 20, args.zones)
    servers = args.servers or (40 if args.quick else 200)

    print("1. HTTP exchanges per single-server audit (new connection, NTLM + encryption)")
    per_audit: dict[str, int] = {}
    for transport in ("psrp", "winrm"):
        counts = [exchanges_per_audit(transport, n) for n in (1, 50, 500)]
        per_audit[transport] = counts[0]
        flat = "constant" if len(set(counts)) == 1 else "NOT constant"
        print(
            f"   {transport:<6} 1 zone: {counts[0]:>3}   50 zones: {counts[1]:>3}   "
            f"500 zones: {counts[2]:>3}   ({flat})"
        )

    print(f"2. Ten scripts: one connection vs a new connection per script ({args.latency * 1000:.0f} ms)")
    reused_time: dict[str, float] = {}
    for transport in ("psrp", "winrm"):
        got = reuse_vs_reconnect(transport, 10, args.latency)
        (t_reused, x_reused), (t_new, x_new) = got["reused"], got["new"]
        reused_time[transport] = t_reused
        print(
            f"   {transport:<6} reused: {t_reused:5.2f} s, {x_reused:>3} exchanges   "
            f"new per script: {t_new:5.2f} s, {x_new:>3} exchanges   "
            f"(reuse {t_new / t_reused:.1f}x faster, {x_new / x_reused:.1f}x fewer exchanges)"
        )
    print(f"   psrp / winrm time, both reused: {reused_time['psrp'] / reused_time['winrm']:.2f}")

    print(f"3. Fleet scan: {servers} servers x {args.zones} zones, {args.latency * 1000:.0f} ms per exchange")
    fleet = synthetic_fleet(servers, args.zones)
    concurrency = ScanOptions().concurrency
    with FakeWinrmServer(fleet, capture=False, extra_scripts=naive_scripts) as fake:
        for ep in fake:
            ep.faults.set([Fault("latency", seconds=args.latency)])
        specs = [HostSpec(name=ep.name, address=ep.name) for ep in fake]
        start = time.perf_counter()
        outcome = scan_hosts(
            specs,
            lambda spec: connect(fake.connection_options(spec.name), "psrp"),
            options=ScanOptions(concurrency=concurrency, retries=0),
        )
        scan_time = time.perf_counter() - start
        errors = [h for h in outcome.report.hosts if h.error is not None]
        if errors:
            print(f"   scan errors: {errors[0].error}")
            return 1
        exchanges = sum(ep.stats.exchanges for ep in fake) / servers
        for ep in fake:
            ep.stats.reset()
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda ep: naive_audit(fake, ep.name), list(fake)))
        naive_time = time.perf_counter() - start
        naive_exchanges = sum(ep.stats.exchanges for ep in fake) / servers
    bound = math.ceil(servers / concurrency) * exchanges * args.latency
    print(
        f"   PsrpRemote scan (concurrency {concurrency}): {scan_time:6.2f} s, "
        f"{exchanges:.1f} exchanges per server"
    )
    print(
        f"   naive run_ps baseline (same concurrency): {naive_time:6.2f} s, "
        f"{naive_exchanges:.1f} exchanges per server"
    )
    print(
        f"   bound ceil({servers}/{concurrency}) x {exchanges:.1f} x {args.latency * 1000:.0f} ms "
        f"= {bound:.2f} s"
    )
    speedup, over_bound = naive_time / scan_time, scan_time / bound
    print(
        f"   speed-up over the naive baseline: {speedup:.1f}x (target >= 10x) "
        f"{'OK' if speedup >= 10 else 'MISSED'}"
    )
    print(f"   scan time / bound: {over_bound:.2f} (target <= 1.5) {'OK' if over_bound <= 1.5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
