"""`windns audit --dns-server` / `windns scan --dns-server`: the DNS view beside the Windows
inventory, against the real BIND of ``demo_bind`` (tests/bind_fixtures.py), through CliRunner.

Also the STIG checklists of such audits (`-f ckl`, `-f cklb`), and what happens when the DNS
server does not answer: a finding and a clean exit code, with everything the inventory found kept.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import EXIT_CONFIG, EXIT_FINDINGS, EXIT_USAGE, Severity
from toolkit.testing.bind import BindServer, KeySpec, ZoneSpec, free_port
from toolkit.testing.bind_demo import DRIFT

Bind = tuple[BindServer, list[ZoneSpec]]
FAST = ["--dns-timeout", "0.2"]


def audit_json(runner: CliRunner, host: str, *extra: str) -> tuple[int, dict[str, Any]]:
    res = runner.invoke(main, ["--transport", "fake", "--server", host, "audit", "-f", "json", *extra])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, json.loads(res.output)


def by_zone(doc: dict[str, Any]) -> dict[str | None, list[tuple[str, str]]]:
    out: dict[str | None, list[tuple[str, str]]] = {}
    for f in doc["findings"]:
        out.setdefault(f["zone"], []).append((f["rule_id"], f["severity"]))
    return out


def test_audit_with_the_dns_view_reports_each_out_of_sync_zone(runner: CliRunner, demo_bind: Bind) -> None:
    server, _ = demo_bind
    expected = {  # the deliberately out-of-sync demo zones and the finding each must give
        "rollover.corp.example": ("dns2", "DNS004", "critical"),
        "branch.corp.example": ("dns2", "DNS008", "high"),
        "rollerr.branch.example": ("dns4", "DNS002", "high"),
        "manual.branch.example": ("dns4", "DNS014", "medium"),
    }
    assert set(expected) == set(DRIFT)
    healthy = {
        "dns1": ["corp.example", "ecdsa.corp.example"],
        "dns2": ["shop.corp.example"],
        "dns4": ["branch.example"],
    }
    for host in ("dns1", "dns2", "dns4"):
        code, doc = audit_json(runner, host, "--dns-server", server.address)
        zones = by_zone(doc)
        assert code == EXIT_FINDINGS
        for zone, (h, rule, sev) in expected.items():
            if h == host:
                assert (rule, sev) in zones.get(zone, []), (zone, zones.get(zone))
        for zone in healthy[host]:
            above_info = [r for r, s in zones.get(zone, []) if Severity.parse(s) > Severity.INFO]
            assert above_info == [], (zone, above_info)
        (record,) = [f for f in doc["findings"] if f["rule_id"] == "DNS000"]
        assert record["evidence"]["dns_server"] == server.address
    # the same audit without the DNS view has no DNS-area finding at all
    _, plain = audit_json(runner, "dns2")
    assert not [f for f in plain["findings"] if f["rule_id"].startswith("DNS")]


def test_audit_dns_server_that_does_not_answer_keeps_the_inventory(runner: CliRunner) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    _, plain = audit_json(runner, "dns2")
    code, doc = audit_json(runner, "dns2", "--dns-server", dead, *FAST)
    assert code == EXIT_FINDINGS  # a finding (DNS001 high >= fail-on high), not a failed host (2)
    dns001 = [f for f in doc["findings"] if f["rule_id"] == "DNS001"]
    assert len(dns001) == 1 and dns001[0]["zone"] is None and dead in dns001[0]["message"]
    signed = {"rollover.corp.example", "branch.corp.example", "shop.corp.example"}
    assert set(dns001[0]["evidence"]["zones"]) == signed
    inside = [f for f in doc["findings"] if not f["rule_id"].startswith("DNS")]
    assert inside == plain["findings"]  # nothing the inventory found is lost
    assert doc["summary"]["hosts_failed"] == 0


def test_audit_dns_usage_and_bad_addresses(runner: CliRunner) -> None:
    base = ["--transport", "fake", "--server", "dns2", "audit"]
    res = runner.invoke(main, [*base, "--dns-server", "127.0.0.1:notaport"])
    assert res.exit_code == EXIT_CONFIG and "port" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, [*base, "--ds-from", "127.0.0.1"])
    assert res.exit_code == EXIT_USAGE and "--ds-from needs --dns" in res.output


def test_scan_dns_address_that_does_not_resolve_is_a_finding(runner: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "fleet.toml"
    inv.write_text(
        '[[servers]]\nname = "dns2"\ntransport = "fake"\ndns_address = "no-such-host.invalid"\n',
        encoding="utf-8",
    )
    res = runner.invoke(main, ["scan", str(inv), "--no-history", "-f", "json", *FAST])
    assert res.exit_code == EXIT_FINDINGS, res.output
    doc = json.loads(res.output)
    (f,) = [f for f in doc["findings"] if f["rule_id"] == "DNS001"]
    assert "unresolvable" in f["message"] and "no-such-host.invalid" in f["message"]
    assert any(f["rule_id"] == "ROLL005" for f in doc["findings"])  # the inventory's findings are kept


def test_ds_asked_where_the_parent_is_not_served_is_not_a_broken_chain(runner: CliRunner) -> None:
    # BIND serving corp.example alone: its DS question is answered by the zone itself
    keys = (KeySpec("RSASHA256", 2048, ksk=True), KeySpec("RSASHA256", 1024))
    with BindServer([ZoneSpec("corp.example", keys, nsec3=(0, ""))], lifetime=120) as lone:
        code, doc = audit_json(runner, "dns1", "--dns-server", lone.address, *FAST)
    zones = by_zone(doc)
    assert ("DNS001", "info") in zones["corp.example"] and "DNS004" not in dict(zones["corp.example"])
    (record,) = [f for f in doc["findings"] if f["rule_id"] == "DNS000"]
    assert record["evidence"]["zones"]["corp.example"]["chain"] == "not checked"


def test_audit_ckl_and_cklb_with_the_dns_view(runner: CliRunner, demo_bind: Bind, tmp_path: Path) -> None:
    server, _ = demo_bind
    base = ["--transport", "fake", "--server"]
    out = tmp_path / "dns2.ckl"
    dns = ["--dns-server", server.address]
    res = runner.invoke(main, [*base, "dns2", "audit", "-f", "ckl", "-o", str(out), *dns])
    assert res.exit_code == EXIT_FINDINGS, res.output
    vulns = _ckl(out.read_text(encoding="utf-8"))
    assert vulns["V-259382"][0] == "Open" and "rollover.corp.example" in vulns["V-259382"][1]
    assert vulns["V-259372"][0] == "NotAFinding"  # NSEC3PARAM and DNSKEY signed together
    # without the DNS view those two items cannot be answered
    res = runner.invoke(main, [*base, "dns2", "audit", "-f", "ckl"])
    plain = _ckl(res.output)
    assert plain["V-259382"][0] == plain["V-259372"][0] == "Not_Reviewed"
    # dns1 hosts only AD-integrated zones: the STIG's DNSSEC checks do not apply
    res = runner.invoke(main, [*base, "dns1", "audit", "-f", "cklb", "--dns-server", server.address])
    doc = json.loads(res.output)
    assert {r["status"] for r in doc["stigs"][0]["rules"]} == {"not_applicable"}


def _ckl(text: str) -> dict[str, tuple[str, str]]:
    root = ET.fromstring(text.split("\n", 2)[2])
    out = {}
    for v in root.iter("VULN"):
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")}
        out[data["Vuln_Num"] or ""] = (v.findtext("STATUS") or "", v.findtext("FINDING_DETAILS") or "")
    return out


def test_scan_with_dns_view_writes_checklists_per_server(
    runner: CliRunner, demo_bind: Bind, tmp_path: Path
) -> None:
    server, _ = demo_bind
    args = ["scan", "--demo", "--no-history", "--dns-server", server.address]
    res = runner.invoke(main, [*args, "-f", "json"])
    assert res.exit_code == EXIT_FINDINGS, res.output
    doc = json.loads(res.output)
    records = {f["server"] for f in doc["findings"] if f["rule_id"] == "DNS000"}
    # every host with a signed zone was asked over DNS; DNS6 holds no zone of its own (SRV004)
    assert records == {h["server"] for h in doc["hosts"]} - {"DNS6.corp.example"}
    assert ("DNS6.corp.example", "SRV004") in {(f["server"], f["rule_id"]) for f in doc["findings"]}
    assert ("rollover.corp.example", "DNS004") in {(f["zone"], f["rule_id"]) for f in doc["findings"]}
    for fmt in ("ckl", "cklb"):
        out = tmp_path / fmt
        res = runner.invoke(main, [*args, "-f", fmt, "-o", str(out)])
        assert res.exit_code == EXIT_FINDINGS, res.output
        files = sorted(p.name for p in out.iterdir())
        assert files == sorted(f"{h['server'].lower()}.{fmt}" for h in doc["hosts"])
    dns2 = _ckl((tmp_path / "ckl" / "dns2.corp.example.ckl").read_text(encoding="utf-8"))
    assert dns2["V-259382"][0] == "Open"
    dns1 = json.loads((tmp_path / "cklb" / "dns1.corp.example.cklb").read_text(encoding="utf-8"))
    assert {r["status"] for r in dns1["stigs"][0]["rules"]} == {"not_applicable"}
    # a fleet checklist needs a directory, not one stream
    res = runner.invoke(main, [*args, "-f", "ckl"])
    assert res.exit_code == EXIT_CONFIG and "--output DIRECTORY" in res.output


def test_scan_inventory_dns_address_per_host(runner: CliRunner, demo_bind: Bind, tmp_path: Path) -> None:
    server, _ = demo_bind
    dead = f"127.0.0.1:{free_port()}"
    inv = tmp_path / "fleet.toml"
    inv.write_text(
        '[defaults]\ntransport = "fake"\n\n'
        f'[[servers]]\nname = "dns2"\ndns_address = "{server.address}"\n\n'
        f'[[servers]]\nname = "dns4"\ndns_address = "{dead}"\n\n'
        '[[servers]]\nname = "dns1"\n',
        encoding="utf-8",
    )
    res = runner.invoke(main, ["scan", str(inv), "--no-history", "-f", "json", *FAST])
    # the silent DNS server is a finding, not a failed host
    assert res.exit_code == EXIT_FINDINGS, res.output
    doc = json.loads(res.output)
    dns_rules: dict[str, set[str]] = {}
    for f in doc["findings"]:
        if f["rule_id"].startswith("DNS"):
            dns_rules.setdefault(f["server"].split(".")[0].lower(), set()).add(f["rule_id"])
    assert "DNS004" in dns_rules["dns2"]  # rollover.corp.example, from its own DNS address
    assert dns_rules["dns4"] == {"DNS000", "DNS001"}  # its DNS address does not answer
    assert "dns1" not in dns_rules  # no dns_address, no --dns: no DNS view
    assert doc["summary"]["hosts_failed"] == 0
    assert any(f["rule_id"] == "ROLL004" and f["server"].lower().startswith("dns4") for f in doc["findings"])
    res = runner.invoke(main, ["scan", str(inv), "--no-history", "-f", "json", "--no-dns"])
    assert not [f for f in json.loads(res.output)["findings"] if f["rule_id"].startswith("DNS")]
