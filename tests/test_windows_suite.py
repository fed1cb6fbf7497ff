"""The real-Windows suite (tests/windows/) where there is no Windows: every test in it is skipped
with its reason, its variables are read strictly, its zone lock holds, its write cycle runs step
by step against the simulator and its state checks hold on the demo zones they are modelled on,
so the steps and checks themselves are known to work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.windows.cycle import write_cycle
from tests.windows.states import DEMO_STATES, audit_zone, check_state
from tests.windows.target import (
    DEMO_KINDS,
    SKIP_NO_HOST,
    LockedRemote,
    RefusedWrite,
    TargetError,
    from_env,
    lock_cli,
)
from toolkit.cli import main
from toolkit.model import Zone
from toolkit.remote import ConnectionOptions, connect
from toolkit.services.audit import collect
from toolkit.testing.fake_remote import FakeRemote, load_fleet

ROOT = Path(__file__).resolve().parent.parent
CYCLE_ZONE = "cycle.windns.test"


def test_without_a_server_every_windows_test_is_skipped_with_the_reason() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDNS_TEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "windows", "tests/windows", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    summary = out.strip().splitlines()[-1]
    skipped = re.search(r"(\d+) skipped", summary)
    assert skipped and int(skipped.group(1)) >= 10, summary
    # none ran, none failed, and none was left out by -m windows: every test there is marked
    assert not re.search(r"passed|failed|error|deselected", summary), summary
    # -rs lists every skip as "SKIPPED [count] file:line: reason": all of them for this reason
    reasons = re.findall(r"^SKIPPED \[(\d+)\] tests/windows/\S+: (.*)$", out, flags=re.M)
    assert sum(int(n) for n, _ in reasons) == int(skipped.group(1)), out
    assert {reason for _, reason in reasons} == {SKIP_NO_HOST}


def test_variables_name_the_server_and_keep_the_password_out_of_arguments() -> None:
    target = from_env(
        {
            "WINDNS_TEST_HOST": "dns1.example.net",
            "WINDNS_TEST_USERNAME": "dnsaudit",
            "WINDNS_TEST_PASSWORD": "s3cret-pw",
            "WINDNS_TEST_AUTH": "ntlm",
            "WINDNS_TEST_SSL": "0",
            "WINDNS_TEST_PORT": "5985",
            "WINDNS_TEST_ZONE": "cycle.windns.test",
            "WINDNS_TEST_WRITES": "1",
            "WINDNS_TEST_DEMO_ZONES": "rsa=rsa.windns.test, ksk-only=kskonly.windns.test",
        }
    )
    assert target is not None
    assert target.transports == ("psrp", "winrm")
    opts = target.options()
    assert (opts.host, opts.port, opts.ssl, opts.auth, opts.username) == (
        "dns1.example.net",
        5985,
        False,
        "ntlm",
        "dnsaudit",
    )
    assert target.may_write and target.demo_zones == {
        "rsa": "rsa.windns.test",
        "ksk-only": "kskonly.windns.test",
    }
    args = target.cli_args("winrm")
    assert "s3cret-pw" not in " ".join(args) and "s3cret-pw" not in repr(target)
    assert args[:4] == ["--server", "dns1.example.net", "--transport", "winrm"] and "--no-ssl" in args
    assert target.cli_env() == {"WINDNS_PASSWORD": "s3cret-pw"}
    assert from_env({}) is None
    assert from_env({"WINDNS_TEST_HOST": "h", "WINDNS_TEST_TRANSPORT": "winrm"}).transports == ("winrm",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "env",
    [
        {"WINDNS_TEST_TRANSPORT": "fake"},
        {"WINDNS_TEST_AUTH": "certificate"},
        {"WINDNS_TEST_SSL": "maybe"},
        {"WINDNS_TEST_PORT": "http"},
        {"WINDNS_TEST_WRITES": "1"},  # without a zone to write to
        {"WINDNS_TEST_ZONE": "com"},  # one label
        {"WINDNS_TEST_ZONE": "10.in-addr.arpa"},
        {"WINDNS_TEST_DEMO_ZONES": "weird=z.test"},
        {"WINDNS_TEST_AUTH": "basic", "WINDNS_TEST_SSL": "0"},  # refused by ConnectionOptions
    ],
    ids=lambda env: ",".join(f"{k[12:]}={v}" for k, v in env.items()),
)
def test_a_bad_variable_is_an_error_not_a_skip(env: dict[str, str]) -> None:
    with pytest.raises(TargetError):
        from_env({"WINDNS_TEST_HOST": "dns1.example.net", **env})


# -- the lock and the cycle, against the simulator ----------------------------------------------------
@pytest.fixture
def lab(demo_dir: Path) -> Path:
    """The demo fleet with one more zone on DNS4: file-backed, unsigned, without keys."""
    path = demo_dir / "dns4.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["Zones"].append(
        {
            "ZoneName": CYCLE_ZONE,
            "ZoneType": "Primary",
            "IsSigned": False,
            "IsDsIntegrated": False,
            "IsReverseLookupZone": False,
            "IsAutoCreated": False,
            "DnsSecSetting": None,
            "SigningKeys": [],
            "Illustrates": "The throw-away zone of the real-Windows write cycle.",
        }
    )
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return demo_dir


def test_the_lock_sends_reads_anywhere_and_changes_only_to_the_throwaway_zone(lab: Path) -> None:
    fake = FakeRemote(load_fleet(lab).get("dns4"))
    locked = LockedRemote(fake, CYCLE_ZONE)
    with pytest.raises(RefusedWrite, match="branch.example"):
        locked.run("zone_unsign", {"ZoneName": "branch.example"})
    with pytest.raises(RefusedWrite):
        locked.run("key_add", {"KeyType": "ZoneSigningKey"})  # no zone named: refused too
    assert fake.calls == []
    locked.run("inventory", {"ZoneName": ["branch.example"]})
    locked.run("zone_sign", {"ZoneName": CYCLE_ZONE.upper() + ".", "SignWithDefault": True})
    assert [c.script for c in fake.calls] == ["inventory", "zone_sign"]
    assert [script for script, _ in locked.refused] == ["zone_unsign", "key_add"]


def test_write_cycle_steps_hold_against_the_simulator(
    lab: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = lock_cli(monkeypatch, CYCLE_ZONE)

    def cli(*args: str) -> Result:
        return runner.invoke(main, ["--transport", "fake", "--fixtures", str(lab), "--server", "dns4", *args])

    def read() -> Zone:
        zone = collect(FakeRemote(load_fleet(lab).get("dns4")), [CYCLE_ZONE]).zone(CYCLE_ZONE)
        assert zone is not None
        return zone

    write_cycle(cli, read, CYCLE_ZONE)
    assert opened and all(remote.refused == [] for remote in opened)
    other = collect(FakeRemote(load_fleet(lab).get("dns4")), ["branch.example"]).zone("branch.example")
    assert other is not None and other.signed and len(other.keys) == 2


@pytest.mark.parametrize("kind", DEMO_KINDS)
def test_each_state_checked_on_windows_is_the_state_of_its_demo_zone(kind: str) -> None:
    """The states test asks of Windows what the demo fleet shows: its checks hold on the demo zone."""
    assert set(DEMO_STATES) == set(DEMO_KINDS)
    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        zone, findings = audit_zone(remote, DEMO_STATES[kind])
    check_state(kind, zone, findings)
