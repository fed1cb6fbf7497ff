"""Renderers: table (plain and colour), json, csv, sarif (schema-validated), junit (parsed)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from tests.rules_fixtures import NOW, inventory, key, with_settings, zone
from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.policy import Policy, load_policy, parse_policy
from toolkit.render import CHECKLIST_FORMATS, FORMATS, render
from toolkit.rules import RULE_BOOK, RULES, evaluate
from toolkit.rules.join_rules import JOIN_RULES

DATA = Path(__file__).parent / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def policy() -> Policy:
    return parse_policy(
        'extends = "baseline"\nname = "test"\n[[suppress]]\nrule = "DS"\nzone = "legacy.*"\n'
        'reason = "parent only takes SHA-1 (CHG-7)"\n',
        "test.toml",
    )


def make_report() -> Report:
    legacy = with_settings(zone("legacy.example"), ds_record_generation_algorithm=())
    inv = inventory(
        zone(),
        zone("nozsk.example", keys=(key("KSK", 1, zone="nozsk.example"),)),
        with_settings(zone("nsec3.example"), nsec3_iterations=50, nsec3_random_salt_length=8),
        legacy,
    )
    pol = policy()
    active, suppressed = evaluate(inv, pol, now=NOW)
    ok = HostReport(inv.server.name, inv, tuple(active), tuple(suppressed), duration=0.25)
    bad = HostReport(
        "DNS3.corp.example",
        error=HostError("DNS3.corp.example", "cmdlet", "Get-DnsServerZone: Access is denied.", code=5),
    )
    return Report(
        (ok, bad), generated_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC), policy_name=pol.name, rules=RULE_BOOK
    )


def out(fmt: str, *, color: bool = False) -> str:
    buf = io.StringIO()
    render(make_report(), fmt, buf, policy=policy(), color=color)
    return buf.getvalue()


def test_report_under_test_has_findings_suppressed_and_error() -> None:
    r = make_report()
    assert r.findings and r.suppressed and r.host_errors
    assert {f.rule_id for f in r.suppressed} == {"DS001"}


def test_formats_registry_and_unknown_format() -> None:
    assert set(FORMATS) >= {"table", "json", "csv", "sarif", "junit"}
    with pytest.raises(ConfigError, match="unknown report format"):
        render(make_report(), "yaml", io.StringIO())


# -- table --------------------------------------------------------------------------------------
def test_table_plain_grouped_with_summary() -> None:
    text = out("table")
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0] == "Policy: test (fail on high)"
    assert "DNS1.corp.example  4 zones" in text
    i_zone = lines.index("  nozsk.example")
    assert lines[i_zone + 1].split()[:2] == ["CRITICAL", "KEY001"]
    assert "(suppressed: parent only takes SHA-1 (CHG-7))" in text
    assert "DNS3.corp.example  ERROR cmdlet: Get-DnsServerZone: Access is denied." in text
    assert lines[-1].startswith("Summary: 2 host(s) (1 failed), 4 zones, ")
    assert "1 suppressed" in lines[-1]


def test_table_colour_only_when_asked() -> None:
    assert "\x1b[" in out("table", color=True)


def test_table_snapshot() -> None:
    snap = DATA / "render" / "table.txt"
    text = out("table")
    if os.environ.get("WINDNS_REGEN_SNAPSHOTS"):
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(text, encoding="utf-8")
    assert text == snap.read_text(encoding="utf-8")


# -- json ---------------------------------------------------------------------------------------
def test_json_schema_v1_shape() -> None:
    doc = json.loads(out("json"))
    assert doc["schema"] == "windns.report" and doc["version"] == 1
    r = make_report()
    assert doc["summary"] == json.loads(json.dumps(r.summary()))
    assert len(doc["findings"]) == len(r.findings) and len(doc["suppressed"]) == len(r.suppressed)
    key001 = next(f for f in doc["findings"] if f["rule_id"] == "KEY001")
    assert key001["zone"] == "nozsk.example" and key001["severity"] == "critical"
    assert key001["evidence"]["win32"] == 9104 and key001["evidence"]["missing"] == ["ZSK"]
    assert doc["suppressed"][0]["suppressed_reason"] == "parent only takes SHA-1 (CHG-7)"
    bad = next(h for h in doc["hosts"] if not h["ok"])
    assert bad["error"]["code"] == 5 and bad["error"]["kind"] == "cmdlet"
    assert doc["policy"] == {"name": "test", "fail_on": "high"}


# -- csv ----------------------------------------------------------------------------------------
def test_csv_rows() -> None:
    rows = list(csv.DictReader(io.StringIO(out("csv"))))
    r = make_report()
    assert len(rows) == len(r.findings) + len(r.suppressed) + len(r.host_errors)
    assert {row["status"] for row in rows} == {"finding", "suppressed", "host-error"}
    sup = next(row for row in rows if row["status"] == "suppressed")
    assert sup["suppressed_reason"] and json.loads(sup["evidence"])["ds_record_generation_algorithm"] == []


def test_csv_snapshot() -> None:
    snap = DATA / "render" / "report.csv"
    text = out("csv")
    if os.environ.get("WINDNS_REGEN_SNAPSHOTS"):
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(text, encoding="utf-8")
    assert text == snap.read_text(encoding="utf-8")


# -- sarif --------------------------------------------------------------------------------------
def test_sarif_validates_against_official_schema() -> None:
    doc = json.loads(out("sarif"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["version"] == "2.1.0"


def test_sarif_schema_catches_breakage() -> None:
    doc = json.loads(out("sarif"))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)


def test_sarif_content() -> None:
    run = json.loads(out("sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES if policy().is_selected(r.id)]
    key001 = next(r for r in rules if r["id"] == "KEY001")
    assert "Add-DnsServerSigningKey" in key001["help"]["text"]
    assert any("9104" in ref for ref in key001["properties"]["references"])
    levels = {(res["ruleId"], res["level"]) for res in run["results"]}
    assert ("KEY001", "error") in levels and ("NSEC001", "note") in levels
    res = next(res for res in run["results"] if res["ruleId"] == "KEY001")
    assert rules[res["ruleIndex"]]["id"] == "KEY001"
    names = [loc["name"] for loc in res["locations"][0]["logicalLocations"]]
    assert names == ["DNS1.corp.example", "nozsk.example"]
    sup = [res for res in run["results"] if "suppressions" in res]
    assert sup and sup[0]["suppressions"][0] == {
        "kind": "external",
        "status": "accepted",
        "justification": "parent only takes SHA-1 (CHG-7)",
    }
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False and "Access is denied" in json.dumps(inv)


# -- junit --------------------------------------------------------------------------------------
def test_junit_structure() -> None:
    root = ET.fromstring(out("junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["DNS1.corp.example", "DNS3.corp.example"]
    good, bad = suites
    # audited without the DNS view: the join rules (area DNS) did not run and have no test case
    join_ids = {r.id for r in JOIN_RULES}
    rules = [r for r in RULES if policy().is_selected(r.id) and r.id not in join_ids]
    zone_rules = sum(1 for r in rules if r.scope == "zone")
    server_rules = sum(1 for r in rules if r.scope == "server")
    cases = good.findall("testcase")
    assert len(cases) == zone_rules * 4 + server_rules
    assert not [c for c in cases if c.get("name", "").split()[0] in join_ids]
    assert int(good.get("tests", "0")) == len(cases)
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(good.get("failures", "0")) == len(failures) > 0
    key001 = next(c for c in failures if c.get("name", "").startswith("KEY001"))
    assert key001.get("classname") == "DNS1.corp.example / nozsk.example"
    assert key001.find("failure").get("type") == "critical"  # type: ignore[union-attr]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(skipped) == int(good.get("skipped", "0")) == 1
    assert bad.find("testcase/error") is not None and bad.get("errors") == "1"
    assert int(root.get("tests", "0")) == len(cases) + 1


def _junit_cases(host: HostReport) -> dict[tuple[str, str], ET.Element]:
    buf = io.StringIO()
    render(Report((host,), generated_at=NOW, rules=RULE_BOOK), "junit", buf, policy=load_policy())
    suite = ET.fromstring(buf.getvalue()).find("testsuite")
    assert suite is not None
    return {(c.get("classname", ""), c.get("name", "").split()[0]): c for c in suite.findall("testcase")}


def test_junit_join_rules_only_with_a_dns_view() -> None:
    inv = inventory(zone(), zone("other.example"))
    active, suppressed = evaluate(inv, load_policy(), now=NOW)
    server = inv.server.name
    join = [r for r in JOIN_RULES if load_policy().is_selected(r.id)]
    assert join  # the baseline profile runs join rules when there is a view

    plain = _junit_cases(HostReport(server, inv, tuple(active), tuple(suppressed)))
    assert plain and not [k for k in plain if k[1] in {r.id for r in join}]

    record = Finding("DNS000", Severity.INFO, Target(server), "DNS view of 2 zone(s)", {"zones": {}})
    broken = Finding("DNS004", Severity.CRITICAL, Target(server, "other.example"), "chain broken")
    viewed = _junit_cases(HostReport(server, inv, (*active, record, broken), tuple(suppressed)))
    for rule in join:
        targets = [server] if rule.scope == "server" else [f"{server} / {z.name}" for z in inv.zones]
        for classname in targets:
            assert (classname, rule.id) in viewed, (classname, rule.id)
    assert viewed[(f"{server} / other.example", "DNS004")].find("failure") is not None
    assert viewed[(f"{server} / {inv.zones[0].name}", "DNS004")].find("failure") is None
    assert set(viewed) - set(plain) == {k for k in viewed if k[1] in {r.id for r in join}}

    # a DNS view whose only DNS-area finding is suppressed still counts as collected
    known = dataclasses.replace(broken, suppressed_reason="known")
    quiet = _junit_cases(HostReport(server, inv, tuple(active), (*suppressed, known)))
    assert quiet[(f"{server} / other.example", "DNS004")].find("skipped") is not None


def test_junit_class_names_tell_server_from_zone() -> None:
    """Server "a.example" with zone "corp.example" and server "a" with zone "example.corp.example"
    joined by a dot would be the same class; a CI tree must show server / zone / rule apart."""
    cases: dict[str, set[str]] = {}
    for server, zname in (("a.example", "corp.example"), ("a", "example.corp.example")):
        base = inventory(zone(zname))
        inv = dataclasses.replace(base, server=dataclasses.replace(base.server, name=server))
        active, suppressed = evaluate(inv, load_policy(), now=NOW)
        found = _junit_cases(HostReport(server, inv, tuple(active), tuple(suppressed)))
        cases[server] = {c for c, _ in found}
    assert cases["a.example"] == {"a.example", "a.example / corp.example"}
    assert cases["a"] == {"a", "a / example.corp.example"}
    assert not cases["a.example"] & cases["a"]


def test_renderers_never_exit() -> None:
    for fmt in FORMATS:
        if fmt in CHECKLIST_FORMATS:  # one server per checklist: a fleet is a clean error, not an exit
            with pytest.raises(ConfigError):
                render(make_report(), fmt, io.StringIO(), policy=load_policy())
            continue
        render(make_report(), fmt, io.StringIO(), policy=load_policy())
