"""CredSSP end to end: the loopback endpoint over HTTPS accepts CredSSP with pyspnego's acceptor
(TLS inside the tokens, NTLM inside that TLS, then the delegated password; MS-CSSP), and the real
psrp and winrm transports authenticate with requests-credssp, as against a Windows server with
``Enable-WSManCredSSP -Role Server``."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from tests.test_log_secrets import leaks
from toolkit.cli import main
from toolkit.remote.kerberos import credssp_missing
from toolkit.testing.fakeserver import FakeWinrmServer

TRANSPORTS = ("psrp", "winrm")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWinrmServer]:
    missing = credssp_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the credssp extra is not installed under CI: {missing}")
        pytest.skip(f"the credssp extra is not installed ({missing}): pip install -e '.[dev,credssp]'")
    with FakeWinrmServer(servers=["dns1"], tls=True, auth_methods=("negotiate", "credssp")) as server:
        yield server


def _argv(fake: FakeWinrmServer, transport: str) -> list[str]:
    assert fake.cert is not None
    port = fake.endpoint("dns1").port
    argv = ["--transport", transport, "--server", "localhost", "--port", str(port)]
    return [
        *argv,
        "--ca-bundle",
        str(fake.cert.cert_file),
        "--auth",
        "credssp",
        "-u",
        fake.credentials.username,
    ]


def _one_line_error(res: Result, code: int = 2) -> str:
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_zones_list_over_credssp(fake: FakeWinrmServer, runner: CliRunner, transport: str) -> None:
    ep = fake.endpoint("dns1")
    ep.stats.reset()
    env = {"WINDNS_PASSWORD": fake.credentials.password}
    res = runner.invoke(main, [*_argv(fake, transport), "zones", "list", "-f", "json"], env=env)
    assert res.exit_code == 0, res.output
    expected = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "zones", "list", "-f", "json"])
    assert sorted(z["zone"] for z in json.loads(res.stdout)) == sorted(
        z["zone"] for z in json.loads(expected.stdout)
    )
    assert set(ep.stats.mechanisms) == {"credssp"} and "Delete" in ep.stats.operations


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_wrong_password_is_one_line_exit_2(
    fake: FakeWinrmServer, runner: CliRunner, transport: str
) -> None:
    ep = fake.endpoint("dns1")
    ep.stats.reset()
    env = {"WINDNS_PASSWORD": "Not-the-password-42"}
    line = _one_line_error(runner.invoke(main, [*_argv(fake, transport), "zones", "list"], env=env))
    assert f"rejected the password of user {fake.credentials.username} (CredSSP" in line
    assert "Not-the-password-42" not in line
    assert not ep.stats.mechanisms and not ep.stats.operations  # never authenticated, nothing ran


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_credssp_token_or_password_in_the_log_at_vv(fake: FakeWinrmServer, transport: str) -> None:
    ep = fake.endpoint("dns1")
    ep.stats.reset()
    env = {**os.environ, "WINDNS_PASSWORD": fake.credentials.password}
    argv = [sys.executable, "-m", "toolkit", "-vv", *_argv(fake, transport), "zones", "list"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "authenticated with credssp" in proc.stderr
    log = proc.stdout + proc.stderr
    tokens = list(ep.stats.auth_tokens)
    assert len(tokens) >= 4  # TLS legs, NTLM legs, public key, credentials: all crossed the wire
    assert not [t for t in tokens if t[:24] in log]
    assert fake.credentials.password not in log
    assert not leaks(log)


@pytest.fixture(autouse=True)
def _gc_each() -> Iterator[None]:
    """Collect after each test, so a socket a failed handshake left open is blamed on that test."""
    yield
    gc.collect()
