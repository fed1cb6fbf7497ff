"""Key tags from the zones' own DNSKEY records (``zone_dnskeys.ps1``): ZSKs get their tags without
a DNS view, one call per host reads every zone that needs them, and a zone whose read fails costs
only its own tags. Every tag is checked against the RFC 4034 key tag of the DNSKEY record itself
(dnspython's ``key_id``), never against a constant."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any

import dns.rdataclass
import dns.rdatatype
import pytest
from click.testing import CliRunner
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from toolkit.cli import main
from toolkit.dnsview import _dnssec
from toolkit.errors import CmdletError
from toolkit.model import zone_key
from toolkit.remote import connect
from toolkit.remote.base import RemoteResult
from toolkit.resources import demo_fixtures_dir
from toolkit.services.audit import audit_server, collect
from toolkit.services.key_tags import key_tags
from toolkit.testing.fake_remote import FakeRemote, open_fake
from toolkit.testing.simulator import Fleet

ALGORITHMS = {"RsaSha1": 5, "RsaSha1NSec3": 7, "RsaSha256": 8, "RsaSha512": 10}
ALGORITHMS |= {"ECDsaP256Sha256": 13, "ECDsaP384Sha384": 14}


def _rfc4034_tag(record: Mapping[str, Any]) -> int:
    data = record["RecordData"]
    rdata = DNSKEY(  # type: ignore[no-untyped-call]
        dns.rdataclass.IN,
        dns.rdatatype.DNSKEY,
        int(data["KeyFlags"]),
        3,
        ALGORITHMS[data["CryptoAlgorithm"]],
        base64.b64decode(data["Base64Data"]),
    )
    return int(_dnssec.load().key_id(rdata))


def _zone_records(remote: FakeRemote, zone: str) -> list[dict[str, Any]]:
    doc = remote.run("zone_dnskeys", {"ZoneName": [zone]}).data
    (entry,) = doc["Zones"]
    assert entry["Error"] is None
    records: list[dict[str, Any]] = entry["Records"]
    return records


def _by_role(records: list[dict[str, Any]]) -> dict[str, int]:
    """KSK/ZSK -> the RFC 4034 tag of the zone's one DNSKEY of that role (SEP bit, RFC 4034 2.1.1)."""
    out: dict[str, int] = {}
    for r in records:
        role = "KSK" if int(r["RecordData"]["KeyFlags"]) & 1 else "ZSK"
        assert role not in out, records
        out[role] = _rfc4034_tag(r)
    return out


def test_the_script_reads_ksk_and_zsk_dnskeys_and_the_ksk_is_the_exported_one() -> None:
    remote = open_fake("dns1")
    records = _zone_records(remote, "corp.example")
    assert sorted(int(r["RecordData"]["KeyFlags"]) for r in records) == [256, 257]
    for r in records:
        data = r["RecordData"]
        assert data["KeyTag"] == _rfc4034_tag(r)  # the tag Windows gives is the record's own
        assert data["SecureEntryPoint"] is bool(data["KeyFlags"] & 1) and data["ZoneKey"] is True
    (exported,) = remote.run("zone_export_keys", {"ZoneName": "corp.example"}).data["Records"]
    (ksk,) = [r for r in records if r["RecordData"]["SecureEntryPoint"]]
    assert ksk["RecordData"]["Base64Data"] == exported["RecordData"]["Base64Data"]


def test_a_failing_zone_gets_its_error_and_the_others_their_records() -> None:
    doc = open_fake("dns1").run("zone_dnskeys", {"ZoneName": ["nosuch.example", "corp.example"]}).data
    missing, found = doc["Zones"]
    assert missing["Records"] == [] and missing["Error"]["Code"] == 9601
    assert missing["Error"]["Stage"] == "Get-DnsServerResourceRecord"
    assert found["Error"] is None and len(found["Records"]) == 2


def test_keys_list_shows_zsk_tags_without_dns(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "keys", "list", "-f", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    remote = open_fake("dns1")
    checked = 0
    for zone in {row["zone"] for row in rows if row["key_tag"] is not None}:
        expected = _by_role(_zone_records(remote, zone))
        for row in (row for row in rows if row["zone"] == zone):
            assert row["key_tag"] == expected[row["key_type"]] and row["key_tag_note"] is None
            checked += row["key_type"] == "ZSK"
    assert checked >= 3  # corp, ecdsa, legacy, nsec3 and noksk have ZSKs


def test_an_audit_reads_all_tags_in_one_call_per_host() -> None:
    fleet = Fleet.load(demo_fixtures_dir())
    hosts = 0
    for sim in fleet:
        remote = FakeRemote(sim)
        report = audit_server(remote)
        named = [f for f in report.findings if f.target.key_id]
        if report.inventory is None or not named:
            continue
        hosts += 1
        scripts = [c.script for c in remote.calls]
        assert scripts.count("zone_dnskeys") == 1 and "zone_export_keys" not in scripts, scripts
        (call,) = [c for c in remote.calls if c.script == "zone_dnskeys"]
        assert {zone_key(z) for z in call.params["ZoneName"]} <= {
            zone_key(f.target.zone or "") for f in named
        }
        keys = {(zone_key(k.zone), k.key_id) for k in report.inventory.iter_keys()}
        for f in named:
            if (zone_key(f.target.zone or ""), f.target.key_id) in keys and f.evidence["key_tag"] is not None:
                tags = _by_role(_zone_records(FakeRemote(sim), f.target.zone or ""))
                assert f.evidence["key_tag"] == tags[f.evidence["key_type"]]
    assert hosts >= 1
    # the demo's dns1 has a ZSK finding whose tag is now known
    report = audit_server(open_fake("dns1"))
    assert any(f.evidence.get("key_type") == "ZSK" and f.evidence["key_tag"] for f in report.findings)


def test_a_zone_whose_read_fails_costs_only_its_own_tags() -> None:
    remote = open_fake("dns1")
    inv = collect(remote)
    # Get-DnsServerResourceRecord failing for one zone (access denied), as a fixture injects it
    remote.server.find_zone("corp.example")["Faults"] = {
        "Get-DnsServerResourceRecord": {"Code": 5, "Message": "Access is denied."}
    }
    tags = key_tags(remote, inv)
    assert [c.script for c in remote.calls].count("zone_dnskeys") == 1
    corp = [t for (z, _), t in tags.items() if z == "corp.example"]
    assert corp and all(t.tag is None for t in corp)
    # the note says why: the cmdlet's message and Win32 code
    assert all(t.note == "DNSKEY read failed: Access is denied. (Win32 5)" for t in corp)
    others = {z: t for (z, _), t in tags.items() if z == "ecdsa.corp.example"}
    assert others and all(t.tag is not None for t in others.values())


class _ExportFails(FakeRemote):
    """A server whose DS export fails (its DNSKEY records still read)."""

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        if script == "zone_export_keys":
            raise CmdletError("Access is denied.", cmdlet="Export-DnsServerDnsSecPublicKey")
        return super().run(script, params)


def test_ds_come_from_the_export_and_its_failure_keeps_the_tags() -> None:
    remote = open_fake("dns1")
    inv = collect(remote)
    tags = key_tags(remote, inv, ["corp.example"], digests=["Sha256"])
    exports = [c for c in remote.calls if c.script == "zone_export_keys"]
    assert [c.params for c in exports] == [{"ZoneName": "corp.example", "DigestType": ["Sha256"]}]
    (ds,) = remote.run("zone_export_keys", exports[0].params).data["Records"]
    (ksk,) = [t for t in tags.values() if t.ds]
    assert ksk.tag == ds["RecordData"]["KeyTag"] and ksk.ds[0].digest == ds["RecordData"]["Digest"]
    again = key_tags(_ExportFails(remote.server), inv, ["corp.example"], digests=["Sha256"])
    assert {k: t.tag for k, t in again.items()} == {k: t.tag for k, t in tags.items()}
    assert all(not t.ds and (t.note or "").startswith("DS export failed: ") for t in again.values())


def test_a_failed_call_leaves_every_tag_unknown_with_the_reason() -> None:
    from toolkit.errors import RemoteError

    remote = open_fake("dns1")
    inv = collect(remote)
    remote.fail_with = RemoteError("connection reset")
    tags = key_tags(remote, inv)
    signed = [t for (z, _), t in tags.items() if z != "staging.corp.example"]
    assert signed and all(t.tag is None and "connection reset" in (t.note or "") for t in signed)


# -- over the loopback WinRM endpoint ---------------------------------------------------------
@pytest.fixture(scope="module")
def endpoint() -> Iterator[Any]:
    from toolkit.testing.fakeserver import FakeWinrmServer

    with FakeWinrmServer(Fleet.load(demo_fixtures_dir()), receive_wait=2.0) as server:
        yield server


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_zsk_tags_over_the_loopback_endpoint(endpoint: Any, transport: str) -> None:
    expected = key_tags(open_fake("dns1"), collect(open_fake("dns1")))
    with connect(endpoint.connection_options("DNS1.corp.example"), transport) as remote:
        got = key_tags(remote, collect(remote))
    assert got == expected
    assert any(t.tag is not None for (z, k), t in got.items() if z == "corp.example")
    records = _zone_records(open_fake("dns1"), "corp.example")
    zsk = next(r for r in records if not int(r["RecordData"]["KeyFlags"]) & 1)
    assert _rfc4034_tag(zsk) in {t.tag for t in got.values()}


def test_keys_list_over_psrp_shows_zsk_tags(endpoint: Any, runner: CliRunner) -> None:
    o = endpoint.connection_options("DNS1.corp.example")
    assert not o.ssl  # the loopback endpoint here speaks plain HTTP
    argv = ["--transport", "psrp", "--server", o.host, "--port", str(o.port), "--no-ssl"]
    argv += ["--auth", "ntlm", "--username", o.username, "keys", "list", "-f", "json"]
    r = runner.invoke(main, argv, env={"WINDNS_PASSWORD": o.password})
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    expected = _by_role(_zone_records(open_fake("dns1"), "corp.example"))
    corp = {row["key_type"]: row["key_tag"] for row in rows if row["zone"] == "corp.example"}
    assert corp == expected and set(corp) == {"KSK", "ZSK"}
