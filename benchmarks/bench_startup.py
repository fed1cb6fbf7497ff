"""Benchmark: how long `windns` takes to start, against `python -c pass` in the same run.

Runs ``python -c pass``, ``windns --help``, ``windns --version`` and ``windns explain 9104``
in turn, ``--runs`` times each (alternating, so a change in the machine's load hits all of them
alike), and prints the median wall time of each and its ratio to ``python -c pass``. The target
is a ratio of at most 3 (4 accepted). Two floors run with them: ``python -c 'import re'`` (what
pip's console-script wrapper imports before the toolkit's code) and ``python -c 'import click'``
(what any command answered by the click CLI costs at least; the three above are answered
without click, by ``toolkit/console.py``).

``windns`` is the console script next to this Python if there is one (as users run it:
``pip install .`` into a venv, then run this with that venv's Python), else ``python -m
toolkit``. ``--command`` names another; given more than once, each is measured in the same
alternation (``--command OLD/bin/windns --command NEW/bin/windns``: before and after a change).

    python benchmarks/bench_startup.py [--runs 30] [--command PATH ...] [--importtime]

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


def windns_command() -> list[str]:
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
    ap.add_argument(
        "--command",
        action="append",
        help="a windns executable (default: the console script); repeat to compare several",
    )
    ap.add_argument("--importtime", action="store_true", help="also list each command's costliest imports")
    a = ap.parse_args()
    windns = [[c] for c in a.command] if a.command else [windns_command()]
    commands: list[tuple[str, list[str]]] = [("python -c pass", [sys.executable, "-c", "pass"])]
    commands += [("python -c 'import re'", [sys.executable, "-c", "import re"])]
    commands += [("python -c 'import click'", [sys.executable, "-c", "import click"])]
    floors = len(commands)
    for i, exe in enumerate(windns, start=1):
        name = "windns" if len(windns) == 1 else f"windns[{i}]"
        commands += [(f"{name} " + " ".join(c), [*exe, *c]) for c in CASES]
    for _, argv in commands:  # warm the file cache, and fail early on a broken command
        run_once(argv)
    times: dict[str, list[float]] = {label: [] for label, _ in commands}
    for _ in range(a.runs):
        for label, argv in commands:
            times[label].append(run_once(argv))
    base = statistics.median(times[commands[0][0]])
    print(f"runs={a.runs}")
    for i, exe in enumerate(windns, start=1):
        print(f"windns{'' if len(windns) == 1 else f'[{i}]'} = {' '.join(exe)}")
    for label, _ in commands:
        med = statistics.median(times[label])
        print(f"{label:<28} median {med * 1000:7.1f} ms   ratio {med / base:5.2f}x (target <= 3)")
    if a.importtime:
        for label, argv in commands[floors:]:
            print(f"\n{label}: costliest imports (cumulative us)")
            for us, name in top_imports(argv):
                print(f"  {us:8d}  {name}")


if __name__ == "__main__":
    main()
