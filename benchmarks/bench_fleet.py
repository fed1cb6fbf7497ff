"""End-to-end fleet scan: the real clients against ``windns fake-server`` in its own process.

    python benchmarks/bench_fleet.py            # 200 hosts x 20 zones, concurrency 16, 20 ms
    python benchmarks/bench_fleet.py --quick    # 40 hosts (under two minutes)

For each of HTTPS and HTTP (NTLM with message encryption over HTTP), a ``windns fake-server``
process serves N synthetic hosts of Z signed zones, adding L seconds to every HTTP exchange and
sleeping a modelled server time per call (``--call-time`` + ``--zone-time`` x zones read). This
process is the client only: it scans the N hosts with the scanner ``windns scan`` uses, at
concurrency C, through PsrpRemote (pypsrp) and WinrmRemote (pywinrm), then runs the naive
baseline (pywinrm ``run_ps`` of one cmdlet per call, at the same concurrency) over HTTP.

Per row: wall time; the bound ceil(N/C) x (exchanges per host x L + modelled server time per
host); wall / bound; HTTP exchanges per host (counted at the client's HTTP adapter); the
client's CPU time per host (this process's rusage, user + system; the server's CPU is in
another process and not counted).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests.adapters  # noqa: E402

from toolkit.fleet import HostSpec  # noqa: E402
from toolkit.remote import connect  # noqa: E402
from toolkit.remote.base import ConnectionOptions  # noqa: E402
from toolkit.resources import demo_fixtures_dir  # noqa: E402
from toolkit.services.audit import audit_server  # noqa: E402
from toolkit.services.scan import ScanOptions, scan_hosts  # noqa: E402
from toolkit.testing.fakeserver.naive import NAIVE_CMDLETS, naive_script  # noqa: E402

_LINE = re.compile(r"^\s+(\S+)\s+port (\d+)\s+(https?://\S+)")


# -- the fleet -----------------------------------------------------------------------------------
def write_fleet(directory: Path, hosts: int, zones: int) -> None:
    """``hosts`` server fixtures of ``zones`` copies of the demo DNS1's healthy signed zone."""
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    doc.pop("Faults", None)
    zone = next(z for z in doc["Zones"] if z.get("SigningKeys") and not z.get("Faults"))
    for s in range(hosts):
        d = copy.deepcopy(doc)
        name = f"bench{s:03d}.corp.example"
        d["Server"]["ComputerName"] = name
        d["Zones"] = []
        for z in range(zones):
            zz = copy.deepcopy(zone)
            zz["ZoneName"] = f"z{z:03d}.bench.example"
            for k in zz.get("SigningKeys", []):
                k.pop("KeyId", None)
                k["ZoneName"] = zz["ZoneName"]
            if isinstance(zz.get("DnsSecSetting"), dict):
                zz["DnsSecSetting"]["ZoneName"] = zz["ZoneName"]
            d["Zones"].append(zz)
        d["TrustAnchors"], d["TrustPoints"] = [], []
        (directory / f"{name}.json").write_text(json.dumps(d), encoding="utf-8")


# -- the server process --------------------------------------------------------------------------
@dataclass
class Served:
    ports: dict[str, int]
    tls: bool
    ca_bundle: str | None
    password: str

    def options(self, name: str) -> ConnectionOptions:
        return ConnectionOptions(
            host="127.0.0.1",
            port=self.ports[name],
            ssl=self.tls,
            ca_bundle=self.ca_bundle,
            auth="ntlm",
            username="windns",
            password=self.password,
            connect_timeout=10.0,
            read_timeout=60.0,
            operation_timeout=20.0,
        )


@contextmanager
def fake_server(fixtures: Path, *, tls: bool, latency: float, call: float, zone: float) -> Iterator[Served]:
    password = secrets.token_urlsafe(16)
    env = dict(os.environ, WINDNS_PASSWORD=password, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-c", "from toolkit.cli import main; main()", "fake-server"]
    argv += ["--fixtures", str(fixtures), "--port-base", "0", "--latency", str(latency)]
    argv += ["--call-time", str(call), "--zone-time", str(zone), "--naive-cmdlets"]
    argv += ["--tls"] if tls else []
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        ports: dict[str, int] = {}
        ca: str | None = None
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _LINE.match(line)
            if m:
                ports[m.group(1)] = int(m.group(2))
            elif line.startswith("certificate (use as --ca-bundle): "):
                ca = line.split(": ", 1)[1].strip()
            elif line.startswith("try:"):
                break
        else:
            raise RuntimeError(f"windns fake-server ended early (exit {proc.wait()})")
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
        yield Served(ports=ports, tls=tls, ca_bundle=ca, password=password)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def with_public_cas(served: Served, path: Path) -> Served:
    """``served`` with a CA bundle of the public CAs (certifi's, as requests trusts by default)
    followed by the endpoint's own CA."""
    import certifi

    assert served.ca_bundle is not None
    own = Path(served.ca_bundle).read_text(encoding="ascii")
    path.write_text(Path(certifi.where()).read_text(encoding="ascii") + own, encoding="ascii")
    return dataclasses.replace(served, ca_bundle=str(path))


# -- measuring the client ------------------------------------------------------------------------
class ExchangeCounter:
    """Counts the HTTP requests this process sends (every client goes through requests)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._send = requests.adapters.HTTPAdapter.send

    def __enter__(self) -> ExchangeCounter:
        original = self._send

        def send(adapter: Any, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.count += 1
            return original(adapter, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        requests.adapters.HTTPAdapter.send = self._send  # type: ignore[method-assign]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class Row:
    label: str
    wall: float
    exchanges: float
    cpu_ms: float
    server_time: float  # modelled server seconds per host


def measure(
    label: str, hosts: list[str], work: Callable[[str], None], concurrency: int, server: float
) -> Row:
    with ExchangeCounter() as counter:
        cpu, start = _cpu(), time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(work, hosts))
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
    return Row(label, wall, counter.count / len(hosts), cpu / len(hosts) * 1000, server)


@contextmanager
def plain_client(transport: str) -> Iterator[str]:
    """``psrp-plain`` and ``winrm-plain``: the transport without the client tuning (pypsrp's own
    string escaping instead of ``toolkit.remote._psrp_strings``; the session as its library builds
    it, instead of ``toolkit.remote._http``'s shared TLS context, environment read once and NTLM
    hashes derived once): the before rows, measured in the same run."""
    if not transport.endswith("-plain"):
        yield transport
        return
    import requests.utils

    import toolkit.remote._http as http
    import toolkit.remote.psrp as psrp

    saved = psrp.use_fast_strings, http.tune_session, http.ntlm_credentials
    psrp.use_fast_strings = lambda pool: None
    http.tune_session = lambda session: session
    http.ntlm_credentials = lambda username, password: username
    # Untuned, requests sets and deletes os.environ["no_proxy"] around every pywinrm request,
    # which is not thread-safe (requests issue #4997: two at once fail a host with KeyError); one
    # at a time here, so that the before rows complete (the tuned client does it once per
    # session, under toolkit.remote.winrm's lock).
    set_environ = requests.utils.set_environ
    lock = threading.Lock()

    @contextmanager
    def one_at_a_time(name: str, value: str | None) -> Iterator[None]:
        with lock, set_environ(name, value):
            yield

    requests.utils.set_environ = one_at_a_time  # type: ignore[assignment]
    try:
        yield transport.removesuffix("-plain")
    finally:
        psrp.use_fast_strings, http.tune_session, http.ntlm_credentials = saved
        requests.utils.set_environ = set_environ


def scan_row(label: str, served: Served, transport: str, concurrency: int, server: float) -> Row:
    with plain_client(transport) as real:
        return _scan_row(label, served, real, concurrency, server)


def _scan_row(label: str, served: Served, transport: str, concurrency: int, server: float) -> Row:
    names = sorted(served.ports)
    specs = [HostSpec(name=n, address=n) for n in names]
    # warm-up, untimed: one host, so that lazy imports and first-use caches are not counted
    with connect(served.options(names[0]), transport) as remote:
        audit_server(remote)

    def scan(_: str) -> None:
        outcome = scan_hosts(
            specs,
            lambda spec: connect(served.options(spec.name), transport),
            options=ScanOptions(concurrency=concurrency, retries=0),
        )
        errors = [h.error for h in outcome.report.hosts if h.error is not None]
        if errors:
            raise RuntimeError(f"{label}: {len(errors)} hosts failed, first: {errors[0]}")

    # the scanner runs its own pool; measure it as one unit of work
    row = measure(label, ["fleet"], scan, 1, server)
    row.exchanges /= len(names)
    row.cpu_ms /= len(names)
    return row


def naive_audit(served: Served, name: str) -> None:
    import winrm

    opts = served.options(name)
    scheme = "https" if served.tls else "http"
    session = winrm.Session(
        f"{scheme}://127.0.0.1:{opts.port}/wsman",
        auth=("windns", served.password),
        transport="ntlm",
        server_cert_validation="ignore",
    )
    r = session.run_ps(naive_script("Get-DnsServerZone"))
    zones = [z["ZoneName"] for z in json.loads(r.std_out)]
    for z in zones:
        for cmdlet, param in NAIVE_CMDLETS:
            r = session.run_ps(naive_script(cmdlet, param, z))
            if r.status_code != 0:
                raise RuntimeError(r.std_err.decode("utf-8", "replace")[:200])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 hosts instead of 200")
    ap.add_argument("--hosts", type=int, default=None, help="N (200; 40 with --quick)")
    ap.add_argument("--zones", type=int, default=20, help="Z zones per host (20)")
    ap.add_argument("--concurrency", type=int, default=ScanOptions().concurrency, help="C (the scanner's)")
    ap.add_argument("--latency", type=float, default=0.020, help="L seconds per HTTP exchange (0.020)")
    ap.add_argument("--call-time", type=float, default=0.010, help="modelled server s per call (0.010)")
    ap.add_argument("--zone-time", type=float, default=0.001, help="modelled server s per zone read (0.001)")
    ap.add_argument("--skip-naive", action="store_true", help="leave the naive baseline out")
    ap.add_argument(
        "--transports",
        default="psrp-plain,psrp,winrm-plain,winrm",
        help="client rows (-plain: the transport without the client tuning, the before rows)",
    )
    ap.add_argument(
        "--ca-bundle",
        choices=("public", "own"),
        default="public",
        help="what the clients trust: the public CAs (certifi's bundle) plus the endpoint's own CA, "
        "as a system bundle with a corporate root added (default), or the endpoint's CA alone",
    )
    ap.add_argument("--schemes", default="https,http", help="server schemes to run (https,http)")
    args = ap.parse_args(argv)
    n = args.hosts or (40 if args.quick else 200)
    z, c, lat = args.zones, args.concurrency, args.latency
    call, per_zone = args.call_time, args.zone_time
    # modelled server seconds per host: the inventory reads every zone in one call; the naive
    # baseline makes 1 + 3Z calls, the zone list reading every zone, the others one each
    inventory = call + per_zone * z
    naive = (1 + 3 * z) * call + per_zone * (z + 3 * z)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        fixtures = Path(tmp)
        write_fleet(fixtures, n, z)
        for tls in [s == "https" for s in args.schemes.split(",")]:
            scheme = "HTTPS" if tls else "HTTP"
            with fake_server(fixtures, tls=tls, latency=lat, call=call, zone=per_zone) as served:
                if served.ca_bundle and args.ca_bundle == "public":
                    served = with_public_cas(served, fixtures / "bundle.pem")  # noqa: PLW2901
                for transport in args.transports.split(","):
                    rows.append(scan_row(f"{transport} {scheme}", served, transport, c, inventory))
                if not tls and not args.skip_naive:
                    names = sorted(served.ports)
                    rows.append(
                        measure(f"naive {scheme}", names, functools.partial(naive_audit, served), c, naive)
                    )

    trust = "the public CAs and the endpoint CA" if args.ca_bundle == "public" else "the endpoint CA"
    print(
        f"fleet scan: N={n} hosts, Z={z} zones, C={c}, L={lat * 1000:.0f} ms per exchange, "
        f"server {call * 1000:.0f} ms per call + {per_zone * 1000:.1f} ms per zone, "
        f"HTTPS trusting {trust}"
    )
    print(
        f"{'client':<19} {'wall s':>7} {'bound s':>8} {'ratio':>6} {'exch/host':>10} "
        f"{'client CPU ms/host':>19}"
    )
    for r in rows:
        bound = math.ceil(n / c) * (r.exchanges * lat + r.server_time)
        print(
            f"{r.label:<19} {r.wall:7.2f} {bound:8.2f} {r.wall / bound:6.2f} {r.exchanges:10.1f} "
            f"{r.cpu_ms:19.1f}"
        )
    naive_rows = [r for r in rows if r.label.startswith("naive")]
    if naive_rows:
        base = naive_rows[0].wall
        for r in rows:
            if r is not naive_rows[0]:
                print(f"  {r.label}: {base / r.wall:.1f}x faster than the naive baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
