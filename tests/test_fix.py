"""Remediation plans: candidates kept only when they clear findings; apply, re-audit."""

from __future__ import annotations

from collections.abc import Sequence

from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import Finding, Severity, Target
from toolkit.model import DenialOfExistence, ServerInventory
from toolkit.remote import FakeRemote
from toolkit.services.audit import collect
from toolkit.services.fix import finding_key, plan_fixes
from toolkit.simulator import Fleet


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
        "NSec3RandomSaltLength": 0,
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
    assert res.exit_code == 0, res.output
    assert "Safe fixes:" in res.output and "Needs a person:" in res.output
    assert "Add-DnsServerSigningKey -ZoneName 'nozsk.corp.example'" in res.output
    res = runner.invoke(main, [*base, "fix", "--apply"])
    assert res.exit_code != 0 and "--yes" in res.output
    res = runner.invoke(main, [*base, "fix", "--apply", "--yes"])
    assert res.exit_code == 0, res.output
    assert "fixed" in res.output and " open " not in res.output


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
