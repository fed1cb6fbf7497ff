"""toolkit.normalise: our inventory document, raw PS 5.1/7 cmdlet output, files, errors."""

from __future__ import annotations

import codecs
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import toolkit.normalise as normalise
from tests.inventory_docs import without_self_check
from toolkit.errors import CmdletError, NormaliseError
from toolkit.model import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyType,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
    ZoneType,
)
from toolkit.normalise import (
    dump_inventory,
    load_file,
    normalise_document,
    normalise_inventory,
    signing_key_from_json,
    trust_anchor_from_json,
    zone_from_json,
)
from toolkit.testing.simulator import Fleet

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "fixtures" / "raw"
KSK_ID = "9a1f3c52-6b7e-4d21-8c0a-5e2f7d913b64"
ZSK_ID = "3e8b2a17-c4d5-4f60-9e1b-72a0d5c6f8e3"


def documented_example() -> dict[str, Any]:
    """The JSON example in docs/inventory-schema.md (schema 2: the keys in the key table)."""
    text = (ROOT / "docs" / "inventory-schema.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block is not None
    doc: dict[str, Any] = json.loads(block.group(1))
    return doc


def schema_example() -> dict[str, Any]:
    """The documented example in schema 1's shape (each zone's keys in its ``SigningKeys``), the
    shape most tests here change a key in."""
    from tests.inventory_docs import nested

    return nested(documented_example())


def raw(name: str) -> Any:
    """A fixture file's JSON, decoded the way load_file does."""
    from toolkit.normalise.files import parse_bytes

    return parse_bytes((RAW / name).read_bytes(), name=name)


def error_of(fn: Any, *args: Any, **kw: Any) -> NormaliseError:
    with pytest.raises(NormaliseError) as info:
        fn(*args, **kw)
    return info.value


def test_public_api_is_sorted_and_complete() -> None:
    assert normalise.__all__ == sorted(normalise.__all__)
    for name in (
        "normalise_inventory",
        "normalise_document",
        "load_file",
        "dump_inventory",
        "signing_key_from_json",
        "zone_settings_from_json",
        "zone_from_json",
        "trust_anchor_from_json",
        "trust_point_from_json",
        "server_info_from_json",
    ):
        assert callable(getattr(normalise, name)), name


# -- the fixtures are what the README says --------------------------------------------------------
def test_ps51_key_file_is_utf16_with_the_51_layout() -> None:
    data = (RAW / "ps51-signing-keys.json").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    text = data[2:].decode("utf-16-le")
    assert '"KeyId":  "' in text and "\r\n" in text  # two spaces after the colon, CRLF
    assert "\\/Date(" in text and "\\u0027" in text and "\\u0026" in text
    assert '"TotalDays":  755,' in text  # whole doubles without .0 (JavaScriptSerializer)
    assert "CimInstanceProperties" in text and '"PSComputerName":  "DNS1"' in text


def test_ps7_key_file_is_utf8_with_the_7_layout() -> None:
    data = (RAW / "ps7-signing-keys.json").read_bytes()
    assert not data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8")
    assert '"Guid": "' in text and '"TotalNanoseconds"' in text and '"TotalDays": 755.0' in text
    assert re.search(r'"NextRolloverTime": "\d{4}-\d\d-\d\dT[\d:.]+\+01:00"', text)


# -- raw cmdlet output ----------------------------------------------------------------------------
def test_ps51_keys_normalise_to_a_signable_zone() -> None:
    inv = load_file(RAW / "ps51-signing-keys.json")
    assert inv.source == "cmdlet" and inv.server.name == "DNS1"
    (zone,) = inv.zones
    assert zone.name == "contoso.com" and zone.zone_type is ZoneType.PRIMARY and zone.is_signed is None
    ksk, zsk = zone.keys
    assert (ksk.key_id, ksk.key_type, ksk.algorithm, ksk.key_length) == (
        KSK_ID,
        KeyType.KSK,
        CryptoAlgorithm.RSASHA256,
        2048,
    )
    assert (zsk.key_id, zsk.key_type, zsk.key_length) == (ZSK_ID, KeyType.ZSK, 1024)
    assert ksk.rollover_period == timedelta(days=755) and zsk.rollover_period == timedelta(days=90)
    assert ksk.dnskey_signature_validity == timedelta(days=7)
    assert zsk.zone_signature_validity == timedelta(days=10)
    assert ksk.next_rollover_time == datetime(2028, 12, 18, 10, 0, 0, 523000, tzinfo=UTC)
    assert ksk.last_rollover_time is None
    assert zsk.rollover_type is RolloverType.PREPUBLISH  # PS prints PrePublish
    assert ksk.active_key == "{68550441-8E4D-4D99-921C-BC1807FFF7ED}" and ksk.standby_key is None
    assert ksk.is_rollover_enabled is True and ksk.store_keys_in_ad is True


def test_ps51_and_ps7_keys_are_equal() -> None:
    a = load_file(RAW / "ps51-signing-keys.json")
    b = load_file(RAW / "ps7-signing-keys.json")
    assert len(a.zones[0].keys) == 2
    assert a.zones[0].keys == b.zones[0].keys
    assert a == b


def test_single_key_object_is_one_key() -> None:
    assert isinstance(raw("ps51-single-key.json"), dict)
    inv = load_file(RAW / "ps51-single-key.json")
    (key,) = inv.zones[0].keys
    assert key == load_file(RAW / "ps51-signing-keys.json").zones[0].keys[0]


def test_zone_settings_51_and_7() -> None:
    a = load_file(RAW / "ps51-zone-settings.json").zones[0]
    b = load_file(RAW / "ps7-zone-settings.json").zones[0]
    assert a == b
    s = a.dnssec
    assert s is not None
    assert s.denial_of_existence is DenialOfExistence.NSEC3
    assert (s.nsec3_iterations, s.nsec3_random_salt_length, s.nsec3_user_salt) == (50, 8, None)
    assert s.ds_record_generation_algorithm == (DsDigest.SHA1, DsDigest.SHA256)  # {"value": [...]}
    assert s.distribute_trust_anchor == ("None",)
    assert s.propagation_time == timedelta(days=2) and s.secure_delegation_polling_period == timedelta(
        hours=12
    )
    assert s.is_signed is True and a.signed  # the zone learns it is signed from its settings


def test_zones_51_and_7() -> None:
    a = load_file(RAW / "ps51-zones.json")
    b = load_file(RAW / "ps7-zones.json")
    assert a == b
    by_name = {z.name: z for z in a.zones}
    assert by_name["contoso.com"].is_signed is True and by_name["contoso.com"].is_ds_integrated
    assert by_name["0.in-addr.arpa"].is_auto_created and by_name["0.in-addr.arpa"].is_reverse_lookup_zone
    secondary = by_name["partner.example"]
    assert secondary.zone_type is ZoneType.SECONDARY and secondary.is_signed is None
    assert secondary.replication_scope is None


def test_trust_anchor_algorithm_from_embedded_record_data() -> None:
    dnskey, ds = load_file(RAW / "ps51-trust-anchors.json").trust_anchors
    assert dnskey.anchor_type is TrustAnchorType.DNSKEY and dnskey.algorithm is CryptoAlgorithm.RSASHA256
    assert dnskey.digest_type is None and dnskey.key_tag == 40712
    # The DS anchor's TrustAnchorData holds its values only inside CimInstanceProperties.
    assert "DigestType" not in raw("ps51-trust-anchors.json")[1]["TrustAnchorData"]
    assert ds.anchor_type is TrustAnchorType.DS and ds.digest_type is DsDigest.SHA256
    assert ds.algorithm is CryptoAlgorithm.RSASHA256 and ds.state is TrustAnchorState.VALID


def test_trust_points() -> None:
    root, contoso = load_file(RAW / "ps7-trust-points.json").trust_points
    assert (root.name, root.state) == (".", TrustAnchorState.ACTIVE)
    assert contoso.last_active_refresh_result == 0
    assert root.next_active_refresh_time == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


def test_concatenated_cmdlet_outputs_build_one_zone() -> None:
    records = raw("ps7-zones.json") + raw("ps51-signing-keys.json") + [raw("ps51-zone-settings.json")]
    inv = normalise_document(records)
    zone = inv.zone("CONTOSO.COM.")
    assert zone is not None and zone.is_signed is True and len(zone.keys) == 2 and zone.dnssec is not None
    assert [z.name for z in inv.zones][:2] == ["contoso.com", "0.in-addr.arpa"]  # first appearance
    # The same key saved twice counts once.
    twice = normalise_document(raw("ps51-signing-keys.json") * 2)
    assert len(twice.zones[0].keys) == 2


def test_server_name_resolution() -> None:
    keys = raw("ps7-signing-keys.json")
    assert normalise_document(keys).server.name == "DNS1"
    assert normalise_document(keys, server_name="dns1.contoso.com").server.name == "dns1.contoso.com"
    bare = copy.deepcopy(keys)
    for k in bare:
        del k["PSComputerName"]
    assert normalise_document(bare).server.name == "offline"
    bare[1]["PSComputerName"] = "DNS2"
    bare[0]["PSComputerName"] = "DNS1"
    assert "more than one server" in str(error_of(normalise_document, bare))
    assert normalise_document(bare, server_name="x").server.name == "x"


def test_ps51_array_wrapper_at_top_level() -> None:
    keys = raw("ps7-signing-keys.json")
    assert len(normalise_document({"value": keys, "Count": 2}).zones[0].keys) == 2


def test_cim_instance_properties_fill_missing_members() -> None:
    key = copy.deepcopy(raw("ps7-signing-keys.json")[0])
    del key["KeyLength"], key["RolloverPeriod"]
    k = signing_key_from_json(key)
    assert k.key_length == 2048 and k.rollover_period == timedelta(days=755)
    key["CimInstanceProperties"] = "Microsoft.Management.Infrastructure.CimInstanceProperties"
    k = signing_key_from_json(key)
    assert k.key_length is None and k.rollover_period is None
    # A bad value inside CimInstanceProperties is reported at its own path.
    key = copy.deepcopy(raw("ps7-signing-keys.json")[0])
    del key["KeyLength"]
    index = next(i for i, p in enumerate(key["CimInstanceProperties"]) if p["Name"] == "KeyLength")
    key["CimInstanceProperties"][index]["Value"] = "abc"
    err = error_of(signing_key_from_json, key, "$[0]")
    assert err.path == f"$[0].CimInstanceProperties[{index}].Value"


def test_property_names_are_case_insensitive() -> None:
    s = normalise.zone_settings_from_json(
        {"ZoneName": "a.example", "DSRecordSetTTL": 3600, "nsec3iterations": 5}
    )
    assert s.ds_record_set_ttl == timedelta(hours=1) and s.nsec3_iterations == 5


def test_numeric_enum_is_an_error_naming_the_path() -> None:
    keys = raw("ps7-signing-keys.json")
    keys[1]["KeyType"] = 1
    err = error_of(normalise_document, keys)
    assert err.path == "$[1].KeyType" and "numeric" in str(err)


def test_unknown_enum_values_are_kept() -> None:
    key = {"ZoneName": "a.example", "KeyId": KSK_ID, "KeyType": "KeySigningKey", "CryptoAlgorithm": "Ed25519"}
    k = signing_key_from_json(key)
    assert not k.algorithm.is_known and k.algorithm.value == "Ed25519"


def test_unrecognised_records_and_scalars() -> None:
    assert error_of(normalise_document, [{"Foo": 1}]).path == "$[0]"
    assert error_of(normalise_document, 42).path == "$"
    assert error_of(normalise_document, [1]).path == "$[0]"
    err = error_of(normalise_document, [{"KeyId": KSK_ID, "ZoneName": "a.example"}])
    assert err.path == "$[0].KeyType" and "missing" in str(err)


# -- our inventory document -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [documented_example, schema_example])
def test_schema_example_normalises_and_dumps_back_exactly(shape: Any) -> None:
    doc = shape()
    inv = normalise_inventory(doc)
    assert inv.server.name == "DNS1" and inv.source == "inventory"
    assert inv.schema_version == doc["SchemaVersion"]
    zone = inv.zones[0]
    assert zone.keys[0].rollover_period == timedelta(seconds=65232000)
    assert zone.keys[0].key_id == "7479d44e-4b3c-4fa6-8f6c-2b1cfa3e0001" and zone.keys[0].zone == zone.name
    assert zone.dnssec is not None and zone.dnssec.nsec3_user_salt is None
    assert inv.trust_anchors[0].key_tag == 12345 and inv.trust_points[0].state is TrustAnchorState.ACTIVE
    # the self-check is a check of the answer, not part of the server's state: not dumped
    assert dump_inventory(inv) == without_self_check(doc)
    assert normalise_document(doc) == inv


def test_schema_and_version_checks() -> None:
    doc = schema_example()
    doc["SchemaVersion"] = 3
    err = error_of(normalise_inventory, doc)
    assert (
        err.path == "$.SchemaVersion" and "supported: 1 to 2" in str(err) and "version 3 is newer" in str(err)
    )
    for bad in ("1", None, 0, True):
        doc["SchemaVersion"] = bad
        assert error_of(normalise_inventory, doc).path == "$.SchemaVersion"
    doc = schema_example()
    doc["Schema"] = "other"
    assert error_of(normalise_inventory, doc).path == "$.Schema"
    assert error_of(normalise_document, doc).path == "$.Schema"


def test_error_message_names_the_path() -> None:
    doc = schema_example()
    zone = doc["Zones"][0]
    doc["Zones"] = [
        dict(zone, ZoneName=f"z{i}.example", DnsSecSetting=None, SigningKeys=[]) for i in range(3)
    ]
    bad = copy.deepcopy(zone)
    bad["SigningKeys"][0]["KeyLength"] = "abc"
    doc["Zones"].append(bad)
    expected = '$.Zones[3].SigningKeys[0].KeyLength: expected an integer, got "abc"'
    # The strict per-record reader raises it; the document reader keeps it as the zone's error.
    err = error_of(zone_from_json, bad, "$.Zones[3]")
    assert str(err) == expected and err.path == "$.Zones[3].SigningKeys[0].KeyLength"
    (unread,) = normalise_inventory(doc).zone("corp.example").errors  # type: ignore[union-attr]
    assert unread.message == expected and unread.stage == "normalise SigningKeys"
    # A structural error is still raised, labelled with the source.
    del doc["Zones"][3]["ZoneName"]
    err = error_of(normalise_inventory, doc, source="dns1:inventory")
    assert str(err) == "dns1:inventory: $.Zones[3].ZoneName: required property is missing"
    assert err.path == "$.Zones[3].ZoneName" and err.source == "dns1:inventory"


def test_zone_errors_and_missing_zone() -> None:
    doc = schema_example()
    doc["Zones"][0]["Errors"] = [
        {
            "Stage": "Get-DnsServerSigningKey",
            "Code": None,
            "Message": "Access denied",
            "FullyQualifiedErrorId": "WIN32 9107,Get-DnsServerSigningKey",
        },
    ]
    doc["Zones"].append(
        {
            "ZoneName": "gone.example",
            "ZoneType": None,
            "DnsSecSetting": None,
            "SigningKeys": [],
            "Errors": [
                {
                    "Stage": "Get-DnsServerZone",
                    "Code": 9601,
                    "Message": "not found",
                    "FullyQualifiedErrorId": "WIN32 9601,Get-DnsServerZone",
                }
            ],
        }
    )
    doc["Errors"] = [
        {"Stage": "Get-DnsServerTrustAnchor", "Code": None, "Message": None, "FullyQualifiedErrorId": None}
    ]
    inv = normalise_inventory(doc)
    (e,) = inv.zones[0].errors
    assert (e.code, e.stage, e.zone, e.message) == (
        9107,
        "Get-DnsServerSigningKey",
        "corp.example",
        "Access denied",
    )
    gone = inv.zone("gone.example")
    assert gone is not None and not gone.zone_type.is_known and gone.errors[0].code == 9601
    assert inv.errors[0].code is None and inv.errors[0].zone is None and inv.errors[0].message == ""
    dumped = dump_inventory(inv)
    assert dumped["Zones"][1]["ZoneType"] is None
    assert normalise_inventory(dumped) == inv


def test_key_of_another_zone_and_duplicate_zones_are_errors() -> None:
    doc = schema_example()
    doc["Zones"][0]["SigningKeys"][0]["ZoneName"] = "other.example"
    err = error_of(zone_from_json, doc["Zones"][0], "$.Zones[0]")
    assert err.path == "$.Zones[0].SigningKeys[0].ZoneName"
    zone = normalise_inventory(doc).zones[0]
    assert zone.keys == () and zone.errors[0].message.startswith("$.Zones[0].SigningKeys[0].ZoneName: ")
    doc = schema_example()
    doc["Zones"].append(copy.deepcopy(doc["Zones"][0]))
    assert error_of(normalise_inventory, doc).path == "$.Zones[1].ZoneName"


def test_nested_records_default_their_zone_name() -> None:
    zone = zone_from_json(
        {
            "ZoneName": "a.example",
            "ZoneType": "Primary",
            "SigningKeys": [{"KeyId": KSK_ID, "KeyType": "KSK", "CryptoAlgorithm": "RSASHA256"}],
            "DnsSecSetting": {"DenialOfExistence": "NSec"},
        }
    )
    assert zone.keys[0].zone == "a.example" and zone.keys[0].algorithm is CryptoAlgorithm.RSASHA256
    assert zone.dnssec is not None and zone.dnssec.zone == "a.example"


def test_trust_anchor_requires_its_type_and_state() -> None:
    err = error_of(
        trust_anchor_from_json, {"TrustAnchorName": "x.", "TrustAnchorType": "DS"}, "$.TrustAnchors[0]"
    )
    assert err.path == "$.TrustAnchors[0].TrustAnchorState"


def test_cmdlet_source_survives_a_dump() -> None:
    inv = load_file(RAW / "ps51-signing-keys.json")
    dumped = dump_inventory(inv)
    assert dumped["Source"] == "cmdlet" and "Source" not in dump_inventory(
        normalise_inventory(schema_example())
    )
    assert normalise_inventory(json.loads(json.dumps(dumped))) == inv


def test_demo_fleet_inventories_round_trip(fleet: Fleet) -> None:
    checked = 0
    for server in fleet.servers.values():
        try:
            doc = server.run("inventory", {})
        except CmdletError:
            continue  # a server whose whole inventory fails (DNS3: access denied)
        inv = normalise_inventory(doc)
        assert inv.server.name == server.name
        assert normalise_inventory(json.loads(json.dumps(dump_inventory(inv)))) == inv
        checked += 1
    assert checked >= 3


def test_simulated_missing_zone(fleet: Fleet) -> None:
    server = next(iter(fleet.servers.values()))
    inv = normalise_inventory(server.run("inventory", {"ZoneName": ["nowhere.example"]}))
    (zone,) = inv.zones
    assert zone.name == "nowhere.example" and zone.errors[0].code == 9601


# -- files ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (b"", "utf-8"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (b"", "utf-16-le"),  # BOM-less UTF-16 (Out-File -Encoding Unicode always adds one; others do not)
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_load_file_encodings(tmp_path: Path, bom: bytes, encoding: str) -> None:
    text = json.dumps(schema_example(), ensure_ascii=False)
    path = tmp_path / "inv.json"
    path.write_bytes(bom + text.encode(encoding))
    assert load_file(path) == normalise_inventory(schema_example())


def test_load_file_truncated_json_says_where(tmp_path: Path) -> None:
    text = (RAW / "ps7-signing-keys.json").read_text(encoding="utf-8")
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    err = error_of(load_file, path)
    message = str(err)
    assert message.startswith(str(path)) and "not valid JSON" in message
    assert re.search(r"line \d+ column \d+", message) and "\n" not in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"  \r\n", "empty"), (b"\xff\xfe\xfd\x00garbage", "text"), (b"\x80\x81abc", "UTF-8")],
)
def test_load_file_bad_bytes(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    err = error_of(load_file, path)
    assert str(path) in str(err) and reason in str(err)


def test_load_file_missing_file(tmp_path: Path) -> None:
    err = error_of(load_file, tmp_path / "nope.json")
    assert "nope.json" in str(err) and "cannot read" in str(err)


def test_load_file_labels_record_errors_with_the_file(tmp_path: Path) -> None:
    keys = raw("ps7-signing-keys.json")
    keys[0]["KeyLength"] = -1
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys), encoding="utf-8")
    err = error_of(load_file, path)
    assert str(err).startswith(f"{path}: $[0].KeyLength: ") and err.path == "$[0].KeyLength"
