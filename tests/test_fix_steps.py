"""A fix is every step its change needs, in order: NSEC3 settings, then a re-sign with the zone's
own keys; applying stops at the first failure, checks the result over DNS where it can, and
hands over the DS records of a KSK it added."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.bind_fixtures import require_bind
from toolkit.cli import main
from toolkit.errors import CmdletError
from toolkit.policy import load_policy
from toolkit.remote.base import RemoteResult
from toolkit.services.admin import Options
from toolkit.services.audit import DnsViewOptions, audit_server
from toolkit.services.fix import FixItem, Plan, apply_plan, plan_server, result_lines
from toolkit.testing.bind import BindServer, KeySpec, ZoneSpec
from toolkit.testing.fake_remote import Call, FakeRemote
from toolkit.testing.simulator import Fleet

NSEC3 = "nsec3.corp.example"
RSA = (KeySpec("RSASHA256", 2048, ksk=True), KeySpec("RSASHA256", 1024))


def _plan(fleet: Fleet, host: str = "dns1", profile: str = "rfc") -> tuple[FakeRemote, Plan]:
    policy = load_policy(None, profile)
    remote = FakeRemote(fleet.get(host))
    return remote, plan_server(audit_server(remote, policy), policy)


def _item(plan: Plan, zone: str, script: str) -> FixItem:
    return next(i for i in plan.fixes if (i.change.zone, i.change.script) == (zone, script))


def test_an_nsec3_fix_is_the_setting_then_a_resign_that_keeps_the_keys(fleet: Fleet) -> None:
    _, plan = _plan(fleet)
    item = _item(plan, NSEC3, "zone_dnssec_set")
    assert [s.script for s in item.steps] == ["zone_dnssec_set", "zone_sign"]
    resign = item.steps[1]
    # -DoResign alone re-signs with the zone's keys; with -SignWithDefault it would drop them
    assert resign.params == {"ZoneName": NSEC3, "DoResign": True}
    assert "SignWithDefault" not in resign.command_line() and "-DoResign" in resign.command_line()
    assert "re-sign" in item.reason and "-SignWithDefault" in item.reason
    # a change that needs no re-sign stays one step
    assert _item(plan, "legacy.corp.example", "zone_dnssec_set").steps == (
        _item(plan, "legacy.corp.example", "zone_dnssec_set").change,
    )


def test_the_plan_prints_every_step(runner: CliRunner, demo_dir: Path) -> None:
    res = runner.invoke(main, ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns1", "fix"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if f"{NSEC3}: NSEC3" in line)
    assert lines[at + 1].strip().startswith(f"Set-DnsServerDnsSecZoneSetting -ZoneName '{NSEC3}'")
    assert lines[at + 2].strip() == f"then Invoke-DnsServerZoneSign -ZoneName '{NSEC3}' -DoResign"


def test_applying_runs_the_steps_in_order(fleet: Fleet) -> None:
    remote, plan = _plan(fleet)
    result = apply_plan(remote, plan, Options(assume_yes=True), load_policy(None, "rfc"))
    assert result.failures == () and result.not_done == ()
    sent = [
        (c.script, c.params.get("ZoneName")) for c in remote.write_calls if c.script != "zone_export_keys"
    ]
    at = sent.index(("zone_dnssec_set", NSEC3))
    assert sent[at + 1] == ("zone_sign", NSEC3)
    assert sent == [(s.script, s.zone) for item in plan.fixes for s in item.steps]


class FailingResign(FakeRemote):
    """The simulated server, except that re-signing fails as Windows would fail it."""

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        if script == "zone_sign":
            self.calls.append(Call(script, dict(params or {})))
            raise CmdletError("The zone could not be signed.", code=9104, cmdlet="Invoke-DnsServerZoneSign")
        return super().run(script, params)


def test_applying_stops_at_the_first_failure_and_says_what_was_done(fleet: Fleet) -> None:
    policy = load_policy(None, "rfc")
    remote = FailingResign(fleet.get("dns1"))
    plan = plan_server(audit_server(remote, policy), policy)
    steps = [s for item in plan.fixes for s in item.steps]
    failing = next(i for i, s in enumerate(steps) if s.script == "zone_sign")
    result = apply_plan(remote, plan, Options(assume_yes=True), policy)
    assert [o.change for o in result.outcomes] == steps[:failing]
    (failure,) = result.failures
    assert failure.startswith(f"zone sign on {NSEC3}:") and "9104" in failure
    assert list(result.not_done) == [f"{s.action} on {s.zone}" for s in steps[failing + 1 :]]
    text = "\n".join(result_lines(result))
    assert f"applied {failing} of {len(steps)} step(s)" in text
    assert f"done     zone dnssec set on {NSEC3}" in text
    assert f"failed   zone sign on {NSEC3}" in text
    for s in steps[failing + 1 :]:
        assert f"not done {s.action} on {s.zone}" in text
    writes = [c.script for c in remote.write_calls if c.script != "zone_export_keys"]
    assert writes == [s.script for s in steps[: failing + 1]]  # nothing after the failure was sent


# -- checking the result over DNS ----------------------------------------------------------------
@pytest.fixture(scope="module")
def resigned_bind() -> Iterator[BindServer]:
    """nsec3.corp.example as Windows serves it once re-signed: NSEC3, 0 iterations, no salt."""
    require_bind()
    with BindServer([ZoneSpec(NSEC3, RSA, nsec3=(0, ""))], lifetime=600) as server:
        yield server


def _fix_apply(runner: CliRunner, demo_dir: Path, *extra: str) -> Any:
    return runner.invoke(
        main,
        [
            "--transport",
            "fake",
            "--fixtures",
            str(demo_dir),
            "--server",
            "dns1",
            "fix",
            "--apply",
            "--yes",
            *extra,
        ],
    )


def test_apply_verifies_the_served_nsec3param(
    runner: CliRunner, demo_dir: Path, resigned_bind: BindServer
) -> None:
    res = _fix_apply(runner, demo_dir, "--dns-server", resigned_bind.address)
    assert res.exit_code == 0, res.output
    assert f"verified NSEC3PARAM of {NSEC3} at {resigned_bind.address}: 0 iterations, no salt" in res.stdout


def test_apply_reports_a_zone_still_serving_the_old_nsec3_chain(
    runner: CliRunner, demo_dir: Path, demo_bind: tuple[BindServer, Any]
) -> None:
    server, _ = demo_bind  # serves nsec3.corp.example as it was: 50 iterations and a salt
    res = _fix_apply(runner, demo_dir, "--dns-server", server.address)
    assert res.exit_code == 1, res.output
    assert f"unverified NSEC3PARAM of {NSEC3} at {server.address}: serves 50 iterations" in res.stdout


def test_apply_says_when_the_dns_check_is_skipped(runner: CliRunner, demo_dir: Path) -> None:
    res = _fix_apply(runner, demo_dir)
    assert res.exit_code == 0, res.output
    assert f"skipped  DNS check of {NSEC3}: no DNS server given (--dns or --dns-server)" in res.stdout


def test_apply_says_why_the_server_itself_could_not_be_asked(runner: CliRunner, demo_dir: Path) -> None:
    res = _fix_apply(runner, demo_dir, "--dns", "--dns-timeout", "0.2")  # a simulated server has no address
    assert res.exit_code == 0, res.output
    (line,) = [line for line in res.stdout.splitlines() if f"DNS check of {NSEC3}" in line]
    assert line.startswith(f"  skipped  DNS check of {NSEC3}: ")
    assert "cannot resolve" in line or "gave no answer" in line  # as the resolver in use answers


def test_library_verification_uses_the_dns_options(fleet: Fleet, resigned_bind: BindServer) -> None:
    remote, plan = _plan(fleet)
    result = apply_plan(
        remote,
        plan,
        Options(assume_yes=True),
        load_policy(None, "rfc"),
        dns=DnsViewOptions(server=resigned_bind.address),
    )
    (check,) = [v for v in result.verifications if v.zone == NSEC3]
    assert check.ok is True and check.server == resigned_bind.address


# -- a new KSK needs its DS at the parent --------------------------------------------------------
def test_a_fix_that_adds_a_ksk_prints_the_ds_for_the_parent(runner: CliRunner, demo_dir: Path) -> None:
    res = _fix_apply(runner, demo_dir)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "DS records for the parent of noksk.corp.example" in line)
    assert lines[at + 1].strip().startswith("noksk.corp.example. 3600 IN DS ")
    rest = " ".join(lines[at + 2 : at + 5])
    assert "parent zone's administrator" in rest and "windns dns check noksk.corp.example" in rest
    assert "windns zone export-keys noksk.corp.example --ds" in rest


def test_the_fix_options_are_documented(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(main, ["fix", "--help"]).output.split())
    assert "--dns-server ADDR[:PORT]" in text and "--dns " in text and "NSEC3PARAM" in text
    assert "re-sign" in text
