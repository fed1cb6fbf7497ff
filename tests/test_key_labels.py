"""Every report that names a key shows its DNSKEY key tag (or says why it is not known), its type
and algorithm beside its whole GUID; algorithms are spelt one way (as the Windows cmdlets print
them) in every output."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from rules_fixtures import NOW, ZONE, inventory, key, zone

from toolkit.cli import main
from toolkit.dnsview.descriptors import PublishedKey, ZoneDnsView
from toolkit.findings import HostReport, Report
from toolkit.model.enums import CryptoAlgorithm, algorithm_label
from toolkit.render import FORMATS, render
from toolkit.rules.registry import RULE_BOOK
from toolkit.services.audit import audit_inventory
from toolkit.services.key_tags import KeyTag, label_findings, served_tags

FAKE = ["--transport", "fake", "-s", "dns1"]
KSK_TAG = 40112
#: why a tag is unknown: a ZSK rollover in progress publishes two ZSKs of one kind
UNKNOWN = "one of 6851, 7001"
KSK = "00000000-0000-0000-0000-000000000001"
ZSK = "00000000-0000-0000-0000-000000000002"


def _host() -> HostReport:
    """A file-backed zone whose RsaSha1 keys (KSK without automatic rollover) the rules name."""
    keys = (
        key("KSK", 1, algorithm=CryptoAlgorithm.RSASHA1, is_rollover_enabled=False, rollover_period=None),
        key("ZSK", 2, algorithm=CryptoAlgorithm.RSASHA1, key_length=1024),
    )
    inv = inventory(zone(keys=keys, is_ds_integrated=False))
    tags = {(ZONE, KSK): KeyTag(KSK_TAG), (ZONE, ZSK): KeyTag(None, UNKNOWN)}
    host = audit_inventory(inv, now=NOW, key_tags=tags)
    named = {f.target.key_id for f in host.findings}
    assert {KSK, ZSK} <= named, named  # the rules name both keys
    return host


def _render(fmt: str, host: HostReport) -> str:
    out = io.StringIO()
    render(Report(hosts=(host,), generated_at=NOW, rules=RULE_BOOK), fmt, out)
    return out.getvalue()


def test_findings_carry_tag_type_and_algorithm_of_the_key_they_name() -> None:
    host = _host()
    for f in host.findings:
        if f.target.key_id == KSK:
            assert (f.evidence["key_type"], f.evidence["key_tag"]) == ("KSK", KSK_TAG)
            assert f.evidence["key_tag_note"] is None and f.evidence["key_algorithm"] == "RsaSha1"
        elif f.target.key_id == ZSK:
            assert (f.evidence["key_type"], f.evidence["key_tag"]) == ("ZSK", None)
            assert f.evidence["key_tag_note"] == UNKNOWN
        else:
            assert "key_tag" not in f.evidence  # a finding naming no key is left alone


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"prometheus", "ckl", "cklb"}))
def test_every_report_names_a_key_by_tag_algorithm_and_whole_guid(fmt: str) -> None:
    text = _render(fmt, _host())
    assert f"KSK tag {KSK_TAG}, RsaSha1" in text or fmt in ("json", "csv")
    assert f"ZSK tag unknown ({UNKNOWN}), RsaSha1" in text or fmt in ("json", "csv")
    assert KSK in text and ZSK in text  # never shortened
    if fmt == "json":
        rows = {f["key_id"]: f for f in json.loads(text)["findings"] if f["key_id"]}
        assert (rows[KSK]["key_tag"], rows[KSK]["key_algorithm"]) == (KSK_TAG, "RsaSha1")
        assert (rows[ZSK]["key_tag"], rows[ZSK]["key_algorithm"]) == (None, "RsaSha1")
        assert rows[ZSK]["evidence"]["key_tag_note"] == UNKNOWN
    if fmt == "csv":
        rows = {r["key_id"]: r for r in csv.DictReader(io.StringIO(text)) if r["key_id"]}
        assert (rows[KSK]["key_tag"], rows[KSK]["key_algorithm"]) == (str(KSK_TAG), "RsaSha1")
        assert (rows[ZSK]["key_tag"], rows[ZSK]["key_algorithm"]) == ("", "RsaSha1")


@pytest.mark.parametrize("fmt", ["ckl", "cklb"])
def test_checklists_name_keys_as_the_reports_do(fmt: str) -> None:
    text = _render(fmt, _host())
    # the rollover item lists the KSK without automatic rollover
    assert f"KSK tag {KSK_TAG}, RsaSha1, id {KSK}: automatic rollover disabled" in text


def test_prometheus_labels_stay_bounded_no_key_ids_or_tags() -> None:
    text = _render("prometheus", _host())
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert not {"key_id", "key_tag", "key"} & set(sample.labels), sample
            values = set(sample.labels.values())
            assert not values & {KSK, ZSK, str(KSK_TAG)}, sample


def test_an_audit_reads_the_tags_keys_list_shows(runner: CliRunner) -> None:
    r = runner.invoke(main, [*FAKE, "audit", "-f", "json"])
    assert r.exit_code in (0, 1), r.output
    findings = [f for f in json.loads(r.stdout)["findings"] if f["key_id"]]
    r = runner.invoke(main, [*FAKE, "keys", "list", "-f", "json"])
    keys = {k["key_id"]: k for k in json.loads(r.stdout)}
    assert findings
    for f in findings:
        k = keys[f["key_id"]]
        assert f["key_tag"] == k["key_tag"] and f["evidence"]["key_tag_note"] == k["key_tag_note"]
        assert f["key_algorithm"] == k["algorithm"]["name"] and f["evidence"]["key_type"] == k["key_type"]
    # a KSK's tag and, without --dns, a ZSK's, read from the zone's DNSKEY records
    assert any(isinstance(f["key_tag"], int) and f["evidence"]["key_type"] == "KSK" for f in findings)
    assert any(isinstance(f["key_tag"], int) and f["evidence"]["key_type"] == "ZSK" for f in findings)
    # the table shows the same, in one line with the whole GUID
    r = runner.invoke(main, [*FAKE, "audit"])
    for f in (f for f in findings if isinstance(f["key_tag"], int)):
        line = next(line for line in r.stdout.splitlines() if f["key_id"] in line)
        role = f["evidence"]["key_type"]
        assert f"[{role} tag {f['key_tag']}, {f['key_algorithm']}, id {f['key_id']}]" in line


def test_fix_plan_names_keys_by_tag(runner: CliRunner) -> None:
    r = runner.invoke(main, [*FAKE, "fix"])
    assert r.exit_code in (0, 1), r.output
    named = [line for line in r.stdout.splitlines() if re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", line)]
    person = [line for line in named if line.lstrip().startswith("- ")]
    assert person and all(re.search(r"\((KSK|ZSK) tag (\d+|unknown)", line) for line in person)


def _published(
    tag: int, *, ksk: bool, algorithm: int = 5, bits: int = 2048, revoked: bool = False
) -> PublishedKey:
    flags = 0x0100 | (0x0001 if ksk else 0) | (0x0080 if revoked else 0)
    return PublishedKey(ZONE, tag, flags, algorithm, bits, "AwEAAQ==")


def test_served_dnskeys_give_zsk_tags_and_never_a_guess() -> None:
    keys = (key("KSK", 1), key("ZSK", 2, key_length=1024))
    z = zone(keys=keys)
    view = ZoneDnsView(
        zone=ZONE,
        server="192.0.2.53",
        queried_at=NOW,
        reachable=True,
        keys=(_published(111, ksk=True, algorithm=8), _published(222, ksk=False, algorithm=8, bits=1024)),
    )
    tags = served_tags(z, view)
    assert (tags[KSK].tag, tags[ZSK].tag) == (111, 222)
    # a ZSK rollover in progress serves two ZSKs of one kind: which is which is not guessed
    two = ZoneDnsView(
        zone=ZONE,
        server="192.0.2.53",
        queried_at=NOW,
        reachable=True,
        keys=(*view.keys, _published(333, ksk=False, algorithm=8, bits=1024)),
    )
    assert ZSK not in served_tags(z, two) and served_tags(z, two)[KSK].tag == 111
    # a revoked key is no key's tag
    revoked = ZoneDnsView(
        ZONE, "192.0.2.53", NOW, True, keys=(_published(111, ksk=True, algorithm=8, revoked=True),)
    )
    assert served_tags(z, revoked) == {}


def test_the_served_zsk_tag_reaches_a_finding() -> None:
    keys = (
        key("KSK", 1),
        key("ZSK", 2, key_length=1024, rollover_period=timedelta(0), is_rollover_enabled=False),
    )
    inv = inventory(zone(keys=keys))
    view = ZoneDnsView(
        ZONE,
        "192.0.2.53",
        NOW,
        True,
        keys=(_published(111, ksk=True, algorithm=8), _published(222, ksk=False, algorithm=8, bits=1024)),
    )
    host = audit_inventory(inv, now=NOW, key_tags={(ZONE, ZSK): KeyTag(None, UNKNOWN)})
    zsk = [f for f in host.findings if f.target.key_id == ZSK]
    assert zsk and all(f.evidence["key_tag"] is None for f in zsk)
    again = label_findings(host.findings, inv, {(ZONE, ZSK): KeyTag(None, UNKNOWN)}, [view])
    zsk = [f for f in again if f.target.key_id == ZSK]
    assert zsk and all(f.evidence["key_tag"] == 222 and f.evidence["key_tag_note"] is None for f in zsk)
    # a tag the export read wins over the served one
    again = label_findings(host.findings, inv, {(ZONE, ZSK): KeyTag(999)}, [view])
    assert all(f.evidence["key_tag"] == 999 for f in again if f.target.key_id == ZSK)


# -- one spelling of algorithms -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "label"),
    [(5, "RsaSha1"), (7, "RsaSha1NSec3"), (8, "RsaSha256"), (10, "RsaSha512"), (13, "ECDsaP256Sha256")]
    + [(14, "ECDsaP384Sha384"), (15, "ED25519"), (3, "DSA"), (250, "250")],
)
def test_algorithms_are_spelt_as_the_windows_cmdlets_print_them(number: int, label: str) -> None:
    assert algorithm_label(number) == label
    known = [a for a in CryptoAlgorithm if a.number == number]
    assert all(a.value == label for a in known)  # the inventory's own spelling, the same


MNEMONIC = re.compile(r"\b(RSASHA1|RSASHA256|RSASHA512|ECDSAP256SHA256|ECDSAP384SHA384|RSASHA1NSEC3SHA1)\b")


def test_no_output_spells_a_windows_algorithm_by_its_mnemonic(runner: CliRunner, tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    outputs: list[tuple[list[str], str]] = []
    for args in (
        [*FAKE, "audit"],
        [*FAKE, "audit", "-f", "json"],
        [*FAKE, "audit", "-f", "sarif"],
        [*FAKE, "keys", "list"],
        [*FAKE, "fix"],
        ["scan", "--demo"],
        ["rollovers", "--demo", "--all"],
        ["rollovers", "--demo", "--all", "-f", "json"],
    ):
        r = runner.invoke(main, args, env=env)
        assert r.exit_code in (0, 1), (args, r.output)
        outputs.append((args, r.stdout))
    keys_json = runner.invoke(main, [*FAKE, "keys", "list", "-f", "json"]).stdout
    for args, text in outputs:
        # the keys list JSON keeps its documented "mnemonic" field; nothing else uses the spelling
        assert not MNEMONIC.search(text), (args, MNEMONIC.search(text))
    assert '"mnemonic": "RSASHA256"' in keys_json


def test_rollovers_name_keys_by_the_tags_the_scan_read(runner: CliRunner, tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert runner.invoke(main, ["scan", "--demo"], env=env).exit_code == 1
    r = runner.invoke(main, ["rollovers", "--demo", "--all", "-f", "json"], env=env)
    rows: list[dict[str, Any]] = json.loads(r.stdout)
    r = runner.invoke(main, ["history", "show", "--demo", "-f", "json"], env=env)
    assert r.exit_code in (0, 1), r.output
    read = {
        (f["zone"], f["key_id"]): f["key_tag"]
        for f in json.loads(r.stdout)["findings"]
        if f["key_id"] and f["key_tag"] is not None
    }
    assert read
    for row in rows:
        assert row["key_tag"] == read.get((row["zone"], row["key_id"])), row
    assert any(row["key_tag"] is not None for row in rows)
    table = runner.invoke(main, ["rollovers", "--demo", "--all"], env=env).stdout
    assert table.splitlines()[0].split()[:6] == [
        "next_rollover",
        "state",
        "server",
        "zone",
        "key_type",
        "key_tag",
    ]


def test_a_scan_reads_no_export_from_a_jea_endpoint() -> None:
    """A fleet scan hands the audit the host's own Remote, so it knows the endpoint is JEA."""
    from toolkit import jsontext
    from toolkit.fleet import HostSpec
    from toolkit.remote import MockRemote
    from toolkit.services.scan import Scanner, ScanOptions

    capture = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "demo-dns1" / "inventory.json"
    answer = jsontext.loads(capture.read_text())
    seen: list[str] = []

    def handler(script: str, params: Any) -> Any:
        seen.append(script)
        return answer

    def connector(spec: HostSpec) -> MockRemote:
        remote = MockRemote(handler, host=spec.name)
        remote.jea = True  # type: ignore[attr-defined]
        return remote

    scanner = Scanner((HostSpec(name="dns1", address="dns1"),), connector, options=ScanOptions(retries=0))
    (host,) = scanner.run().report.hosts
    named = [f for f in host.findings if f.target.key_id]
    assert seen == ["inventory"] and named
    assert all(f.evidence["key_tag_note"] == "not read over a JEA endpoint" for f in named)
