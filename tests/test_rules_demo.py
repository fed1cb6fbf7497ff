"""End to end on the bundled demo fleet: simulator -> FakeRemote -> audit -> rules -> renderers.

Skipped until the normaliser (toolkit.normalise) is in the tree.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import Finding, HostReport, Severity
from toolkit.policy import load_policy
from toolkit.remote import FakeRemote
from toolkit.simulator import Fleet

HEALTHY = {"corp.example", "ecdsa.corp.example", "shop.corp.example", "branch.example"}
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


@pytest.mark.parametrize("name", ["DNS1.corp.example", "DNS2.corp.example", "DNS4.branch.example"])
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
