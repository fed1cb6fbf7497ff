"""Benchmark: how long `windns` takes to start, against `python -c pass` in the same run.

Runs ``python -c pass``, ``windns --help``, ``windns --version`` and ``windns explain 9104``
in turn, ``--runs`` times each (alternating, so a change in the machine's load hits all of them
alike), and prints the median wall time of each and its ratio to ``python -c pass``. The target
is a ratio of at most 3 (4 accepted for now). ``python -c 'import click'`` runs with them: the
floor of any click command line. ``windns`` is the console script next to this
Python if there is one, else ``python -m toolkit``; ``--command`` names another.

    python benchmarks/bench_startup.py [--runs 30] [--command PATH] [--importtime]

``--importtime`` then prints, for each command, the ten imports that cost it most
(``python -X importtime``, cumulative microseconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES: tuple[tuple[str, ...], ...] = (("--help",), ("--version",), ("explain", "9104"))


def windns_command(given: str | None) -> list[str]:
    if given:
        return [given]
    script = Path(sys.executable).with_name("windns")
    if script.exists():
        return [str(script)]
    found = shutil.which("windns")
    return [found] if found else [sys.executable, "-m", "toolkit"]


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def top_imports(argv: list[str], n: int = 10) -> list[tuple[int, str]]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    out = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=True
    )
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--command", help="the windns executable (default: the console script)")
    ap.add_argument("--importtime", action="store_true", help="also list each command's costliest imports")
    a = ap.parse_args()
    windns = windns_command(a.command)
    commands: list[tuple[str, list[str]]] = [("python -c pass", [sys.executable, "-c", "pass"])]
    commands += [("python -c 'import click'", [sys.executable, "-c", "import click"])]
    commands += [("windns " + " ".join(c), [*windns, *c]) for c in CASES]
    for _, argv in commands:  # warm the file cache, and fail early on a broken command
        run_once(argv)
    times: dict[str, list[float]] = {label: [] for label, _ in commands}
    for _ in range(a.runs):
        for label, argv in commands:
            times[label].append(run_once(argv))
    base = statistics.median(times[commands[0][0]])
    print(f"runs={a.runs} windns={' '.join(windns)}")
    for label, _ in commands:
        med = statistics.median(times[label])
        print(f"{label:<26} median {med * 1000:7.1f} ms   ratio {med / base:5.2f}x (target <= 3)")
    if a.importtime:
        for label, argv in commands[2:]:
            print(f"\n{label}: costliest imports (cumulative us)")
            for us, name in top_imports(argv):
                print(f"  {us:8d}  {name}")


if __name__ == "__main__":
    main()
