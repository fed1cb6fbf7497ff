"""Round trips over the real transports, measured on the loopback WinRM endpoint.

    python benchmarks/bench_transport.py

1. HTTP exchanges (authentication legs included) per single-server audit with 1, 50 and 500
   zones, through PsrpRemote and WinrmRemote: the target is the same count for every size.
2. Connection reuse: ten scripts through one Remote (one runspace pool / cmd shell) against a
   new connection per script, through each transport, with 20 ms added per HTTP exchange.

The fleet scan against the naive baseline is ``bench_fleet.py`` (the server in its own process).

``--client-cpu`` runs instead: audits of 20-zone servers one after another through PsrpRemote
(no added latency), timing the CPU of the auditing thread only (``time.thread_time``; the
loopback server answers in its own threads), then normalise + rules alone on each server's
answer in the same run: their share of a real-client audit's CPU (target: under 5%).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.remote import connect  # noqa: E402
from toolkit.resources import demo_fixtures_dir  # noqa: E402
from toolkit.services.audit import audit_server  # noqa: E402
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
    ap.add_argument("--latency", type=float, default=0.020)
    ap.add_argument("--client-cpu", action="store_true", help="only the client CPU per audit (part 4)")
    ap.add_argument("--servers", type=int, default=20, help="with --client-cpu: servers audited")
    ap.add_argument("--zones", type=int, default=20, help="with --client-cpu: zones per server")
    args = ap.parse_args(argv)
    if args.client_cpu:
        return client_cpu(args.servers, args.zones)

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

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
