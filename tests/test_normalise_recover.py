"""A bad value in an inventory document costs its record, not the host.

Odd server output (a key length printed as text, an enum as a number) becomes an error of its
zone (rule ZONE002) or of the server (rule SRV003) naming the JSON path and the value; every
other zone is normalised and audited. A document whose structure is wrong is still one
NormaliseError for the host. Checked on the normaliser (both paths) and through the CLI.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.test_normalise import schema_example
from toolkit.cli import main
from toolkit.errors import NormaliseError
from toolkit.model import ServerDnssecSettings, ServerInventory, ZoneError
from toolkit.normalise import dump_inventory, load_file, normalise_document, normalise_inventory
from toolkit.normalise.inventory import (
    STAGE_ANCHORS,
    STAGE_ERRORS,
    STAGE_KEYS,
    STAGE_POINTS,
    STAGE_SERVER_SETTINGS,
    STAGE_SETTINGS,
    STAGE_ZONE,
)
from toolkit.policy import load_policy
from toolkit.rules import evaluate


def example(zones: int = 3) -> dict[str, Any]:
    """The schema example with ``zones`` copies of its signed zone (z0.example, z1.example, ...)."""
    doc = schema_example()
    template = doc["Zones"][0]
    doc["Zones"] = []
    for i in range(zones):
        z = copy.deepcopy(template)
        name = f"z{i}.example"
        z["ZoneName"] = z["DnsSecSetting"]["ZoneName"] = name
        ksk = dict(z["SigningKeys"][0], ZoneName=name)
        zsk = dict(ksk, KeyType="ZoneSigningKey", KeyId=f"00000000-0000-0000-0000-00000000000{i}")
        z["SigningKeys"] = [ksk, zsk]
        doc["Zones"].append(z)
    return doc


def assert_round_trip(inv: ServerInventory) -> None:
    assert normalise_inventory(json.loads(json.dumps(dump_inventory(inv)))) == inv


def only_error(errors: tuple[ZoneError, ...], stage: str) -> ZoneError:
    (err,) = errors
    assert err.stage == stage and err.code is None
    return err


# -- inside a zone --------------------------------------------------------------------------------
def test_bad_key_value_becomes_an_error_of_its_zone_only() -> None:
    doc = example()
    good = normalise_inventory(copy.deepcopy(doc))
    doc["Zones"][1]["SigningKeys"][0]["KeyLength"] = "huge"
    inv = normalise_inventory(doc)

    assert [z.name for z in inv.zones] == [z.name for z in good.zones]
    assert inv.zones[0] == good.zones[0] and inv.zones[2] == good.zones[2]
    zone = inv.zones[1]
    err = only_error(zone.errors, STAGE_KEYS)
    assert err.message == '$.Zones[1].SigningKeys[0].KeyLength: expected an integer, got "huge"'
    assert err.zone == "z1.example"
    # Only the bad key is left out; the zone's other key and its settings stay.
    assert zone.keys == good.zones[1].keys[1:] and zone.dnssec == good.zones[1].dnssec
    assert_round_trip(inv)


def test_bad_settings_value_leaves_the_settings_out() -> None:
    doc = example()
    doc["Zones"][0]["DnsSecSetting"]["NSec3Iterations"] = "many"
    inv = normalise_inventory(doc)
    zone = inv.zones[0]
    err = only_error(zone.errors, STAGE_SETTINGS)
    assert err.message == '$.Zones[0].DnsSecSetting.NSec3Iterations: expected an integer, got "many"'
    assert zone.dnssec is None and len(zone.keys) == 2
    assert all(z.dnssec is not None and not z.errors for z in inv.zones[1:])
    assert_round_trip(inv)


def test_bad_zone_property_leaves_the_zone_type_unknown_and_keeps_its_records() -> None:
    doc = example()
    doc["Zones"][2]["ZoneType"] = 1
    inv = normalise_inventory(doc)
    zone = inv.zones[2]
    err = only_error(zone.errors, STAGE_ZONE)
    assert err.message.startswith("$.Zones[2].ZoneType: numeric value 1 for ZoneType")
    assert not zone.zone_type.is_known and zone.is_signed is None and zone.replication_scope is None
    assert len(zone.keys) == 2 and zone.dnssec is not None
    assert_round_trip(inv)


def test_bad_recorded_error_is_replaced_by_one_naming_it() -> None:
    doc = example()
    doc["Zones"][0]["Errors"] = [
        {"Stage": "Get-DnsServerSigningKey", "Code": 9107, "Message": "denied"},
        {"Stage": "Get-DnsServerZone", "Code": "x", "Message": "?"},
    ]
    zone = normalise_inventory(doc).zones[0]
    first, second = zone.errors
    assert first.code == 9107 and first.stage == "Get-DnsServerSigningKey"
    assert second.stage == STAGE_ERRORS
    assert second.message == '$.Zones[0].Errors[1].Code: expected an integer, got "x"'


def test_several_bad_records_in_one_zone_each_get_an_error() -> None:
    doc = example()
    zone = doc["Zones"][0]
    zone["SigningKeys"][0]["CryptoAlgorithm"] = 8
    zone["SigningKeys"][1]["KeyId"] = "not-a-guid"
    zone["DnsSecSetting"]["IsSigned"] = "perhaps"
    inv = normalise_inventory(doc)
    errors = inv.zones[0].errors
    assert [e.stage for e in errors] == [STAGE_SETTINGS, STAGE_KEYS, STAGE_KEYS]
    assert [e.message.split(":")[0] for e in errors] == [
        "$.Zones[0].DnsSecSetting.IsSigned",
        "$.Zones[0].SigningKeys[0].CryptoAlgorithm",
        "$.Zones[0].SigningKeys[1].KeyId",
    ]
    assert inv.zones[0].keys == () and inv.zones[0].dnssec is None
    assert_round_trip(inv)


# -- server-level records -------------------------------------------------------------------------
def test_bad_trust_anchor_and_point_are_dropped_with_a_server_error() -> None:
    doc = example()
    anchor = doc["TrustAnchors"][0]
    doc["TrustAnchors"] = [dict(anchor, KeyTag="x"), dict(anchor, TrustAnchorName="other.example.")]
    point = doc["TrustPoints"][0]
    doc["TrustPoints"] = [dict(point, TrustPointState=5), dict(point, TrustPointName="other.example.")]
    inv = normalise_inventory(doc)
    assert [a.name for a in inv.trust_anchors] == ["other.example."]
    assert [p.name for p in inv.trust_points] == ["other.example."]
    ta, tp = inv.errors
    assert ta.stage == STAGE_ANCHORS and tp.stage == STAGE_POINTS
    assert ta.message == '$.TrustAnchors[0].KeyTag: expected an integer, got "x"'
    assert tp.message.startswith("$.TrustPoints[0].TrustPointState: numeric value 5 ")
    assert ta.zone is None and len(inv.zones) == 3
    assert_round_trip(inv)


def test_bad_server_setting_leaves_the_settings_unknown() -> None:
    doc = example()
    doc["Server"]["Settings"]["EnableDnsSec"] = "maybe"
    inv = normalise_inventory(doc)
    assert inv.server.name == "DNS1" and inv.server.dns_version == "10.0.20348"
    assert inv.server.settings == ServerDnssecSettings()
    err = only_error(inv.errors, STAGE_SERVER_SETTINGS)
    assert err.message == '$.Server.Settings.EnableDnsSec: expected true or false, got "maybe"'
    assert len(inv.zones) == 3
    assert_round_trip(inv)


# -- structure is still one error for the host ----------------------------------------------------
def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return change


def _duplicate(doc: dict[str, Any]) -> None:
    doc["Zones"].append(copy.deepcopy(doc["Zones"][0]))


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (_set(("Schema",), "other"), "$.Schema"),
        (_set(("SchemaVersion",), "1"), "$.SchemaVersion"),
        (_drop(("Server",)), "$.Server"),
        (_set(("Server",), "DNS1"), "$.Server"),
        (_drop(("Server", "ComputerName")), "$.Server.ComputerName"),
        (_set(("Zones",), "z0.example"), "$.Zones"),
        (_set(("Zones",), 3), "$.Zones"),
        (_set(("TrustAnchors",), "none"), "$.TrustAnchors"),
        (_set(("Zones", 1), "z1.example"), "$.Zones[1]"),
        (_drop(("Zones", 1, "ZoneName")), "$.Zones[1].ZoneName"),
        (_set(("Zones", 1, "ZoneName"), " "), "$.Zones[1].ZoneName"),
        (_duplicate, "$.Zones[3].ZoneName"),
        (_set(("CollectedAt",), "yesterday"), "$.CollectedAt"),
    ],
)
def test_broken_structure_is_one_error_for_the_host(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    doc = example()
    change(doc)
    with pytest.raises(NormaliseError) as info:
        normalise_inventory(doc, source="dns1:inventory")
    assert info.value.path == path and str(info.value).startswith(f"dns1:inventory: {path}: ")


def test_not_json_and_truncated_files_are_one_error(tmp_path: Path) -> None:
    text = json.dumps(example())
    for name, content in (("cut.json", text[: len(text) // 2]), ("text.json", "Access is denied.")):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(NormaliseError, match="not valid JSON"):
            load_file(path)


def test_raw_cmdlet_output_stays_strict() -> None:
    # An admin's saved cmdlet output is read record by record with no inventory around it.
    keys = [dict(k, KeyLength="huge") for k in schema_example()["Zones"][0]["SigningKeys"]]
    with pytest.raises(NormaliseError) as info:
        normalise_document(keys)
    assert info.value.path == "$[0].KeyLength"


# -- rules ------------------------------------------------------------------------------------------
def test_rules_report_the_errors_and_do_not_judge_unread_keys() -> None:
    doc = example()
    doc["Zones"][0]["SigningKeys"][1]["KeyLength"] = "huge"  # the zone's only ZSK
    doc["TrustAnchors"][0]["KeyTag"] = "x"
    findings, _ = evaluate(normalise_inventory(doc), load_policy())
    by_zone = {(f.rule_id, f.target.zone) for f in findings}
    assert ("ZONE002", "z0.example") in by_zone
    # The ZSK was not read, not missing: no "no ZSK" finding for that zone.
    assert not any(f.target.zone == "z0.example" and f.rule_id.startswith("KEY") for f in findings)
    srv = [f for f in findings if f.rule_id == "SRV003"]
    assert len(srv) == 1 and "$.TrustAnchors[0].KeyTag" in srv[0].message and '"x"' in srv[0].message
    zone002 = next(f for f in findings if f.rule_id == "ZONE002")
    assert "$.Zones[0].SigningKeys[1].KeyLength" in zone002.message and '"huge"' in zone002.message


# -- through the CLI ------------------------------------------------------------------------------
def audit_json(runner: CliRunner, fixtures: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    r = runner.invoke(
        main,
        ["--transport", "fake", "--fixtures", str(fixtures), "--server", "dns1", "audit", "--format", "json",
         *extra],
    )  # fmt: skip
    assert "Traceback" not in r.output + r.stderr
    return r.exit_code, json.loads(r.stdout)


def findings_by_zone(report: dict[str, Any]) -> dict[str | None, set[tuple[str, str]]]:
    out: dict[str | None, set[tuple[str, str]]] = {}
    for f in report["findings"]:
        out.setdefault(f["zone"], set()).add((f["rule_id"], f["message"]))
    return out


def expected_exit(report: dict[str, Any], fail_on: str) -> int:
    order = ["info", "low", "medium", "high", "critical"]
    worst = max((order.index(f["severity"]) for f in report["findings"]), default=-1)
    return 1 if worst >= order.index(fail_on) else 0


def dns1(fixtures: Path) -> dict[str, Any]:
    return json.loads((fixtures / "dns1.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def tamper_inventory(monkeypatch: pytest.MonkeyPatch, tamper: Callable[[dict[str, Any]], None]) -> None:
    """Every inventory answer of the fake transport changed by ``tamper`` on its way to the toolkit.

    A bad value has to be put in the answer, not in the fixture: the simulator runs the script's
    own projection (``[long]$Key.KeyLength``, ``[bool]...``), so a value a cmdlet could never return
    would fail the way the script fails, or be cast, and never reach the document as it is."""
    from toolkit import jsontext
    from toolkit.remote import RemoteResult
    from toolkit.testing.fake_remote import FakeRemote

    real = FakeRemote.run

    def run(self: FakeRemote, script: str, params: Any = None) -> RemoteResult:
        result = real(self, script, params)
        if script != "inventory":
            return result
        data = copy.deepcopy(result.data)
        tamper(data)
        return RemoteResult(script=script, data=data, raw=jsontext.dumps(data), elapsed=result.elapsed)

    monkeypatch.setattr(FakeRemote, "run", run)


def _first_key_row(doc: dict[str, Any], zone: str) -> int:
    return next(i for i, name in enumerate(doc["Keys"]["ZoneName"]) if name == zone)


@pytest.mark.parametrize(
    ("where", "value", "rule"),
    [
        ("key", "huge", "ZONE002"),
        ("settings", "many", "ZONE002"),
        ("anchor", "x", "SRV003"),
        ("server", "maybe", "SRV003"),
    ],
)
@pytest.mark.parametrize("fail_on", ["high", "critical"])
def test_audit_keeps_every_other_zone(
    runner: CliRunner,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    value: str,
    rule: str,
    fail_on: str,
) -> None:
    _, before = audit_json(runner, demo_dir, "--fail-on", fail_on)
    fixture = dns1(demo_dir)
    zone = next(z for z in fixture["Zones"] if z.get("SigningKeys") and z.get("DnsSecSetting"))
    name = {"key": "KeyLength", "settings": "NSec3Iterations", "anchor": "KeyTag", "server": "EnableDnsSec"}[
        where
    ]
    member = (None, name)

    def tamper(doc: dict[str, Any]) -> None:
        if where == "key":
            doc["Keys"]["KeyLength"][_first_key_row(doc, zone["ZoneName"])] = value
        elif where == "settings":
            entry = next(z for z in doc["Zones"] if z["ZoneName"] == zone["ZoneName"])
            entry["DnsSecSetting"]["NSec3Iterations"] = value
        elif where == "anchor":
            doc["TrustAnchors"][0]["KeyTag"] = value
        else:
            doc["Server"]["Settings"]["EnableDnsSec"] = value

    tamper_inventory(monkeypatch, tamper)
    code, after = audit_json(runner, demo_dir, "--fail-on", fail_on)
    assert after["hosts"][0]["ok"] and after["summary"]["zones"] == before["summary"]["zones"]
    new = [f for f in after["findings"] if f["rule_id"] == rule and f'"{value}"' in f["message"]]
    assert len(new) == 1 and f".{member[1]}: " in new[0]["message"]
    assert new[0]["zone"] == (zone["ZoneName"] if rule == "ZONE002" else None)
    # Every zone but the bad one has exactly the findings it had.
    bad_zone = zone["ZoneName"] if rule == "ZONE002" else None
    old, now = findings_by_zone(before), findings_by_zone(after)
    for name in set(old) | set(now):
        if name not in (bad_zone, None):
            assert now.get(name) == old.get(name), name
    assert code == expected_exit(after, fail_on)


def test_offline_inventory_with_a_bad_value_is_audited(runner: CliRunner, tmp_path: Path) -> None:
    doc = example()
    doc["Zones"][1]["SigningKeys"][0]["KeyLength"] = "huge"
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = runner.invoke(main, ["audit", "--offline", str(path), "--format", "json"])
    report = json.loads(r.stdout)
    assert report["summary"]["zones"] == 3 and report["hosts"][0]["ok"]
    assert any(f["rule_id"] == "ZONE002" and f["zone"] == "z1.example" for f in report["findings"])
    assert r.exit_code == expected_exit(report, "high") == 1


def test_keys_list_of_a_zone_with_a_key_left_out_says_so(
    runner: CliRunner, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = dns1(demo_dir)
    zone = next(z for z in doc["Zones"] if len(z.get("SigningKeys") or ()) >= 2)

    def tamper(answer: dict[str, Any]) -> None:
        answer["Keys"]["KeyLength"][_first_key_row(answer, zone["ZoneName"])] = "huge"

    tamper_inventory(monkeypatch, tamper)
    r = runner.invoke(
        main,
        ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns1", "keys", "list", "--format",
         "json", "--zone", zone["ZoneName"]],
    )  # fmt: skip
    rows = json.loads(r.stdout)
    assert len(rows) == len(zone["SigningKeys"]) - 1  # the readable key is still listed
    assert r.exit_code == 2 and "KeyLength" in r.stderr and '"huge"' in r.stderr


def test_malformed_inventory_is_a_host_error(runner: CliRunner, demo_dir: Path) -> None:
    # A simulated server that reports one zone twice: the document itself is wrong.
    doc = dns1(demo_dir)
    doc["Zones"].append(copy.deepcopy(doc["Zones"][0]))
    (demo_dir / "dns1.json").write_text(json.dumps(doc), encoding="utf-8")
    code, report = audit_json(runner, demo_dir)
    (host,) = report["hosts"]
    assert code == 2 and not host["ok"] and report["findings"] == []
    assert f"$.Zones[{len(doc['Zones']) - 1}].ZoneName" in json.dumps(host["error"])
