"""The inventory's self-check: a document that lost zones or keys is refused, never clean.

The answers come from the simulator through FakeRemote (as a scan gets them) and are then
tampered with the way a broken script would: zones dropped but counts kept, a key row lost, the
named-zones branch taken for a full audit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.errors import CmdletError, ProtocolError
from toolkit.findings import EXIT_INCOMPLETE, Severity
from toolkit.fleet import HostSpec
from toolkit.normalise import normalise_inventory
from toolkit.normalise.selfcheck import ALL_ZONES, NOT_ASKED, check_answer
from toolkit.remote import RemoteResult
from toolkit.services.audit import collect
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

Doc = dict[str, Any]


def _answer(fleet: Fleet, server: str = "dns1", params: Mapping[str, Any] | None = None) -> Doc:
    data = FakeRemote(fleet.get(server)).run("inventory", params or {}).data
    assert isinstance(data, dict)
    return data


def _drop_zones(doc: Doc) -> None:
    doc["Zones"] = []
    doc["Keys"] = {name: [] for name in doc["Keys"]}


def _drop_key_row(doc: Doc) -> None:
    doc["Keys"] = {name: values[1:] for name, values in doc["Keys"].items()}
    doc["Check"]["KeyRowsEmitted"] -= 1  # the emitted count agrees; the zone's KeysListed does not


def _named_branch_for_full_audit(doc: Doc) -> None:
    # what inventory.ps1 printed with the old `if (@($ZoneName).Count -gt 0)` had its Request
    # been derived from the same wrong condition
    _drop_zones(doc)
    doc["Request"] = {"AllZones": False, "ZoneName": []}
    doc["Check"].update(ZonesListed=None, PrimaryZonesListed=None, ZonesEmitted=0, KeyRowsEmitted=0)


def _lose_a_primary(doc: Doc) -> None:
    z = next(z for z in doc["Zones"] if z["ZoneType"] == "Primary" and not z.get("KeysListed"))
    z["ZoneType"] = "Secondary"


def test_a_true_answer_passes(fleet: Fleet) -> None:
    doc = _answer(fleet)
    check_answer(doc, asked=ALL_ZONES)
    inv = normalise_inventory(doc, asked=ALL_ZONES)
    assert len(inv.zones) == doc["Check"]["ZonesListed"] == len(fleet.get("dns1").state["Zones"]) > 0
    assert sum(len(z.keys) for z in inv.zones) == doc["Check"]["KeyRowsEmitted"] > 0


def test_named_zones_answer_passes(fleet: Fleet) -> None:
    doc = _answer(fleet, params={"ZoneName": ["corp.example", "nothere.example"]})
    assert doc["Request"] == {"AllZones": False, "ZoneName": ["corp.example", "nothere.example"]}
    inv = normalise_inventory(doc, asked=["corp.example", "nothere.example"])
    assert [z.name for z in inv.zones] == ["corp.example", "nothere.example"]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_drop_zones, r"the server listed \d+ zones, the inventory holds 0"),
        (_drop_key_row, r"the server listed \d+ signing keys? for [\w.]+, the inventory holds \d+"),
        (_named_branch_for_full_audit, "every zone was asked for, but the script answered for named zones"),
        (_lose_a_primary, r"the server listed \d+ primary zones, the inventory holds \d+"),
        (lambda d: d["Zones"].pop(), r"the server listed (\d+) zones, the inventory holds (?!\1)\d+"),
        (
            lambda d: d["Check"].update(ZonesEmitted=99),
            r"the script emitted 99 zones, the inventory holds \d+",
        ),
        (lambda d: d.pop("Check"), "Check is None, not an object of counts"),
        (lambda d: d["Check"].update(ZonesListed="41"), "Check.ZonesListed is '41', not a count"),
        (lambda d: d["Check"].update(ZonesListed=True), "Check.ZonesListed is True, not a count"),
        (lambda d: d.update(Request={"AllZones": "yes"}), "Request is .* not {AllZones, ZoneName}"),
    ],
)
def test_a_tampered_answer_is_refused_naming_the_mismatch(
    fleet: Fleet, tamper: Callable[[Doc], object], message: str
) -> None:
    doc = _answer(fleet)
    tamper(doc)
    with pytest.raises(ProtocolError, match=message) as info:
        normalise_inventory(doc, source="dns1:inventory", asked=ALL_ZONES)
    assert str(info.value).startswith("dns1:inventory: self-check failed: ")
    assert "\n" not in str(info.value)


def test_a_live_answer_must_carry_the_self_check(fleet: Fleet) -> None:
    doc = _answer(fleet)
    del doc["Request"], doc["Check"]
    with pytest.raises(ProtocolError, match="carries no Request/Check"):
        check_answer(doc, asked=ALL_ZONES)
    # a file or stored scan written before the self-check existed still reads
    check_answer(doc, asked=NOT_ASKED)
    assert normalise_inventory(doc).zones


def test_the_names_answered_must_be_the_names_asked(fleet: Fleet) -> None:
    doc = _answer(fleet, params={"ZoneName": ["corp.example"]})
    with pytest.raises(ProtocolError, match="are not the zones the script was given"):
        check_answer(doc, asked=["ecdsa.corp.example"])
    with pytest.raises(ProtocolError, match="1 zone were named, but the script listed every zone"):
        check_answer(_answer(fleet), asked=["corp.example"])
    check_answer(doc, asked=["CORP.example."])  # compared as Windows compares zone names


def test_a_stored_scan_is_not_checked_again(fleet: Fleet) -> None:
    doc = _answer(fleet)
    _drop_zones(doc)
    assert normalise_inventory(doc, self_check=False).zones == ()


class _Tampering:
    """A Remote whose inventory answers are tampered with after the simulator printed them."""

    def __init__(self, inner: FakeRemote, tamper: Callable[[Doc], object]) -> None:
        self.inner, self.tamper, self.host = inner, tamper, inner.host

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        result = self.inner.run(script, params)
        data = copy.deepcopy(result.data)
        self.tamper(data)
        return RemoteResult(script=script, data=data, raw=json.dumps(data))

    def close(self) -> None:
        pass

    def __enter__(self) -> _Tampering:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_collect_refuses_a_dropped_answer(fleet: Fleet) -> None:
    remote = _Tampering(FakeRemote(fleet.get("dns1")), _drop_zones)
    with pytest.raises(ProtocolError, match="the inventory holds 0"):
        collect(remote)


def test_a_fleet_scan_marks_the_host_failed_and_keeps_the_others(fleet: Fleet) -> None:
    def connector(spec: HostSpec) -> Any:
        inner = FakeRemote(fleet.get(spec.name), host=spec.name)
        return _Tampering(inner, _drop_zones) if spec.name == "dns2" else inner

    hosts = [HostSpec(name=n, address=n, transport="fake") for n in ("dns1", "dns2")]
    report = Scanner(hosts, connector, options=ScanOptions(concurrency=2, retries=0)).run().report
    by = {h.server: h for h in report.hosts}
    assert by["dns1"].ok and by["dns1"].inventory is not None
    failed = by["dns2"]
    assert not failed.ok and failed.error is not None and failed.error.kind == "protocol"
    assert "self-check failed" in failed.error.message and "the inventory holds 0" in failed.error.message
    assert report.exit_code(Severity.INFO) == EXIT_INCOMPLETE


def test_audit_offline_refuses_a_dropped_document_in_one_line(fleet: Fleet, tmp_path: Path) -> None:
    doc = _answer(fleet)
    _drop_zones(doc)
    path = tmp_path / "dropped.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", "--offline", str(path)])
    assert r.exit_code == EXIT_INCOMPLETE and r.stdout == ""
    (line,) = r.stderr.strip().splitlines()
    assert "self-check failed" in line and "the inventory holds 0" in line and "Traceback" not in line


def test_a_server_without_zones_is_said_to_have_none(fleet: Fleet, tmp_path: Path) -> None:
    server = fleet.get("dns1")
    server.state["Zones"] = []
    doc = _answer(fleet)
    assert doc["Check"]["ZonesListed"] == 0
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", "--offline", str(path), "--format", "json"])
    assert r.exit_code in (0, 1), r.stderr
    ids = {f["rule_id"] for f in json.loads(r.stdout)["findings"]}
    assert "SRV004" in ids


def test_a_key_that_cannot_be_projected_costs_its_zone_an_error_not_the_host(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inventory.ps1 records KeysListed only after every key was projected (its mirror, the same):
    a projection that throws inside the zone's try leaves that zone's error and no count, so the
    self-check still passes and every other zone is audited."""
    from toolkit.testing.simulator import projection

    real = projection.convert_key

    def failing(key: Any) -> dict[str, Any]:
        if str(projection.get_member(key, "ZoneName")).lower() == "corp.example":
            raise CmdletError("Cannot convert value to type System.Int64.")
        return real(key)

    monkeypatch.setattr(projection, "convert_key", failing)
    doc = _answer(fleet)
    (corp,) = [z for z in doc["Zones"] if z["ZoneName"] == "corp.example"]
    assert "KeysListed" not in corp and corp["Errors"][0]["Stage"] == "Get-DnsServerSigningKey"
    assert any("KeysListed" in z for z in doc["Zones"] if z["ZoneName"] != "corp.example")
    inv = normalise_inventory(doc, asked=ALL_ZONES)
    zone = inv.zone("corp.example")
    assert zone is not None and zone.errors and len(inv.zones) == doc["Check"]["ZonesListed"]
