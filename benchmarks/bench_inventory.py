"""Benchmark: loading a fleet inventory of 1,000, 3,000 and 10,000 hosts (TOML and a plain list).

    python benchmarks/bench_inventory.py                 # 1k, 3k, 10k hosts, best of 5 loads each
    python benchmarks/bench_inventory.py --sizes 1000 10000 --repeat 3
    python benchmarks/bench_inventory.py --profile       # cProfile of loading the largest TOML file

Each inventory is written to a temporary directory once, then ``toolkit.fleet.load_inventory``
(what ``windns scan FILE`` calls: read, parse, validate every entry, merge defaults and groups)
loads it ``--repeat`` times, the sizes taking turns; the best load counts. The TOML file has
``[defaults]``, three ``[groups.NAME]`` tables and one ``[[servers]]`` table per host (name;
every other host an address and a group, every fifth one a port), as a large estate's file
would; the plain list has one host name per line. It prints the time per load and per host,
and the ratio of the largest size's load time to the smallest's, measured in this run: loading
is linear when that ratio is about the ratio of the sizes (10 for 10k / 1k), quadratic when it
is about its square.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from toolkit.fleet import load_inventory


def toml_inventory(hosts: int) -> str:
    head = (
        '[defaults]\nauth = "kerberos"\nconnect-timeout = 20\n\n'
        '[groups.branch]\nport = 5985\nhttps = false\nauth = "ntlm"\nusername = "CORP\\\\dnsaudit"\n'
        'credential = { env = "BRANCH_DNS_PASSWORD" }\n\n'
        "[groups.slow]\ntimeouts = { connect = 60, read = 120, operation = 100 }\n\n"
        "[groups.dmz]\ncert-validation = false\n\n"
    )
    groups = ("branch", "slow", "dmz")
    parts = [head]
    for i in range(hosts):
        parts.append(f'[[servers]]\nname = "dns{i:05d}.site{i % 97:02d}.corp.example"\n')
        if i % 2:
            parts.append(f'address = "10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"\n')
            parts.append(f'groups = ["{groups[i % 3]}"]\n')
        if i % 5 == 0:
            parts.append("port = 5986\n")
        parts.append("\n")
    return "".join(parts)


def plain_inventory(hosts: int) -> str:
    return "# the estate\n" + "".join(f"dns{i:05d}.site{i % 97:02d}.corp.example\n" for i in range(hosts))


def best_loads(paths: dict[int, Path], repeat: int) -> dict[int, float]:
    """The best of ``repeat`` loads of each file; the sizes take turns, so a change in the
    machine's speed during the run hits them all."""
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(repeat):
        for n, path in paths.items():
            start = time.perf_counter()
            inv = load_inventory(path)
            best[n] = min(best[n], time.perf_counter() - start)
            assert len(inv) == n, (path, len(inv))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    ap.add_argument("--repeat", type=int, default=5, help="loads per file; the best counts")
    ap.add_argument("--profile", action="store_true", help="cProfile of one load of the largest TOML file")
    a = ap.parse_args()
    sizes = sorted(a.sizes)
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[tuple[str, int], Path] = {}
        for n in sizes:
            for kind, text in (("toml", toml_inventory(n)), ("plain", plain_inventory(n))):
                path = Path(tmp) / f"fleet-{n}.{'toml' if kind == 'toml' else 'txt'}"
                path.write_text(text, encoding="utf-8")
                files[kind, n] = path
        if a.profile:
            prof = cProfile.Profile()
            prof.runcall(load_inventory, files["toml", sizes[-1]])
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(20)
            print(out.getvalue())
            return
        for kind in ("toml", "plain"):
            times = best_loads({n: files[kind, n] for n in sizes}, a.repeat)
            for n in sizes:
                per_host = times[n] / n * 1e6
                print(f"{kind:<5} {n:>6} hosts: {times[n] * 1000:8.1f} ms  ({per_host:5.1f} us/host)")
            lo, hi = sizes[0], sizes[-1]
            print(
                f"{kind:<5} ratio {hi // 1000}k/{lo // 1000}k: {times[hi] / times[lo]:.1f} "
                f"(sizes {hi / lo:.0f}x; linear ~{hi / lo:.0f}, quadratic ~{(hi / lo) ** 2:.0f})"
            )


if __name__ == "__main__":
    main()
