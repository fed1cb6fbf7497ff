"""Remediation plans: candidates kept only when they clear findings; apply, re-audit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.audit_log import AuditLog
from toolkit.cli import main
from toolkit.findings import EXIT_INCOMPLETE, EXIT_REFUSED, Finding, Severity, Target
from toolkit.model import DenialOfExistence, ServerInventory
from toolkit.services.audit import collect
from toolkit.services.fix import finding_key, plan_fixes
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet


def mini_rules(inv: ServerInventory) -> list[Finding]:
    """A small stand-in rule set, so the planner is tested independently of the real rules."""
    out: list[Finding] = []
    for z in inv.zones:
        t = Target(inv.server.name, z.name)
        if z.keys and (not z.ksks or not z.zsks):
            out.append(Finding("T-9104", Severity.CRITICAL, t, "missing KSK or ZSK"))
        if z.signed and any(not k.rollover_enabled for k in z.keys):
            out.append(Finding("T-ROLL", Severity.MEDIUM, t, "rollover disabled"))
        s = z.dnssec
        if s and s.denial_of_existence is DenialOfExistence.NSEC3 and (s.nsec3_iterations or s.salt_in_use):
            out.append(Finding("T-NSEC3", Severity.LOW, t, "NSEC3 iterations or salt"))
        if z.signed and any(k.algorithm.is_sha1 for k in z.keys):
            out.append(Finding("T-SHA1", Severity.HIGH, t, "SHA-1 algorithm"))  # no safe fix exists
    return out


def _plan(fleet: Fleet, host: str):  # type: ignore[no-untyped-def]
    inv = collect(FakeRemote(fleet.get(host)))
    return inv, plan_fixes(inv, mini_rules(inv), mini_rules)


def test_plan_claims_only_what_it_fixes(fleet: Fleet) -> None:
    inv, plan = _plan(fleet, "dns1")
    by_zone = {(i.change.zone, i.change.script): i for i in plan.fixes}
    add_zsk = by_zone[("nozsk.corp.example", "key_add")]
    assert add_zsk.change.params["KeyType"] == "ZoneSigningKey"
    assert (
        add_zsk.change.params["CryptoAlgorithm"] == "RsaSha256" and add_zsk.change.params["KeyLength"] == 1024
    )
    assert by_zone[("noksk.corp.example", "key_add")].change.params["KeyLength"] == 2048
    assert by_zone[("staging.corp.example", "key_add")].change.params["KeyType"] == "ZoneSigningKey"
    nsec3 = by_zone[("nsec3.corp.example", "zone_dnssec_set")]
    assert nsec3.change.params == {
        "ZoneName": "nsec3.corp.example",
        "NSec3Iterations": 0,
        "NSec3UserSalt": "-",  # no salt, as the reference says (a random salt is 1-255 bytes)
    }
    assert [f.rule_id for f in nsec3.claims] == ["T-NSEC3"]
    # the stand-in rules say nothing about DS digests: no DS change is proposed
    assert all(i.change.params.get("DSRecordGenerationAlgorithm") is None for i in plan.fixes)
    assert [(m.finding.rule_id, m.finding.target.zone) for m in plan.manual] == [
        ("T-SHA1", "legacy.corp.example")
    ]


def test_plan_skips_zones_the_guard_would_refuse(fleet: Fleet) -> None:
    _, plan = _plan(fleet, "dns2")
    assert all(i.change.zone != "branch.corp.example" for i in plan.fixes)  # key master is DNS9


def test_applying_the_plan_clears_every_claim(fleet: Fleet) -> None:
    from toolkit.services.admin import Options, apply_change

    for host in ("dns1", "dns4"):
        remote = FakeRemote(fleet.get(host))
        inv, plan = _plan(fleet, host)
        assert plan.fixes
        for item in plan.fixes:
            apply_change(remote, item.change, Options(assume_yes=True))
        after = {finding_key(f) for f in mini_rules(collect(remote))}
        assert plan.claimed and not (plan.claimed & after)
        assert {finding_key(m.finding) for m in plan.manual} <= after


def test_fix_cli_plan_then_apply_on_demo_fleet(runner: CliRunner, demo_dir: object) -> None:
    base = ["--transport", "fake", "--fixtures", str(demo_dir)]
    res = runner.invoke(main, [*base, "fix"])
    assert res.exit_code == EXIT_INCOMPLETE, res.output  # DNS3 cannot be audited (access denied)
    (line,) = res.stderr.strip().splitlines()
    assert (
        line.startswith("windns: error: DNS3.corp.example could not be audited: ") and "(5, 0x0005)" in line
    )
    assert "Safe fixes:" in res.stdout and "Needs a person:" in res.stdout
    assert "Add-DnsServerSigningKey -ZoneName 'nozsk.corp.example'" in res.stdout
    assert "DNS4.branch.example:" in res.stdout  # the hosts after DNS3 are still planned
    res = runner.invoke(main, [*base, "fix", "--apply"])
    assert res.exit_code == EXIT_REFUSED and "--yes" in res.output
    res = runner.invoke(main, [*base, "fix", "--apply", "--yes"])
    assert res.exit_code == EXIT_INCOMPLETE, res.output
    assert "fixed" in res.stdout and " open " not in res.stdout
    assert "DNS4.branch.example: applied" in res.stdout


def test_fix_goes_on_when_a_host_cannot_be_reached(
    runner: CliRunner, demo_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.cli.app import AppContext
    from toolkit.errors import ConnectError

    real = AppContext.open_remote

    def open_remote(self: AppContext, host: str | None = None) -> Any:
        if host == "DNS1.corp.example":
            raise ConnectError("connection refused", host=host)
        return real(self, host)

    monkeypatch.setattr(AppContext, "open_remote", open_remote)
    res = runner.invoke(main, ["--transport", "fake", "--fixtures", str(demo_dir), "fix"])
    assert res.exit_code == EXIT_INCOMPLETE
    errors = res.stderr.strip().splitlines()
    assert [e.split(" could not be audited")[0] for e in errors] == [
        "windns: error: DNS1.corp.example",
        "windns: error: DNS3.corp.example",
    ]
    assert "connection refused" in errors[0]
    assert "DNS2.corp.example:" in res.stdout and "DNS4.branch.example:" in res.stdout


def _planned(demo_dir: object) -> list[tuple[str, str, str]]:
    from toolkit.services.audit import audit_server
    from toolkit.services.fix import plan_server

    fleet = Fleet.load(demo_dir)  # type: ignore[arg-type]
    return [
        (server.name, step.action, step.zone)
        for server in fleet
        for item in plan_server(audit_server(FakeRemote(server))).fixes
        for step in item.steps  # every step of a fix: an NSEC3 change and its re-sign
    ]


def test_refused_apply_logs_every_planned_change(runner: CliRunner, demo_dir: Path) -> None:
    log = demo_dir.parent / "fix-audit.log"
    before = {p.name: p.read_bytes() for p in demo_dir.glob("*.json")}
    planned = _planned(demo_dir)
    assert planned
    res = runner.invoke(
        main, ["--transport", "fake", "--fixtures", str(demo_dir), "fix", "--apply", "--audit-log", str(log)]
    )
    assert res.exit_code == EXIT_REFUSED
    entries = AuditLog(log).entries()
    assert sorted((e["server"], e["action"], e["zone"]) for e in entries) == sorted(planned)
    assert {e["result"] for e in entries} == {"refused"}
    assert {e["error"]["kind"] for e in entries} == {"guard"}
    assert {p.name: p.read_bytes() for p in demo_dir.glob("*.json")} == before  # nothing was sent


def test_declined_apply_on_a_terminal_logs_cancelled(
    runner: CliRunner, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.cli.fix_cmds as fix_cmds

    monkeypatch.setattr(fix_cmds, "is_tty", lambda: True)
    log = demo_dir.parent / "fix-audit.log"
    res = runner.invoke(
        main,
        ["--transport", "fake", "--fixtures", str(demo_dir), "fix", "--apply", "--audit-log", str(log)],
        input="n\n" * 5,
    )
    assert "skipped" in res.stderr
    entries = AuditLog(log).entries()
    assert len(entries) == len(_planned(demo_dir)) and {e["result"] for e in entries} == {"cancelled"}


def test_manual_remediation_is_printed_line_by_line_with_the_zone(runner: CliRunner, demo_dir: Path) -> None:
    from toolkit.rules import get_rule

    res = runner.invoke(main, ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns1", "fix"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  - ALG001 legacy.corp.example"))
    assert lines[at + 1] == "    remediation:"
    rule = get_rule("ALG001")
    assert rule is not None and "<Zone>" in rule.remediation and "\n" in rule.remediation
    want = [line.strip() for line in rule.remediation.splitlines() if line.strip()]
    shown = [line.strip() for line in lines[at + 2 : at + 2 + len(want)]]
    assert all(line.startswith("      ") for line in lines[at + 2 : at + 2 + len(want)])
    for expected, got in zip(want, shown, strict=True):
        filled = expected.replace("<Zone>", "legacy.corp.example")
        if "<KeyId>" in filled:  # the finding names its key
            prefix, _, suffix = filled.partition("<KeyId>")
            assert got.startswith(prefix) and got.endswith(suffix) and "<KeyId>" not in got
        else:
            assert got == filled
    assert "<Zone>" not in res.stdout


def test_fix_library_apply_leaves_no_claimed_finding(fleet: Fleet) -> None:
    from toolkit.services.admin import Options
    from toolkit.services.audit import audit_server
    from toolkit.services.fix import apply_plan, plan_server

    claimed_total = 0
    for server in fleet:
        remote = FakeRemote(server)
        plan = plan_server(audit_server(remote))
        result = apply_plan(remote, plan, Options(assume_yes=True))
        assert result.failures == ()
        assert result.still_open == ()
        after: Sequence[Finding] = result.after.findings if result.after else ()
        assert not (plan.claimed & {finding_key(f) for f in after})
        claimed_total += len(plan.claimed)
    assert claimed_total > 0
