"""`windns fake-server` and `windns dns serve-demo` leave nothing behind, however they end.

Each runs as a user runs it, a separate process with its own temporary directory (TMPDIR): a
normal end, an error, Ctrl-C (SIGINT) and SIGTERM. Afterwards the process has exited, its
temporary directory is empty (no credentials file holding the password, no TLS key, no signed
zones) and no `named` it started is still running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.bind_fixtures import require_bind

PASSWORD = "Cleanup-pa55word"
READY_FAKE = "try: "
READY_DEMO = "both views of the demo fleet: "


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp), "WINDNS_PASSWORD": PASSWORD}


def _private_tmp(tmp_path: Path) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


def _named_pids(tmp: Path) -> set[int]:
    """The named processes serving from a directory under ``tmp`` (found by their command line)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and argv[0].endswith(b"named") and str(tmp).encode() in b" ".join(argv):
            pids.add(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], timeout: float = 20) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {p for p in pids if _alive(p)}
        if not left:
            return left
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


@contextmanager
def _signals_not_ignored() -> Iterator[None]:
    """A child starts with the signals its parent ignores still ignored (a shell's background job,
    nohup): catch them here while starting one, so it starts as from a terminal's foreground,
    where Ctrl-C and SIGHUP reach it."""
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_IGN:
            saved[sig] = signal.signal(sig, lambda *_: None)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@contextmanager
def _running(argv: list[str], tmp: Path, ready: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Start ``windns argv`` and wait for its ``ready`` line; on the way out, whatever the test
    did, nothing it started keeps running (a failing test must not leave named behind either)."""
    with _signals_not_ignored():
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "toolkit", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(tmp),
        )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith(ready):
                break
        else:
            raise AssertionError("not ready in time:\n" + "\n".join(lines))
        assert lines and lines[-1].startswith(ready), "\n".join(lines)
        yield proc, lines
    finally:
        leftovers = _named_pids(tmp)
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
        for pid in leftovers:  # only on failure: the named this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


def _left_in(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


# -- windns fake-server -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sig", "extra"),
    [(signal.SIGINT, ()), (signal.SIGTERM, ()), (signal.SIGTERM, ("--dns",)), (signal.SIGHUP, ())],
    ids=["sigint", "sigterm", "sigterm-with-dns", "sighup"],
)
def test_fake_server_removes_its_credentials_and_tls_files_on_a_signal(
    tmp_path: Path, sig: signal.Signals, extra: tuple[str, ...]
) -> None:
    if extra:
        require_bind()
    tmp = _private_tmp(tmp_path)
    argv = ["fake-server", "--port-base", "0", "--only", "dns1", "--tls", *extra]
    with _running(argv, tmp, READY_FAKE if not extra else "DNS side (BIND) on ") as (proc, lines):
        creds = Path(next(x for x in lines if x.startswith("credentials file: ")).split(": ", 1)[1])
        cert = Path(next(x for x in lines if x.startswith("certificate (use as")).split(": ", 1)[1])
        assert creds.is_relative_to(tmp) and PASSWORD in creds.read_text()  # the file worth removing
        assert cert.is_relative_to(tmp) and cert.with_suffix(".key").exists()
        named = _named_pids(tmp)
        assert bool(named) is bool(extra)
        code, out = _stop(proc, sig)
    assert code == 0, out
    assert _left_in(tmp) == [], out
    assert _wait_gone(named) == set()


def test_fake_server_removes_its_files_at_the_end_of_its_time(tmp_path: Path) -> None:
    tmp = _private_tmp(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "toolkit", "fake-server", "--port-base", "0", "--only", "dns1", "--tls"]
        + ["--for", "0.5"],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "credentials file: " in res.stdout
    assert _left_in(tmp) == []


def test_fake_server_removes_its_files_when_it_cannot_listen(tmp_path: Path) -> None:
    tmp = _private_tmp(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "toolkit", "fake-server", "--port-base", str(port), "--only", "dns1"]
            + ["--tls", "--for", "5"],
            capture_output=True,
            text=True,
            env=_env(tmp),
            timeout=120,
            check=False,
        )
    assert res.returncode == 4 and f"cannot listen on 127.0.0.1 from port {port}" in res.stderr
    assert _left_in(tmp) == []


# -- windns dns serve-demo ----------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve_demo_stops_named_and_removes_its_zones_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    require_bind()
    tmp = _private_tmp(tmp_path)
    with _running(["dns", "serve-demo", "--lifetime", "600"], tmp, READY_DEMO) as (proc, lines):
        named = _named_pids(tmp)
        assert len(named) == 1, lines
        code, out = _stop(proc, sig)
        gone = _wait_gone(named)
    assert code == 0, out
    assert gone == set(), f"named {gone} still running after {sig.name}"
    assert _left_in(tmp) == [], out


def test_serve_demo_removes_its_zones_when_named_cannot_start(tmp_path: Path) -> None:
    require_bind()
    tmp = _private_tmp(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "toolkit", "dns", "serve-demo", "--lifetime", "60", "--port", str(port)],
            capture_output=True,
            text=True,
            env=_env(tmp),
            timeout=180,
            check=False,
        )
    assert res.returncode != 0 and "named" in res.stderr, res.stderr
    assert _named_pids(tmp) == set()
    assert _left_in(tmp) == []


def test_serve_demo_removes_its_zones_at_the_end_of_its_lifetime(tmp_path: Path) -> None:
    require_bind()
    tmp = _private_tmp(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "toolkit", "dns", "serve-demo", "--lifetime", "5"],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=180,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("demo DNS side on 127.0.0.1:")
    assert _named_pids(tmp) == set()
    assert _left_in(tmp) == []
