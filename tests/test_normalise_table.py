"""Schema 2's key table (``Keys``): reading it, its structure errors and rows it cannot place."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest

from tests.inventory_docs import nested, tabled
from tests.test_normalise import schema_example
from tests.test_normalise_plain import key_doc_plain, plain_settings_doc, whole_spans
from toolkit.errors import NormaliseError
from toolkit.model import INVENTORY_SCHEMA_VERSION
from toolkit.normalise import dump_inventory, normalise_inventory
from toolkit.normalise.inventory import STAGE_KEYS
from toolkit.normalise.table import KEY_COLUMNS
from toolkit.testing.simulator import Fleet


def plain_zones() -> list[dict[str, Any]]:
    """Three whole zone records, four keys between them (KSK and ZSK, times null and set)."""
    base = schema_example()["Zones"][0]
    out = []
    for i, name in enumerate(["a.example", "b.example", "c.example"]):
        zone = copy.deepcopy(base)
        zone.update(ZoneName=name, Errors=[])
        ids = [f"7479d44e-4b3c-4fa6-8f6c-2b1cfa3e00{i}{j}" for j in (0, 1)]
        keys = [dict(key_doc_plain(), ZoneName=name, KeyId=key_id) for key_id in ids]
        keys[1].update(KeyType="ZoneSigningKey", LastRolloverTime="2026-01-04T05:58:25.8607390Z")
        zone["SigningKeys"] = keys if i != 1 else keys[:1] + [dict(keys[1], ZoneName=None)]
        zone["DnsSecSetting"] = dict(plain_settings_doc(), ZoneName=name) if i != 2 else None
        out.append(zone)
    return out


def doc2() -> dict[str, Any]:
    """Three zones (four keys... see ``plain_zones``) as a schema 2 document."""
    return tabled(dict(whole_spans(schema_example()), Zones=plain_zones()))


def test_schema_2_is_what_the_script_and_the_simulator_print(fleet: Fleet) -> None:
    assert INVENTORY_SCHEMA_VERSION == 2
    doc = fleet.get("dns1").run("inventory", {})
    assert doc["SchemaVersion"] == 2
    assert all("SigningKeys" not in zone for zone in doc["Zones"])
    assert tuple(doc["Keys"]) == KEY_COLUMNS
    assert len({len(column) for column in doc["Keys"].values()}) == 1
    inv = normalise_inventory(doc)
    names = doc["Keys"]["ZoneName"]
    assert len(names) == sum(len(z.keys) for z in inv.zones) > 10
    assert all(k.zone == z.name for z in inv.zones for k in z.keys)


def test_schema_1_and_2_documents_of_one_inventory_read_alike(fleet: Fleet) -> None:
    inv = normalise_inventory(fleet.get("dns1").run("inventory", {}))
    one = json.loads(json.dumps(dump_inventory(dataclasses.replace(inv, schema_version=1))))
    two = json.loads(json.dumps(dump_inventory(inv)))
    assert "Keys" not in one and "SigningKeys" in one["Zones"][0] and "SigningKeys" not in two["Zones"][0]
    assert normalise_inventory(one) == dataclasses.replace(inv, schema_version=1)
    assert normalise_inventory(two) == inv
    assert nested(two) == one


def test_plain_table_gives_each_zone_its_rows() -> None:
    doc = doc2()
    fast = normalise_inventory(doc)
    assert [[k.key_id[-2:] for k in z.keys] for z in fast.zones] == [["00", "01"], ["10", "11"], ["20", "21"]]


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        ([], "$.Keys", "expected an object of columns"),
        ("x", "$.Keys", "expected an object of columns"),
        ({"ZoneName": ["a.example"], "KeyId": "k"}, "$.Keys.KeyId", "expected an array"),
        ({"ZoneName": ["a.example"], "KeyId": None}, "$.Keys.KeyId", "expected an array"),
        ({"ZoneName": ["a"], "KeyId": ["k", "l"]}, "$.Keys.KeyId", "has 2 values, but $.Keys.ZoneName has 1"),
        ({"KeyId": ["k"]}, "$.Keys.ZoneName", "required column is missing"),
    ],
)
def test_a_wrongly_built_table_is_one_error_for_its_server(table: Any, path: str, words: str) -> None:
    doc = doc2()
    doc["Keys"] = table
    with pytest.raises(NormaliseError) as info:
        normalise_inventory(doc)
    assert info.value.path == path and words in str(info.value)


@pytest.mark.parametrize("table", [None, {}, {name: [] for name in KEY_COLUMNS}, "absent"])
def test_an_empty_or_absent_table_means_no_keys(table: Any) -> None:
    doc = doc2()
    if table == "absent":
        del doc["Keys"]
    else:
        doc["Keys"] = table
    fast = normalise_inventory(doc)
    assert [z.keys for z in fast.zones] == [(), (), ()] and fast.errors == ()


def test_a_bad_value_costs_its_key_and_names_its_cell() -> None:
    doc = doc2()
    doc["Keys"]["KeyLength"][3] = "huge"  # the second key of b.example
    fast = normalise_inventory(doc)
    zone = fast.zones[1]
    assert len(zone.keys) == 1 and [e.stage for e in zone.errors] == [STAGE_KEYS]
    assert zone.errors[0].message == '$.Keys[3].KeyLength: expected an integer, got "huge"'
    assert [len(z.keys) for z in fast.zones] == [2, 1, 2]


def test_a_row_of_no_listed_zone_is_a_server_error_and_the_zones_still_read() -> None:
    doc = doc2()
    doc["Keys"]["ZoneName"][5] = "gone.example"
    doc["Keys"]["ZoneName"][0] = None
    fast = normalise_inventory(doc)
    assert [len(z.keys) for z in fast.zones] == [1, 2, 1]
    messages = sorted(e.message for e in fast.errors)
    assert [e.stage for e in fast.errors] == [STAGE_KEYS, STAGE_KEYS]
    assert messages == [
        "$.Keys[0].ZoneName: expected a zone's name, got null",
        "$.Keys[5].ZoneName: zone 'gone.example' is not in $.Zones",
    ]
    assert all(e.zone is None for e in fast.errors)


def test_rows_out_of_zone_order_read_the_same_by_zone() -> None:
    doc = doc2()
    order = [4, 0, 2, 5, 1, 3]  # zones interleaved and reversed
    shuffled = copy.deepcopy(doc)
    for name, column in shuffled["Keys"].items():
        shuffled["Keys"][name] = [column[i] for i in order]
    assert normalise_inventory(shuffled) == normalise_inventory(doc)  # each zone's rows in table order
    # rows of a zone in another order: the same keys, in that order
    swapped = copy.deepcopy(doc)
    for column in swapped["Keys"].values():
        column[0], column[1] = column[1], column[0]
    zone = normalise_inventory(swapped).zones[0]
    assert [k.key_id[-2:] for k in zone.keys] == ["01", "00"]


def test_a_zone_read_record_by_record_takes_its_rows_and_the_reader_takes_the_others() -> None:
    doc = doc2()
    doc["Zones"][1]["Errors"] = [{"Stage": "Get-DnsServerDnsSecZoneSetting", "Message": "denied"}]
    doc["Zones"][2]["ZoneName"] = "C.Example"  # not the rows' spelling: the record readers match by zone
    doc["Zones"][2]["ZoneName"] = "c.example"
    fast = normalise_inventory(doc)
    assert [len(z.keys) for z in fast.zones] == [2, 2, 2] and fast.errors == ()
    doc["Zones"][2]["ZoneName"] = "C.Example"
    fast = normalise_inventory(doc)
    assert [len(z.keys) for z in fast.zones] == [2, 2, 2] and fast.errors == ()


def test_an_extra_or_missing_column_leaves_the_table_to_the_record_readers() -> None:
    doc = doc2()
    doc["Keys"]["KeyTag"] = [1] * 6
    normalise_inventory(doc)
    doc = doc2()
    del doc["Keys"]["IsRolloverEnabled"]
    fast = normalise_inventory(doc)
    assert all(k.is_rollover_enabled is None for z in fast.zones for k in z.keys)


def test_a_zone_listed_twice_is_still_one_error() -> None:
    doc = doc2()
    doc["Zones"].append(copy.deepcopy(doc["Zones"][0]))
    with pytest.raises(NormaliseError, match="appears twice"):
        normalise_inventory(doc)
