"""The guard asks the parent before a change retires a KSK: DS at the parent vs the KSK's DNSKEY.

Against real BIND servers: the demo's (rollover.corp.example's parent still holds the DS of the old
KSK) and one whose parent zones hold the DS of the simulated servers' own KSKs, as exported.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.bind_fixtures import require_bind
from toolkit.audit_log import AuditLog
from toolkit.cli import main
from toolkit.findings import EXIT_REFUSED
from toolkit.resources import demo_fixtures_dir
from toolkit.testing.bind import BindServer, KeySpec, ZoneSpec
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

ROLLOVER = "rollover.corp.example"
ECDSA = (KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256"))


def _ds_lines(host: str, zone: str) -> tuple[str, ...]:
    """The DS records the simulated server exports for ``zone`` (what its admin hands the parent)."""
    remote = FakeRemote(Fleet.load(demo_fixtures_dir()).get(host))
    text = str(remote.run("zone_export_keys", {"ZoneName": zone, "DigestType": ["Sha256"]}).data["File"])
    return tuple(line for line in text.splitlines() if " IN DS " in line)


@pytest.fixture(scope="module")
def parent_bind() -> Iterator[BindServer]:
    """example. and corp.example. holding the DS records the simulated servers export for
    corp.example (dns1) and rollover.corp.example (dns2, whose KSK waits for its DS update)."""
    require_bind()
    delegation = (
        f"{ROLLOVER}. 3600 IN NS ns.{ROLLOVER}.",
        f"ns.{ROLLOVER}. 3600 IN A 127.0.0.1",
    )
    specs = [
        ZoneSpec("example", ECDSA, records=_ds_lines("dns1", "corp.example")),
        ZoneSpec("corp.example", ECDSA, records=delegation + _ds_lines("dns2", ROLLOVER)),
    ]
    with BindServer(specs, lifetime=600) as server:
        yield server


def closed_port() -> str:
    """A loopback UDP port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"127.0.0.1:{port}"


def _state(demo_dir: Path, host: str, zone: str) -> dict[str, Any]:
    z = Fleet.load(demo_dir).get(host).find_zone(zone)
    assert z is not None
    return z


def _ksk(demo_dir: Path, host: str, zone: str) -> dict[str, Any]:
    return next(k for k in _state(demo_dir, host, zone)["SigningKeys"] if k["KeyType"] == "KeySigningKey")


def _zsk(demo_dir: Path, host: str, zone: str) -> dict[str, Any]:
    return next(k for k in _state(demo_dir, host, zone)["SigningKeys"] if k["KeyType"] == "ZoneSigningKey")


def _run(runner: CliRunner, demo_dir: Path, host: str, *args: str) -> Result:
    return runner.invoke(main, ["--transport", "fake", "--fixtures", str(demo_dir), "--server", host, *args])


def _step(runner: CliRunner, demo_dir: Path, *extra: str) -> Result:
    key = str(_ksk(demo_dir, "dns2", ROLLOVER)["KeyId"])
    return _run(runner, demo_dir, "dns2", "keys", "rollover", "step", "--zone", ROLLOVER, key, *extra)


def _one_error_line(res: Result) -> str:
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [line for line in res.stderr.splitlines() if line.startswith("windns: error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


# -- step: the parent must publish the new KSK's DS ----------------------------------------------
def test_step_is_refused_while_the_parent_ds_points_at_the_old_ksk(
    runner: CliRunner, demo_dir: Path, demo_bind: tuple[BindServer, Any]
) -> None:
    server, _ = demo_bind
    before = (demo_dir / "dns2.json").read_bytes()
    res = _step(runner, demo_dir, "--ds-from", server.address)
    assert res.exit_code == EXIT_REFUSED, res.output
    line = _one_error_line(res)
    assert "no DS" in line and "new KSK" in line and server.address in line
    assert "--ds-confirmed" in line and "Nothing was sent" in line
    assert (demo_dir / "dns2.json").read_bytes() == before
    assert _ksk(demo_dir, "dns2", ROLLOVER)["CurrentRolloverStatus"] == "KskWaitingForDSUpdate"


def test_a_dry_run_step_asks_the_parent_too(
    runner: CliRunner, demo_dir: Path, demo_bind: tuple[BindServer, Any]
) -> None:
    server, _ = demo_bind
    res = _step(runner, demo_dir, "--ds-from", server.address, "--dry-run")
    assert res.exit_code == EXIT_REFUSED, res.output
    assert "no DS" in _one_error_line(res)


def test_step_goes_ahead_once_the_parent_publishes_the_new_ksks_ds(
    runner: CliRunner, demo_dir: Path, parent_bind: BindServer
) -> None:
    res = _step(runner, demo_dir, "--ds-from", parent_bind.address)
    assert res.exit_code == 0, res.output
    assert "the parent publishes a DS" in res.output and parent_bind.address in res.output
    assert _ksk(demo_dir, "dns2", ROLLOVER)["CurrentRolloverStatus"] == "NotRolling"


def test_step_is_refused_when_dns_cannot_be_asked(runner: CliRunner, demo_dir: Path) -> None:
    where = closed_port()
    before = (demo_dir / "dns2.json").read_bytes()
    res = _step(runner, demo_dir, "--ds-from", where, "--dns-timeout", "0.2")
    assert res.exit_code == EXIT_REFUSED, res.output
    line = _one_error_line(res)
    assert "could not ask" in line and where in line
    assert "--ds-confirmed" in line and "--ds-from" in line
    assert (demo_dir / "dns2.json").read_bytes() == before


def test_step_without_a_dns_option_asks_the_server_itself(runner: CliRunner, demo_dir: Path) -> None:
    # a simulated server has no address: the question cannot be asked, and the refusal says how
    res = _step(runner, demo_dir, "--dns-timeout", "0.2")
    assert res.exit_code == EXIT_REFUSED, res.output
    line = _one_error_line(res)
    assert "could not ask" in line and "--ds-from" in line and "--ds-confirmed" in line


def test_ds_confirmed_skips_the_question_says_so_and_is_logged(
    runner: CliRunner, demo_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "audit.log"
    res = _step(runner, demo_dir, "--ds-from", closed_port(), "--ds-confirmed", "--audit-log", str(log))
    assert res.exit_code == 0, res.output
    assert "--ds-confirmed" in res.stderr and "not checked" in res.stderr
    assert _ksk(demo_dir, "dns2", ROLLOVER)["CurrentRolloverStatus"] == "NotRolling"
    (entry,) = AuditLog(log).entries()
    assert entry["result"] == "done" and entry["ds_confirmed"] is True


def test_a_bad_ds_from_address_is_a_one_line_error(runner: CliRunner, demo_dir: Path) -> None:
    res = _step(runner, demo_dir, "--ds-from", "127.0.0.1:99999")
    assert res.exit_code not in (0, EXIT_REFUSED)
    assert "port" in _one_error_line(res)


# -- retiring or rolling the KSK the parent's DS points at ---------------------------------------
@pytest.mark.parametrize(
    "action",
    [("keys", "set", "--next-action", "retire"), ("keys", "rollover", "now")],
    ids=["retire", "rollover-now"],
)
def test_retiring_the_only_ksk_with_a_ds_is_refused(
    runner: CliRunner, demo_dir: Path, parent_bind: BindServer, action: tuple[str, ...]
) -> None:
    key = str(_ksk(demo_dir, "dns1", "corp.example")["KeyId"])
    before = (demo_dir / "dns1.json").read_bytes()
    res = _run(
        runner, demo_dir, "dns1", *action, "--zone", "corp.example", key, "--ds-from", parent_bind.address
    )
    assert res.exit_code == EXIT_REFUSED, res.output
    line = _one_error_line(res)
    assert "only KSK" in line and "--ds-confirmed" in line
    assert (demo_dir / "dns1.json").read_bytes() == before
    res = _run(runner, demo_dir, "dns1", *action, "--zone", "corp.example", key, "--ds-confirmed")
    assert res.exit_code == 0, res.output


def test_zsk_changes_do_not_ask_the_parent(runner: CliRunner, demo_dir: Path) -> None:
    zsk = str(_zsk(demo_dir, "dns1", "corp.example")["KeyId"])
    nowhere = ("--ds-from", closed_port(), "--dns-timeout", "0.2")
    res = _run(
        runner,
        demo_dir,
        "dns1",
        "keys",
        "set",
        "--zone",
        "corp.example",
        zsk,
        "--next-action",
        "retire",
        *nowhere,
    )
    assert res.exit_code == 0, res.output
    res = _run(runner, demo_dir, "dns1", "keys", "rollover", "now", "--zone", "corp.example", zsk, *nowhere)
    assert res.exit_code == 0, res.output


def test_the_options_are_documented_in_help(runner: CliRunner) -> None:
    for command in (
        ["keys", "rollover", "step"],
        ["keys", "rollover", "now"],
        ["keys", "set"],
        ["keys", "remove"],
    ):
        res = runner.invoke(main, [*command, "--help"])
        assert res.exit_code == 0, res.output
        text = " ".join(res.output.split())
        assert "--ds-confirmed" in text and "--ds-from ADDR[:PORT]" in text and "--dns-timeout" in text
        assert "parent" in text


# -- the decision itself, on synthetic keys ------------------------------------------------------
def _library_step(fleet: Fleet, ds_from: str) -> str:
    from toolkit.errors import GuardError
    from toolkit.services import admin
    from toolkit.services.audit import DnsViewOptions

    remote = FakeRemote(fleet.get("dns2"))
    zone = fleet.get("dns2").find_zone(ROLLOVER)
    assert zone is not None
    key = next(k for k in zone["SigningKeys"] if k["KeyType"] == "KeySigningKey")["KeyId"]
    opts = admin.Options(dns=DnsViewOptions(ds_from=ds_from))
    with pytest.raises(GuardError) as refused:
        admin.rollover(remote, ROLLOVER, key, "step", options=opts)
    assert refused.value.code is None
    assert {c.script for c in remote.calls} == {"inventory", "zone_export_keys"}  # reads only
    return str(refused.value)


def test_library_callers_get_the_same_refusal(fleet: Fleet, demo_bind: tuple[BindServer, Any]) -> None:
    server, _ = demo_bind
    message = _library_step(fleet, server.address)
    assert "no DS" in message and ROLLOVER in message
