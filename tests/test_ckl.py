"""STIG Viewer checklists: valid XML, the STIG notes' Vuln IDs, statuses where the STIG says so."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.model import ServerInfo, ServerInventory, SigningKey, Zone, ZoneDnssecSettings
from toolkit.model.enums import CryptoAlgorithm, DenialOfExistence, KeyType, ZoneType
from toolkit.policy import load_policy, parse_policy
from toolkit.render.checklist_files import write_checklist_output, write_ckl_files
from toolkit.render.ckl import REQUIREMENTS, ckl_document, render_ckl
from toolkit.render.cklb import CKLB_STATUS, cklb_document, render_cklb

VULNS_2022 = {
    "V-259350",
    "V-259345",
    "V-259339",
    "V-259346",
    "V-259372",
    "V-259351",
    "V-259380",
    "V-259382",
    "V-259383",
    "V-259384",
    "V-259381",
    "V-259343",
    "V-259370",
    "V-259414",
}


def _zone(
    name: str, *, ad: bool = False, validity_h: float = 168, nsec3: bool = True, rollover: bool = True
) -> Zone:
    keys = tuple(
        SigningKey(
            zone=name,
            key_id=f"{name}-{kt.short}",
            key_type=kt,
            algorithm=CryptoAlgorithm("RsaSha256"),
            key_length=2048,
            dnskey_signature_validity=timedelta(hours=validity_h),
            ds_signature_validity=timedelta(hours=168),
            is_rollover_enabled=rollover,
        )
        for kt in (KeyType.KSK, KeyType.ZSK)
    )
    doe = DenialOfExistence.NSEC3 if nsec3 else DenialOfExistence.NSEC
    return Zone(
        name=name,
        zone_type=ZoneType.PRIMARY,
        is_signed=True,
        is_ds_integrated=ad,
        keys=keys,
        dnssec=ZoneDnssecSettings(zone=name, denial_of_existence=doe),
    )


def _host(
    *zones: Zone, os: str = "Microsoft Windows Server 2022 Standard", findings: tuple[Finding, ...] = ()
) -> HostReport:
    inv = ServerInventory(server=ServerInfo(name="DNS4.branch.example", os_version=os), zones=zones)
    return HostReport(server="DNS4.branch.example", inventory=inv, findings=findings)


def _parse(text: str) -> dict[str, tuple[str, str, str]]:
    root = ET.fromstring(text.split("\n", 2)[2])
    out = {}
    for v in root.iter("VULN"):
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")}
        out[data["Vuln_Num"] or ""] = (
            v.findtext("STATUS") or "",
            data["Rule_Ver"] or "",
            v.findtext("FINDING_DETAILS") or "",
        )
    return out


def test_every_dnssec_vuln_is_listed_with_stig_ids() -> None:
    got = _parse(ckl_document(_host(_zone("branch.example"))))
    assert set(got) == VULNS_2022
    assert got["V-259345"][1] == "WDNS-22-000014"
    assert all(
        status in ("Open", "NotAFinding", "Not_Applicable", "Not_Reviewed") for status, _, _ in got.values()
    )


def test_statuses_follow_the_inventory() -> None:
    good = _parse(ckl_document(_host(_zone("branch.example"))))
    assert good["V-259345"][0] == "NotAFinding"
    assert good["V-259384"][0] == "NotAFinding"
    assert good["V-259381"][0] == "Not_Reviewed"  # NRPT: no command answers it
    assert good["V-259382"][0] == "Not_Reviewed"  # needs the DNS view
    bad = _parse(ckl_document(_host(_zone("branch.example", validity_h=240, nsec3=False, rollover=False))))
    assert bad["V-259345"][0] == "Open" and "240 h" in bad["V-259345"][2]
    assert bad["V-259346"][0] == "Open"
    assert bad["V-259384"][0] == "Open"


def _record(**zones: dict[str, object]) -> Finding:
    """The DNS000 record of a DNS view (what ``evaluate_join`` writes), zones as given."""
    return Finding("DNS000", Severity.INFO, Target("DNS4"), "DNS view", {"zones": zones})


def test_dns_view_findings_drive_dns_items() -> None:
    f = Finding("DNS004", Severity.CRITICAL, Target("DNS4", "branch.example"), "chain broken: DS 1234")
    ok_f = Finding("DNS015", Severity.LOW, Target("DNS4", "branch.example"), "salt")
    rec = _record(**{"branch.example": {"reachable": True, "chain": "broken", "ds": ["1234/SHA256"]}})
    got = _parse(ckl_document(_host(_zone("branch.example"), findings=(rec, f, ok_f))))
    assert got["V-259382"][0] == "Open" and "DS 1234" in got["V-259382"][2]
    assert got["V-259372"][0] == "NotAFinding"


def test_dns_record_gives_evidence_and_unchecked_chains_stay_not_reviewed() -> None:
    ok = {"reachable": True, "chain": "ok", "ds": ["4711/SHA256"], "dnskey_rrsig_validity_hours": [168.0]}
    got = _parse(ckl_document(_host(_zone("branch.example"), findings=(_record(**{"branch.example": ok}),))))
    assert got["V-259382"][0] == "NotAFinding"
    assert "branch.example: chain ok (DS 4711/SHA256)" in got["V-259382"][2]
    assert "measured over DNS 168 h" in got["V-259345"][2]
    unchecked = {"reachable": True, "chain": "not checked", "ds": []}
    rec = _record(**{"branch.example": unchecked})
    got = _parse(ckl_document(_host(_zone("branch.example"), findings=(rec,))))
    assert got["V-259382"][0] == "Not_Reviewed" and "--ds-from" in got["V-259382"][2]
    # the same report without any DNS-area finding: the DNS items need the view
    assert _parse(ckl_document(_host(_zone("branch.example"))))["V-259372"][0] == "Not_Reviewed"


def test_ad_integrated_only_and_classified_are_not_applicable() -> None:
    ad = _parse(ckl_document(_host(_zone("corp.example", ad=True))))
    assert {s for s, _, _ in ad.values()} == {"Not_Applicable"}
    mixed = _parse(ckl_document(_host(_zone("corp.example", ad=True), _zone("branch.example"))))
    assert "Not_Applicable" not in {s for s, _, _ in mixed.values()}
    policy = parse_policy('extends = "stig"\nclassified-network = true\n', "p.toml")
    classified = _parse(ckl_document(_host(_zone("branch.example")), policy))
    assert {s for s, _, _ in classified.values()} == {"Not_Applicable"}
    assert "classified network" in next(iter(classified.values()))[2]
    unclassified = _parse(ckl_document(_host(_zone("branch.example")), load_policy(profile="stig")))
    assert "Not_Applicable" not in {s for s, _, _ in unclassified.values()}


def test_2012_server_uses_the_2012_stig_and_keeps_2022_ids() -> None:
    text = ckl_document(_host(_zone("branch.example"), os="Microsoft Windows Server 2012 R2 Standard"))
    got = _parse(text)
    assert "V-215578" in got and got["V-215578"][1] == "WDNS-CM-000008"
    assert "V-259414" not in got  # 2022-only requirement
    assert "V-259345" in text  # the 2022 id as LEGACY_ID
    assert len(got) == sum(1 for r in REQUIREMENTS if r.vuln_2012)


def test_failed_host_is_not_reviewed_and_render_rules(tmp_path: Path) -> None:
    failed = HostReport(server="DNS3", error=HostError("DNS3", "cmdlet", "access denied", 5))
    got = _parse(ckl_document(failed))
    assert {s for s, _, _ in got.values()} == {"Not_Reviewed"}
    one = Report(hosts=(_host(_zone("branch.example")),), generated_at=datetime.now(UTC))
    buf = io.StringIO()
    render_ckl(one, buf)
    assert buf.getvalue().startswith("<?xml")
    two = replace(one, hosts=(one.hosts[0], failed))
    with pytest.raises(ConfigError):
        render_ckl(two, io.StringIO())
    paths = write_ckl_files(two, tmp_path)
    assert sorted(p.name for p in paths) == ["dns3.ckl", "dns4.branch.example.ckl"]
    for p in paths:
        ET.fromstring(p.read_text().split("\n", 2)[2])


def test_cklb_carries_the_same_items_as_the_ckl() -> None:
    host = _host(_zone("branch.example", validity_h=240), os="Microsoft Windows Server 2012 R2")
    doc = cklb_document(host)
    assert doc["cklb_version"] == "1.0" and doc["target_data"]["fqdn"] == "DNS4.branch.example"
    (stig,) = doc["stigs"]
    assert stig["stig_id"] == "Windows_2012_DNS_STIG" and stig["size"] == len(stig["rules"])
    ckl = _parse(ckl_document(host))
    got = {r["group_id"]: (r["status"], r["rule_version"], r["finding_details"]) for r in stig["rules"]}
    assert set(got) == set(ckl)
    for vuln, (status, stig_id, details) in ckl.items():
        assert got[vuln] == (CKLB_STATUS[status], stig_id, details)
    assert got["V-215578"][0] == "open"
    rule = next(r for r in stig["rules"] if r["group_id"] == "V-215578")
    assert rule["legacy_ids"] == ["V-259345", "WDNS-22-000014"] and rule["stig_uuid"] == stig["uuid"]
    assert cklb_document(host)["id"] == doc["id"]  # stable per server and STIG


def test_cklb_render_is_json_and_refuses_a_fleet_on_one_stream() -> None:
    one = Report(hosts=(_host(_zone("corp.example", ad=True)),), generated_at=datetime.now(UTC))
    buf = io.StringIO()
    render_cklb(one, buf)
    doc = json.loads(buf.getvalue())
    assert {r["status"] for r in doc["stigs"][0]["rules"]} == {"not_applicable"}
    with pytest.raises(ConfigError, match="--output DIRECTORY"):
        render_cklb(replace(one, hosts=one.hosts * 2), io.StringIO())


def test_checklist_files_stay_in_their_directory_whatever_the_server_name(tmp_path: Path) -> None:
    one = Report(hosts=(_host(_zone("branch.example")),), generated_at=datetime.now(UTC))
    odd = replace(one, hosts=(replace(one.hosts[0], server="../../etc/DNS:7 x"),))
    (path,) = write_ckl_files(odd, tmp_path / "out")
    assert path.parent == tmp_path / "out" and path.name == "etc_dns_7_x.ckl"


@pytest.mark.parametrize("fmt", ["ckl", "cklb"])
def test_servers_whose_names_make_the_same_file_name_get_a_file_each(
    tmp_path: Path, fmt: str, caplog: pytest.LogCaptureFixture
) -> None:
    from toolkit.render.checklist_files import write_checklists

    base = _host(_zone("branch.example"))
    names = ["x y", "x_y", "X..Y", "dns1", "DNS1"]
    report = Report(hosts=tuple(replace(base, server=n) for n in names), generated_at=datetime.now(UTC))

    def written(directory: Path, rep: Report) -> dict[str, str]:
        paths = write_checklists(rep, directory, None, fmt)
        assert len(paths) == len(rep.hosts) and len(set(paths)) == len(paths)
        assert sorted(p.name for p in directory.iterdir()) == sorted(p.name for p in paths)  # none lost
        out = {}
        for host, path in zip(rep.hosts, paths, strict=True):
            text = path.read_text(encoding="utf-8")
            fqdn = (
                json.loads(text)["target_data"]["fqdn"]
                if fmt == "cklb"
                else ET.fromstring(text.split("\n", 2)[2]).findtext(".//HOST_FQDN")
            )
            assert fqdn == host.server  # each file is its own server's
            out[host.server] = path.name
        return out

    with caplog.at_level("WARNING"):
        first = written(tmp_path / "a", report)
    assert len(set(first.values())) == 5 and all(n.endswith(f".{fmt}") for n in first.values())
    assert all(first[n].startswith("x_y-") for n in ("x y", "x_y", "X..Y"))
    # the same names whatever the order of the report: nothing depends on which came first
    again = written(tmp_path / "b", replace(report, hosts=report.hosts[::-1]))
    assert again == first
    # and the log says which file is which server
    for server, file in first.items():
        assert f"{file} ('{server}')" in caplog.text
    # a server whose own name looks like a disambiguated one does not take another's file
    lookalike = first["x y"].removesuffix(f".{fmt}")
    tricky = replace(report, hosts=(*report.hosts, replace(base, server=lookalike)))
    assert len(set(written(tmp_path / "c", tricky).values())) == 6


def test_not_applicable_items_still_name_the_hosts_critical_findings() -> None:
    """All zones AD-integrated: the STIG's DNSSEC items do not apply, but a zone in the 9104
    state must not hide behind a clean checklist."""
    broken = Finding(
        "KEY001",
        Severity.CRITICAL,
        Target("DNS4.branch.example", "corp.example"),
        "signed zone has no ZSK: Windows cannot re-sign or roll it (Win32 9104)",
    )
    minor = Finding("NSEC001", Severity.INFO, Target("DNS4.branch.example", "corp.example"), "iterations")
    got = _parse(ckl_document(_host(_zone("corp.example", ad=True), findings=(broken, minor))))
    assert {s for s, _, _ in got.values()} == {"Not_Applicable"}
    for _, _, details in got.values():
        assert "Active Directory-integrated" in details
        assert "1 critical finding(s)" in details
        assert "KEY001 DNS4.branch.example / corp.example: signed zone has no ZSK" in details
        assert "NSEC001" not in details
    cklb = cklb_document(_host(_zone("corp.example", ad=True), findings=(broken,)))
    assert all("Win32 9104" in r["finding_details"] for r in cklb["stigs"][0]["rules"])
    # nothing critical: the reason alone
    clean = _parse(ckl_document(_host(_zone("corp.example", ad=True), findings=(minor,))))
    assert {d for _, _, d in clean.values()} == {
        "Every zone on this server is Active Directory-integrated (IsDsIntegrated): not applicable."
    }


def test_output_naming_a_checklist_file_writes_that_file(tmp_path: Path) -> None:
    one = Report(hosts=(_host(_zone("branch.example")),), generated_at=datetime.now(UTC))
    for fmt in ("ckl", "cklb"):
        target = tmp_path / f"dns4.{fmt}"
        assert write_checklist_output(one, target, None, fmt) == [target]
        assert target.is_file()
        text = target.read_text(encoding="utf-8")
        assert text.startswith("<?xml") if fmt == "ckl" else json.loads(text)["cklb_version"] == "1.0"
    # a directory (existing, or a name without the format's suffix) gets one file per server
    (tmp_path / "out.ckl").mkdir()
    assert [p.name for p in write_checklist_output(one, tmp_path / "out.ckl", None, "ckl")] == [
        "dns4.branch.example.ckl"
    ]
    assert not (tmp_path / "fresh").exists()
    write_checklist_output(one, tmp_path / "fresh", None, "ckl")
    assert (tmp_path / "fresh" / "dns4.branch.example.ckl").is_file()
    # a fleet cannot go into one file
    two = replace(one, hosts=(one.hosts[0], replace(one.hosts[0], server="DNS5")))
    with pytest.raises(ConfigError, match="--output DIRECTORY"):
        write_checklist_output(two, tmp_path / "fleet.ckl", None, "ckl")
    assert not (tmp_path / "fleet.ckl").exists()


def test_scan_of_one_host_with_output_file_writes_a_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import main

    target = tmp_path / "dns1.ckl"
    r = CliRunner().invoke(
        main,
        ["scan", "--demo", "--only", "DNS1.corp.example", "-f", "ckl", "-o", str(target), "--no-history"],
    )
    assert r.exit_code == 1, r.output + r.stderr
    assert (
        target.is_file()
        and ET.fromstring(target.read_text(encoding="utf-8").split("\n", 2)[2]).tag == "CHECKLIST"
    )
