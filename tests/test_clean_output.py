"""No windns command prints a Python warning: stderr is for the one-line error, and it lands in
every cron mail. dnspython's DSA module warns under cryptography 51 at import
(toolkit/dnsview/_dnssec.py); the filter for it must be exactly that narrow."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from toolkit.dnsview import _dnssec

ROOT = Path(__file__).resolve().parent.parent


def _private_dirs() -> dict[str, str]:
    """The session's private HOME, XDG directories and TMPDIR (tests/_session_env.py), for a
    process started with an environment of its own."""
    names = ("HOME", "TMPDIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    return {n: os.environ[n] for n in names if n in os.environ}


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **_private_dirs(),
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
    # -W error: any warning that reaches the default machinery becomes a failure on stderr
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "toolkit", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--help",), 0),
        (("--version",), 0),
        (("explain", "9104"), 0),
        (("--transport", "fake", "--server", "dns1", "audit"), 1),
    ],
)
def test_commands_write_nothing_to_stderr(args: tuple[str, ...], code: int, tmp_path: Path) -> None:
    r = _run(*args, tmp_path=tmp_path)
    assert r.returncode == code, r.stderr
    assert r.stderr == ""


def test_loading_dnssec_raises_no_warning_even_as_errors() -> None:
    code = "from toolkit.dnsview import _dnssec; m = _dnssec.load(); assert m.key_id"
    r = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env={**_private_dirs(), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert r.returncode == 0 and r.stderr == ""


def _caught(message: str, module: str) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _dnssec.ignore_dsa_warning()
        warnings.warn_explicit(message, UserWarning, filename="x.py", lineno=1, module=module)
    return seen


def test_the_filter_ignores_only_dsa_from_dnspythons_dsa_module() -> None:
    dsa = "DSA is deprecated and support will be removed in a future release."
    assert _caught(dsa, "dns.dnssecalgs.dsa") == []
    # the same text from elsewhere, or another warning from that module, still shows
    assert len(_caught(dsa, "toolkit.dnsview.query")) == 1
    assert len(_caught("RSA is deprecated", "dns.dnssecalgs.dsa")) == 1
