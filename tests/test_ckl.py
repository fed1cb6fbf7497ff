"""STIG Viewer checklists: valid XML, the STIG notes' Vuln IDs, statuses where the STIG says so."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.model import ServerInfo, ServerInventory, SigningKey, Zone, ZoneDnssecSettings
from toolkit.model.enums import CryptoAlgorithm, DenialOfExistence, KeyType, ZoneType
from toolkit.render.ckl import REQUIREMENTS, ckl_document, render_ckl, write_ckl_files

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


def test_dns_view_findings_drive_dns_items() -> None:
    f = Finding("dns.ds-chain", Severity.CRITICAL, Target("DNS4", "branch.example"), "chain broken: DS 1234")
    ok_f = Finding("dns.nsec3-params", Severity.LOW, Target("DNS4", "branch.example"), "salt")
    got = _parse(ckl_document(_host(_zone("branch.example"), findings=(f, ok_f))))
    assert got["V-259382"][0] == "Open" and "DS 1234" in got["V-259382"][2]
    assert got["V-259372"][0] == "NotAFinding"


def test_ad_integrated_only_and_classified_are_not_applicable() -> None:
    ad = _parse(ckl_document(_host(_zone("corp.example", ad=True))))
    assert {s for s, _, _ in ad.values()} == {"Not_Applicable"}
    mixed = _parse(ckl_document(_host(_zone("corp.example", ad=True), _zone("branch.example"))))
    assert "Not_Applicable" not in {s for s, _, _ in mixed.values()}
    classified = _parse(
        ckl_document(_host(_zone("branch.example")), SimpleNamespace(classified_network=True))
    )
    assert {s for s, _, _ in classified.values()} == {"Not_Applicable"}


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
