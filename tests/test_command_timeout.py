"""Every wait ends: a script that never finishes on the server ends the command at
``--command-timeout`` (both transports), the command on the server is signalled to stop, and the
error names the script and how long it ran."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from toolkit.errors import ConfigError, RemoteTimeout
from toolkit.fleet import load_inventory
from toolkit.remote import ConnectionOptions
from toolkit.remote.psrp import PsrpRemote
from toolkit.remote.winrm import WinrmRemote
from toolkit.testing.fakeserver import FakeWinrmServer, Fault

HOST = "dns2.corp.example"


@pytest.fixture
def stalled() -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(servers=["dns2"], receive_wait=0.5) as fake:
        fake.endpoint(HOST).set_faults([Fault("stall")])
        yield fake


@pytest.mark.parametrize("transport", [PsrpRemote, WinrmRemote])
def test_a_stalled_script_raises_remote_timeout_and_is_signalled(
    stalled: FakeWinrmServer, transport: type[PsrpRemote] | type[WinrmRemote]
) -> None:
    opts = stalled.connection_options(HOST, command_timeout=1.5)
    ep = stalled.endpoint(HOST)
    with transport(opts) as remote, pytest.raises(RemoteTimeout) as info:
        remote.run("inventory")
    text = str(info.value)
    assert "script inventory" in text and "command timeout of 1.5 s" in text and "it ran " in text
    assert ep.stats.operations["Receive"] >= 2  # it did wait through "still running" answers
    assert ep.stats.operations["Signal"] >= 1  # and told the command to stop


def test_the_loopback_endpoint_answers_a_running_command_as_windows_does(stalled: FakeWinrmServer) -> None:
    """While the script runs, a Receive gets OperationTimeout with Windows's code and subcode."""
    from toolkit.remote._errors import fault_details
    from toolkit.testing.fakeserver import wsman

    body = wsman.fault_envelope(wsman.OPERATION_TIMEOUT_CODE, "The WS-Management service cannot complete")
    details = fault_details(body)
    assert details is not None and (details.code, details.subcode) == (2150858793, "w:TimedOut")


def test_windns_audit_ends_within_the_command_timeout() -> None:
    """The acceptance check: `windns audit` against an endpoint whose script never finishes exits
    with one line naming the script and the timeout (the subprocess bound is only a safety net)."""
    with FakeWinrmServer(servers=["dns2"], receive_wait=0.5) as fake:
        fake.endpoint(HOST).set_faults([Fault("stall")])
        opts = fake.connection_options(HOST)
        argv = ["--server", "127.0.0.1", "--port", str(opts.port), "--no-ssl", "--auth", "ntlm"]
        argv += ["--username", str(opts.username), "--command-timeout", "2", "audit"]
        env = {**os.environ, "WINDNS_PASSWORD": str(opts.password)}
        res = subprocess.run(
            [sys.executable, "-m", "toolkit", *argv], capture_output=True, text=True, env=env, timeout=120
        )
        signals = fake.endpoint(HOST).stats.operations["Signal"]
    out = res.stdout + res.stderr  # the report names the host that could not be audited, and why
    assert res.returncode == 2, out
    assert "Traceback" not in out and str(opts.password) not in out
    assert "script inventory did not finish within the command timeout of 2 s" in out
    assert signals >= 1


def test_command_timeout_in_the_inventory_and_its_bounds(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "fleet.toml"
    path.write_text(
        '[defaults]\ncommand-timeout = 90\n[[servers]]\nname = "a"\n'
        '[[servers]]\nname = "b"\ntimeouts = { command = 20 }\n',
        encoding="utf-8",
    )
    a, b = load_inventory(path).hosts
    assert a.connection_options().command_timeout == 90
    assert b.connection_options().command_timeout == 20
    assert b.connection_options(host_timeout=5).command_timeout == 5  # a scan's host deadline caps it
    assert ConnectionOptions(host="x").command_timeout == 300
    with pytest.raises(ConfigError, match="command timeout"):
        ConnectionOptions(host="x", command_timeout=0)
