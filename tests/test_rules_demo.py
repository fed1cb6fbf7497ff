"""End to end on the bundled demo fleet: simulator -> FakeRemote -> audit -> rules -> renderers.

Skipped until the normaliser (toolkit.normalise) is in the tree.
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import Finding, HostReport, Severity
from toolkit.policy import PROFILES, load_policy
from toolkit.rules import RULES
from toolkit.rules.join_rules import JOIN_RULES
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

HEALTHY = {"corp.example", "ecdsa.corp.example", "shop.corp.example", "branch.example", "lab.example"}
#: the rules the inventory engine runs; the join rules (area DNS) need a DNS view (test_dns_audit.py)
INVENTORY_RULES = tuple(r.id for r in RULES if r.id not in {j.id for j in JOIN_RULES})
RULE_ID = re.compile(r"\b[A-Z]{2,4}[0-9]{3}\b")
DATA = Path(__file__).parent / "data"


def audit(fleet: Fleet, name: str, profile: str = "baseline") -> HostReport:
    from toolkit.services.audit import audit_server

    return audit_server(FakeRemote(fleet.get(name)), load_policy(profile=profile))


def hits(report: HostReport) -> set[tuple[str, str | None]]:
    return {(f.rule_id, f.target.zone) for f in report.findings}


def of(report: HostReport, zone: str) -> list[Finding]:
    return [f for f in report.findings if f.target.zone == zone]


def test_dns1_founding_cases(fleet: Fleet) -> None:
    r = audit(fleet, "DNS1.corp.example")
    assert r.ok, r.error
    h = hits(r)
    assert {("KEY001", "nozsk.corp.example"), ("KEY001", "noksk.corp.example")} <= h
    assert ("KEY001", "staging.corp.example") in h
    nozsk = next(f for f in of(r, "nozsk.corp.example") if f.rule_id == "KEY001")
    assert "no ZSK" in nozsk.message and nozsk.severity is Severity.CRITICAL
    assert any(k.startswith("KSK RsaSha256") for k in nozsk.evidence["keys_present"])
    noksk = next(f for f in of(r, "noksk.corp.example") if f.rule_id == "KEY001")
    assert "no KSK" in noksk.message
    assert ("ALG001", "legacy.corp.example") in h and ("DS001", "legacy.corp.example") in h
    assert {("NSEC001", "nsec3.corp.example"), ("NSEC002", "nsec3.corp.example")} <= h


def test_dns2_stuck_rollover_and_offline_key_master(fleet: Fleet) -> None:
    r = audit(fleet, "DNS2.corp.example")
    h = hits(r)
    assert ("ROLL005", "rollover.corp.example") in h
    assert ("KM001", "branch.corp.example") in h
    assert not of(r, "partner.example")  # a secondary zone is the primary's business


def test_dns3_access_denied_is_host_error(fleet: Fleet) -> None:
    r = audit(fleet, "DNS3.corp.example")
    assert not r.ok and r.error is not None and r.error.code == 5


def test_dns4_rollover_trust_and_read_errors(fleet: Fleet) -> None:
    r = audit(fleet, "DNS4.branch.example")
    h = hits(r)
    assert ("ROLL001", "manual.branch.example") in h
    assert ("ROLL004", "rollerr.branch.example") in h
    assert ("ZONE002", "broken.branch.example") in h
    assert any(f.rule_id == "TA001" and "partner.example" in (f.target.zone or "") for f in r.findings)
    assert any(f.rule_id == "TA002" for f in r.findings)


def test_dns4_rollerr_text_matches_the_rules(fleet: Fleet) -> None:
    # its ZSK's NextRolloverTime is days past, but the key is mid-rollover (RollError): ROLL004
    # reports it with that time as evidence, ROLL003 (overdue, not rolling) does not
    for profile in PROFILES:
        found = of(audit(fleet, "DNS4.branch.example", profile), "rollerr.branch.example")
        (roll004,) = [f for f in found if f.rule_id == "ROLL004"]
        assert roll004.evidence["next_rollover_time"] is not None
        assert not [f for f in found if f.rule_id == "ROLL003"]


def test_dns4_validates_without_a_root_trust_anchor(fleet: Fleet) -> None:
    r = audit(fleet, "DNS4.branch.example")
    (ta004,) = [f for f in r.findings if f.rule_id == "TA004"]
    assert ta004.target.zone is None and r.inventory is not None
    assert r.inventory.server.settings.enable_dnssec is True
    assert not [a for a in r.inventory.trust_anchors if a.name.rstrip(".") == ""]


def _fired(fleet: Fleet) -> dict[str, set[tuple[str, str, str | None]]]:
    """Rule id -> (profile, server, zone) it fires on across the demo fleet. Each profile runs with
    its ignores lifted: rules are independent, so a rule fires the same whether or not another
    one runs, and a rule no built-in profile selects (TA005) still shows its demo case."""
    out: dict[str, set[tuple[str, str, str | None]]] = {}
    for profile in PROFILES:
        policy = dataclasses.replace(load_policy(profile=profile), ignore=())
        for server in fleet:
            from toolkit.services.audit import audit_server

            r = audit_server(FakeRemote(server), policy)
            for f in r.findings:
                out.setdefault(f.rule_id, set()).add((profile, server.name, f.target.zone))
    return out


def test_every_inventory_rule_has_a_demo_case(fleet: Fleet) -> None:
    """Each rule the inventory engine runs fires somewhere in the demo fleet under a built-in
    profile that selects it (or, for a rule no profile selects, under some profile's thresholds).
    A new rule without a demo zone fails here: add one to fixtures/demo (see fixtures/README.md)."""
    fired = _fired(fleet)
    pols = {p: load_policy(profile=p) for p in PROFILES}
    assert len(INVENTORY_RULES) >= 25
    missing = []
    for rule_id in INVENTORY_RULES:
        selecting = {p for p, pol in pols.items() if pol.is_selected(rule_id)}
        profiles = {p for p, _, _ in fired.get(rule_id, set())}
        if not (profiles & selecting if selecting else profiles):
            missing.append(rule_id)
    assert missing == [], f"rules with no demo case: {missing}"


def test_lab_server_zones_show_the_rules_they_name(fleet: Fleet) -> None:
    """dns5 (the lab server): every zone says what it illustrates, and each rule id it names fires
    on that zone under some built-in profile (ignores lifted, as above); so do the ids its
    Description names, on the server."""
    lab = fleet.get("dns5")
    fired = _fired(Fleet(servers={lab.name.lower(): lab}))
    on_zone = {(rid, zone) for rid, hits in fired.items() for _, _, zone in hits}
    server_level = RULE_ID.findall(lab.state.get("Description") or "")
    assert server_level and set(server_level) <= set(fired)  # the settings the server itself shows
    named = 0
    # The TrustAnchors zone is listed by Get-DnsServerZone like any zone (fixtures/raw/ps51-zones.json;
    # PSD Add-DnsServerSecondaryZone example 2 filters it out of that listing) and holds the trust
    # points; no rule audits it, so it names none.
    audited = [z for z in lab.state["Zones"] if z["ZoneName"] != "TrustAnchors"]
    for z in lab.state["Zones"]:
        text = z.get("Illustrates") or ""
        assert text, z["ZoneName"]
        for rule_id in RULE_ID.findall(text):
            named += 1
            assert (rule_id, z["ZoneName"]) in on_zone, (z["ZoneName"], rule_id)
    assert named >= len(audited) - 1  # every audited zone but the healthy parent names its rules


@pytest.mark.parametrize(
    "name", ["DNS1.corp.example", "DNS2.corp.example", "DNS4.branch.example", "DNS5.lab.example"]
)
def test_healthy_zones_nothing_above_info_in_baseline(fleet: Fleet, name: str) -> None:
    r = audit(fleet, name)
    loud = [f for f in r.findings if f.target.zone in HEALTHY and f.severity > Severity.INFO]
    assert loud == []


def _fake(demo_dir: Path, server: str, *args: str) -> list[str]:
    return ["--transport", "fake", "--fixtures", str(demo_dir), "--server", server, "audit", *args]


def test_cli_audit_json_exit_codes(runner: CliRunner, demo_dir: Path) -> None:
    res = runner.invoke(main, _fake(demo_dir, "DNS1.corp.example", "--format", "json"))
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    assert doc["schema"] == "windns.report"
    assert {f["rule_id"] for f in doc["findings"]} >= {"KEY001", "ALG001", "NSEC001"}
    res = runner.invoke(main, _fake(demo_dir, "DNS1.corp.example", "--zone", "corp.example", "-f", "json"))
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, _fake(demo_dir, "DNS3.corp.example", "-f", "json"))
    assert res.exit_code == 2


def test_cli_sarif_and_junit_on_demo(runner: CliRunner, demo_dir: Path) -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    res = runner.invoke(main, _fake(demo_dir, "DNS2.corp.example", "-f", "sarif"))
    jsonschema.Draft4Validator(schema).validate(json.loads(res.output))
    res = runner.invoke(main, _fake(demo_dir, "DNS2.corp.example", "-f", "junit"))
    root = ET.fromstring(res.output)
    assert root.tag == "testsuites" and int(root.get("failures", "0")) > 0
    names = [c.get("name", "") for c in root.iter("testcase")]
    assert any(n.startswith("KM001 ") for n in names)
    assert not [n for n in names if n.startswith("DNS")]  # no DNS view collected: no join-rule cases


def test_cli_policy_ignore_and_suppress(runner: CliRunner, demo_dir: Path, tmp_path: Path) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text(
        'ignore = ["ALG001"]\n[[suppress]]\nrule = "KEY001"\nzone = "nozsk.*"\nreason = "being rebuilt"\n',
        encoding="utf-8",
    )
    res = runner.invoke(main, _fake(demo_dir, "DNS1.corp.example", "-f", "json", "--policy", str(pol)))
    doc = json.loads(res.output)
    assert "ALG001" not in {f["rule_id"] for f in doc["findings"] + doc["suppressed"]}
    sup = [f for f in doc["suppressed"] if f["rule_id"] == "KEY001"]
    assert sup and sup[0]["zone"] == "nozsk.corp.example" and sup[0]["suppressed_reason"] == "being rebuilt"
    assert ("KEY001", "nozsk.corp.example") not in {(f["rule_id"], f["zone"]) for f in doc["findings"]}


def test_cli_policy_typo_one_line(runner: CliRunner, demo_dir: Path, tmp_path: Path) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text('fail-on = "high"\nignore = ["ALG001"]\nselcet = ["KEY"]\n', encoding="utf-8")
    res = runner.invoke(main, _fake(demo_dir, "DNS1.corp.example", "--policy", str(pol)))
    assert res.exit_code == 4
    assert f"{pol}:3: unknown key 'selcet'" in res.output and "Traceback" not in res.output
