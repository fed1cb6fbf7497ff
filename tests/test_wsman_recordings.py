"""Real Windows answers, replayed through the real pypsrp and pywinrm clients.

The response bodies in ``tests/data/wsman-recordings/`` were recorded from Windows hosts (pypsrp's
test suite; README.md there names each source). ``ReplayServer`` serves them to our transports
over HTTP, so what is checked here is what a Windows server's answer becomes for a user: the
typed error, whether a scan retries it, and the Windows text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toolkit.errors import CmdletError, ConnectError, ProtocolError, RemoteError, RemoteTimeout
from toolkit.remote import ConnectionOptions
from toolkit.remote._errors import fault_details
from toolkit.remote.psrp import PsrpRemote
from toolkit.remote.winrm import WinrmRemote
from toolkit.testing.fakeserver.replay import Recorded, ReplayServer, load_recorded

DATA = Path(__file__).parent / "data" / "wsman-recordings"


def rec(name: str, operation: str | None = None) -> Recorded:
    return load_recorded(DATA / f"{name}.xml", operation)


#: recorded answers for what our clients send that a recording may not hold: the clean-up, and
#: the winrm/config Get each connection starts with (a host configured for 150 KB)
FILLERS = {
    "Get": rec("test_wsman_update_envelope_size_150.0"),
    "Signal": rec("test_winrs_stderr_rc.3"),
    "Delete": rec("test_winrs_stderr_rc.4"),
    "Send": rec("test_winrs_send.2"),
}
#: a runspace pool opening, as Windows answered it (Create, then two Receives)
POOL_OPEN = [
    rec("test_psrp_receive_failure.0"),
    rec("test_psrp_receive_failure.1"),
    rec("test_psrp_receive_failure.2"),
]
#: a WinRS cmd shell and one command started
WINRS_START = [rec("test_winrs_stderr_rc.0"), rec("test_winrs_stderr_rc.1")]


def options(replay: ReplayServer, **kw: Any) -> ConnectionOptions:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": replay.port,
        "ssl": False,
        "auth": "basic",
        "allow_basic_over_http": True,
        "username": "vagrant",
        "password": "not-a-secret-123",
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
        "operation_timeout": 5.0,
    }
    base.update(kw)
    return ConnectionOptions(**base)


@pytest.fixture
def replay_of() -> Iterator[Any]:
    servers: list[ReplayServer] = []

    def make(*steps: Recorded) -> ReplayServer:
        server = ReplayServer(steps, FILLERS).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def psrp_error(replay: ReplayServer, script: str = "inventory", **kw: Any) -> RemoteError:
    with PsrpRemote(options(replay, **kw)) as remote, pytest.raises(RemoteError) as info:
        remote.run(script)
    assert "MISMATCH" not in {name for _, name in replay.served}, replay.served
    return info.value


def winrm_error(replay: ReplayServer, script: str = "inventory", **kw: Any) -> RemoteError:
    with WinrmRemote(options(replay, **kw)) as remote, pytest.raises(RemoteError) as info:
        remote.run(script)
    assert "MISMATCH" not in {name for _, name in replay.served}, replay.served
    return info.value


# -- 2150858843: two meanings -----------------------------------------------------------------------
def test_psrp_receive_failure_keeps_command_identifier_does_not_exist(replay_of: Any) -> None:
    replay = replay_of(
        *POOL_OPEN,
        rec("test_psrp_long_running_cmdlet.3"),  # CommandResponse
        rec("test_psrp_receive_failure.3", "Receive"),
    )
    err = psrp_error(replay)
    assert type(err) is ProtocolError and not err.transient
    assert "command identifier that does not exist" in str(err)
    assert "0x8033805B" in str(err) and "shell is gone" not in str(err)
    assert replay.done


def test_winrs_bad_command_id_is_not_a_vanished_shell(replay_of: Any) -> None:
    replay = replay_of(*WINRS_START, rec("test_winrs_bad_cmd_id.2", "Receive"))
    err = winrm_error(replay)
    # pywinrm keeps only the SOAP reason ("invalid selectors"); the Windows text is the fault's message
    assert type(err) is ProtocolError and not err.transient
    assert "command identifier that does not exist" in str(err) and "0x8033805B" in str(err)


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_invalid_selectors_nested_in_a_provider_fault_is_the_shell_gone(
    transport: str, replay_of: Any
) -> None:
    fault = rec("test_psrp_is_alive_invalid_selectors.4", "Receive")
    if transport == "psrp":
        err = psrp_error(replay_of(*POOL_OPEN, rec("test_psrp_long_running_cmdlet.3"), fault))
    else:
        err = winrm_error(replay_of(*WINRS_START, fault))
    assert type(err) is ConnectError and err.transient
    assert "invalid selectors for the resource" in str(err) and "0x8033805B" in str(err)


def test_fault_details_reads_the_innermost_message() -> None:
    nested = fault_details((DATA / "test_psrp_is_alive_invalid_selectors.4.xml").read_bytes())
    assert nested is not None and nested.code == 2150858843 and nested.subcode == "w:InvalidSelectors"
    assert nested.detail is not None and nested.detail.endswith("UnexpectedSelectors")
    plain = fault_details((DATA / "test_winrs_fail_poll_process.1.xml").read_bytes())
    assert plain is not None and (plain.code, plain.text) == (87, "The parameter is incorrect.")
    assert fault_details(b"<not-a-fault/>") is None and fault_details(b"") is None


# -- other faults: the Windows text and the hex code kept ---------------------------------------------
def test_fault_87_on_receive(replay_of: Any) -> None:
    err = winrm_error(replay_of(*WINRS_START, rec("test_winrs_fail_poll_process.1", "Receive")))
    assert type(err) is ProtocolError
    assert "The parameter is incorrect." in str(err) and "WSMan fault 87" in str(err)


def test_file_not_found_on_command(replay_of: Any) -> None:
    err = winrm_error(
        replay_of(rec("test_winrs_no_cmd_shell.0"), rec("test_winrs_no_cmd_shell.1", "Command"))
    )
    assert type(err) is ProtocolError and not err.transient
    assert "The system cannot find the file specified." in str(err) and "0x80070002" in str(err)


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_timed_out_outside_a_receive_keeps_the_windows_text(transport: str, replay_of: Any) -> None:
    fault = rec("test_psrp_long_running_cmdlet.4", "Command")
    if transport == "psrp":
        err = psrp_error(replay_of(*POOL_OPEN, fault))
    else:
        err = winrm_error(replay_of(rec("test_winrs_stderr_rc.0"), fault))
    assert type(err) is RemoteTimeout and err.transient
    assert "cannot complete the operation within the time specified in OperationTimeout" in str(err)
    assert "0x80338029" in str(err)


# -- Receives that only say "still running" -----------------------------------------------------------
def test_winrs_timed_out_receives_are_asked_again_until_done(replay_of: Any) -> None:
    """Partial output with State Running, two TimedOut faults, then the rest and Done: the output
    is whole (not our JSON, so the error says so), nothing was lost between the Receives."""
    replay = replay_of(
        rec("test_winrs_operation_timeout.0"),
        rec("test_winrs_operation_timeout.1"),
        rec("test_winrs_operation_timeout.2"),
        rec("test_winrs_operation_timeout.3", "Receive"),
        rec("test_winrs_operation_timeout.4", "Receive"),
        rec("test_winrs_operation_timeout.5"),
    )
    err = winrm_error(replay)
    assert type(err) is ProtocolError and "not JSON" in str(err)
    assert replay.done and [op for op, _ in replay.served].count("Receive") == 4


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_a_command_that_never_finishes_ends_at_the_command_timeout(transport: str, replay_of: Any) -> None:
    timed_out = rec("test_psrp_long_running_cmdlet.5", "Receive")
    if transport == "psrp":
        replay = replay_of(*POOL_OPEN, rec("test_psrp_long_running_cmdlet.3"), *[timed_out] * 2000)
        err = psrp_error(replay, command_timeout=0.5)
    else:
        replay = replay_of(*WINRS_START, *[timed_out] * 2000)
        err = winrm_error(replay, command_timeout=0.5)
    assert type(err) is RemoteTimeout
    assert "script inventory" in str(err) and "command timeout of 0.5 s" in str(err)
    assert "Signal" in [op for op, _ in replay.served]  # the command was told to stop
    assert not replay.done  # it stopped asking long before the recording ran out


# -- what WinRS and PSRP put beside the answer --------------------------------------------------------
def test_winrs_plain_stderr_with_exit_1_is_not_a_cmdlet_error(replay_of: Any) -> None:
    replay = replay_of(*WINRS_START, rec("test_winrs_stderr_rc.2"))
    err = winrm_error(replay)
    assert not isinstance(err, CmdletError)
    assert type(err) is ProtocolError and "exit code 1" in str(err) and "err" in str(err)


def test_psrp_error_record_beside_the_output_is_not_dropped(
    replay_of: Any, caplog: pytest.LogCaptureFixture
) -> None:
    replay = replay_of(*[rec(f"test_psrp_stream_output_invocation.{i}") for i in range(5)])
    with caplog.at_level(logging.WARNING, logger="windns.remote.psrp"):
        err = psrp_error(replay)
    assert "not JSON" in str(err)  # the output was "output stream"
    assert any("error stream" in r.getMessage() for r in caplog.records)


def test_psrp_pool_opening_over_three_receives(replay_of: Any) -> None:
    replay = replay_of(
        *[rec(f"test_psrp_with_jea_configuration.{i}") for i in range(4)],
        rec("test_psrp_with_jea_configuration.6"),
        rec("test_psrp_with_jea_configuration.7"),
    )
    err = psrp_error(replay, configuration_name="JEARole")
    served = [op for op, _ in replay.served]
    assert replay.done and served[:5] == ["Get", "Create", "Receive", "Receive", "Receive"]
    # the refusal itself: see test_jea.py; here only that it is not a DnsServer cmdlet failure
    assert not isinstance(err, CmdletError)
    assert "JEA" in str(err) and "ScriptsNotAllowed" in str(err)
