"""The normaliser's fast path (toolkit.normalise.fast) gives what the general path gives.

The fast readers take a record only when every value is in the plain shape our inventory script
prints, and otherwise return None so that the general reader (toolkit.normalise.records) reads
it. So: whenever a fast reader returns a descriptor, the general reader must return the same
one (same values and same types: ``repr`` tells 2048 from 2048.0), never an error; and whole
documents must normalise alike with ``fast=True`` and ``fast=False``. Plain documents (the
demo fleet, the schema example, dumps of generated inventories) must actually take the fast
path, or it would be a fast path in name only.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.inventory_docs import nested, tabled
from tests.test_normalise import documented_example, schema_example
from tests.test_normalise_props import inventories, json_values, keys_for, paths, settings_for
from toolkit.errors import CmdletError, NormaliseError
from toolkit.model import (
    CryptoAlgorithm,
    KeyType,
    RolloverType,
    ServerInfo,
    ServerInventory,
    SigningKey,
    Zone,
    ZoneDnssecSettings,
    ZoneType,
)
from toolkit.normalise import columns, dump_inventory, normalise_inventory
from toolkit.normalise import fast as fastmod
from toolkit.normalise.cim import Record
from toolkit.normalise.records import signing_key_from_json, zone_head_from_json, zone_settings_from_json
from toolkit.normalise.table import read_table
from toolkit.testing.simulator import Fleet

ZONE = "corp.example"
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RICH = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values near the plain shape and just off it: other spellings, numbers as text or floats, JSON
# true for 1, PSObject wrappers, other time and GUID formats, blanks.
TRICKY: list[Any] = [
    None, True, False, 0, 1, -1, 0.0, 1.0, -0.0, 2.5, 0.1, 2048, 2048.0, 3600, 3600.0, 604800.0,
    16384, 16385, 65535, 65536, 255, 256, 2**53, float(2**53), 10**15, 1e300, float("nan"), float("inf"),
    "", " ", "-", " - ", "abc", "True", "false", "1", "1.00:00:00", "PrePublish", "prepublish", "Prepublish",
    "KSK", "zsk", "KeySigningKey", "RsaSha256", "RSASHA256", "8", "NSec3", "nsec3", "Sha256", "SHA1",
    "Online", "Primary", "primary", "Domain", "Active", "NotRolling", "Normal",
    "2028-01-04T05:58:25.8607390Z", "2028-01-04T05:58:25Z", "2028-01-04T05:58:25.8607390+01:00",
    "2028-01-04t05:58:25.8607390z", " 2028-01-04T05:58:25.860739Z", "2028-01-04T24:00:00.0000000Z",
    "0001-01-01T00:00:00.0000000Z", "2028-02-30T00:00:00.0000000Z", "\\/Date(1326441600000)\\/",
    "/Date(1326441600000)/", "2028-W01-1T00:00:00.0000000Z",
    "7479d44e-4b3c-4fa6-8f6c-2b1cfa3e0001", "7479D44E-4B3C-4FA6-8F6C-2B1CFA3E0001",
    "{7479D44E-4B3C-4FA6-8F6C-2B1CFA3E0001}", "7479d44e4b3c4fa68f6c2b1cfa3e0001",
    ZONE, ZONE.upper(), ZONE + ".", "other.example",
    {"value": 5}, {"value": "Sha256"}, {"value": True}, {"Ticks": 36000000000}, {"TotalSeconds": 60.0},
    [], ["Sha256"], ["Sha256", None], ["", "Sha1"], [1], ["DnsKey", " "], "DnsKey", [["x"]],
]  # fmt: skip
tricky = st.sampled_from(TRICKY) | json_values

# The TimeSpan members of each record (whole seconds in a plain document).
SPAN_NAMES = {
    "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod", "ZoneSignatureValidityPeriod",
    "InitialRolloverOffset", "RolloverPeriod", "DSRecordSetTtl", "DnsKeyRecordSetTtl",
    "SignatureInceptionOffset", "SecureDelegationPollingPeriod", "PropagationTime",
    "MaximumSignatureScanPeriod", "MaximumTrustAnchorActiveRefreshInterval",
}  # fmt: skip


def same(fast: Any, general: Any) -> None:
    """Equal, and built of the same types (repr shows 2048 vs 2048.0, the enum class, the tz)."""
    assert fast == general
    assert repr(fast) == repr(general)


def outcome(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except NormaliseError as exc:
        return ("error", str(exc))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A plain record with up to four members replaced by tricky values, deleted, or joined by
    a member the fast reader does not know (another spelling of a known name, or a new one)."""
    obj = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "extra", "rename", "cim"]))
        name = draw(st.sampled_from(sorted(obj))) if obj else "ZoneName"
        if action == "replace":
            obj[name] = draw(tricky)
        elif action == "delete":
            obj.pop(name, None)
        elif action == "extra":
            other = draw(st.sampled_from([name.lower(), name.upper(), "CimClass", "PSComputerName"]))
            obj[other] = draw(tricky)
        elif action == "rename":  # PowerShell names are case-insensitive: the general reader finds it
            obj[draw(st.sampled_from([name.lower(), name.upper()]))] = obj.pop(name, None)
        else:  # the value only in CimInstanceProperties (an instance passed as an argument)
            obj["CimInstanceProperties"] = [{"Name": name, "Value": obj.pop(name, None), "CimType": 1}]
    return obj


def key_doc(key: SigningKey) -> dict[str, Any]:
    doc = dump_inventory(ServerInventory(server=_server(), zones=(_zone(keys=(key,)),), schema_version=1))
    return whole_spans(doc["Zones"][0]["SigningKeys"][0])  # type: ignore[no-any-return]


def settings_doc(s: ZoneDnssecSettings) -> dict[str, Any]:
    doc = dump_inventory(ServerInventory(server=_server(), zones=(_zone(dnssec=s),)))
    return whole_spans(doc["Zones"][0]["DnsSecSetting"])  # type: ignore[no-any-return]


def _server() -> ServerInfo:
    return ServerInfo(name="DNS1")


def _zone(**fields: Any) -> Zone:
    return Zone(name=ZONE, zone_type=ZoneType.PRIMARY, **fields)


def whole_spans(value: Any) -> Any:
    """The same JSON with every TimeSpan member rounded to whole seconds (the plain shape)."""
    if isinstance(value, dict):
        return {k: whole_span(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_spans(v) for v in value]
    return value


def whole_span(name: str, value: Any) -> Any:
    if name in SPAN_NAMES and isinstance(value, list):  # a column of the key table
        return [whole_span(name, v) for v in value]
    return int(value) if name in SPAN_NAMES and isinstance(value, float) else whole_spans(value)


plain_keys = keys_for(ZONE).map(key_doc)
plain_settings = settings_for(ZONE).map(settings_doc)


# -- record by record -----------------------------------------------------------------------------
@MANY
@given(mutated(plain_keys))
def test_fast_key_is_the_general_key_or_declines(obj: dict[str, Any]) -> None:
    fast = fastmod.signing_key(obj, ZONE)
    general = outcome(signing_key_from_json, obj, "$", zone=ZONE)
    if fast is not None:
        same(fast, general)


@MANY
@given(mutated(plain_settings))
def test_fast_settings_are_the_general_settings_or_decline(obj: dict[str, Any]) -> None:
    fast = fastmod.zone_settings(obj, ZONE)
    general = outcome(zone_settings_from_json, obj, "$", zone=ZONE)
    if fast is not None:
        same(fast, general)


def zone_records() -> st.SearchStrategy[dict[str, Any]]:
    """Plain zone records: dumps of generated zones, without settings, keys and errors."""
    from tests.test_normalise_props import zones

    def record(zone: Zone) -> dict[str, Any]:
        bare = dataclasses.replace(zone, keys=(), dnssec=None, errors=())
        doc: dict[str, Any] = dump_inventory(ServerInventory(server=_server(), zones=(bare,)))["Zones"][0]
        return doc

    return zones(ZONE).map(record)


HEAD_FIELDS = [f.name for f in dataclasses.fields(Zone)][1:7]  # zone_type .. replication_scope


@MANY
@given(mutated(zone_records()))
def test_fast_zone_head_is_the_general_head_or_declines(obj: dict[str, Any]) -> None:
    head = fastmod.zone_head(obj)
    try:
        rec = Record(obj, "$")
        general: Any = (rec.value("ZoneName"), zone_head_from_json(rec))
    except NormaliseError as exc:
        general = ("error", str(exc))
    if head is not None:
        name, *fields = head
        same((name, dict(zip(HEAD_FIELDS, fields, strict=True))), general)


@MANY
@given(st.sampled_from(TRICKY[:60]), st.sampled_from(["LastRolloverTime", "NextRolloverTime"]), st.data())
def test_fast_times_match_the_general_reader(value: Any, name: str, data: st.DataObject) -> None:
    # Also characters swapped into the plain time text: digits of other scripts, signs, spaces.
    text = "2028-01-04T05:58:25.8607390Z"
    i = data.draw(st.integers(0, len(text) - 1))
    c = data.draw(st.sampled_from(list("0123456789+-:.TZz ,٠１") + ["24"]))
    for candidate in (value, text[:i] + c + text[i + 1 :]):
        obj = dict(key_doc_plain(), **{name: candidate})
        fast = fastmod.signing_key(obj, ZONE)
        if fast is not None:
            same(fast, outcome(signing_key_from_json, obj, "$", zone=ZONE))


def key_doc_plain() -> dict[str, Any]:
    return {
        "ZoneName": ZONE,
        "KeyId": "7479d44e-4b3c-4fa6-8f6c-2b1cfa3e0001",
        "KeyType": "KeySigningKey",
        "CurrentState": "Active",
        "KeyStorageProvider": "Microsoft Software Key Storage Provider",
        "StoreKeysInAD": True,
        "CryptoAlgorithm": "RsaSha256",
        "KeyLength": 2048,
        "DnsKeySignatureValidityPeriod": 604800,
        "DSSignatureValidityPeriod": 604800.0,
        "ZoneSignatureValidityPeriod": 864000,
        "InitialRolloverOffset": 0,
        "RolloverPeriod": 65232000,
        "RolloverType": "DoubleSignature",
        "NextRolloverAction": "Normal",
        "LastRolloverTime": None,
        "NextRolloverTime": "2028-12-18T10:00:00.0000000Z",
        "CurrentRolloverStatus": "NotRolling",
        "ActiveKey": "{68550441-8E4D-4D99-921C-BC1807FFF7ED}",
        "StandbyKey": None,
        "NextKey": None,
        "IsRolloverEnabled": True,
    }


def plain_settings_doc() -> dict[str, Any]:
    return copy.deepcopy(schema_example()["Zones"][0]["DnsSecSetting"])


_DELETED = object()


def tricky_variants(base: Any, pick: Callable[[Any], dict[str, Any]] = lambda r: r) -> Iterator[Any]:
    """Copies of ``base``, each with one member of the record ``pick`` finds in it replaced by
    one tricky value, or deleted: every member with every value."""
    for name in list(pick(base)):
        for value in [*TRICKY, _DELETED]:
            root = copy.deepcopy(base)
            record = pick(root)
            if value is _DELETED:
                del record[name]
            else:
                record[name] = copy.deepcopy(value)
            yield root


@pytest.mark.parametrize(
    ("read", "general", "record"),
    [
        (fastmod.signing_key, signing_key_from_json, key_doc_plain),
        (fastmod.zone_settings, zone_settings_from_json, plain_settings_doc),
    ],
    ids=["key", "settings"],
)
def test_every_member_with_every_tricky_value(read: Any, general: Any, record: Any) -> None:
    """Exhaustive: each member of a plain record replaced by each tricky value, or deleted."""
    base = record()
    fast_taken = declined = 0
    for obj in tricky_variants(base):
        fast = read(obj, ZONE)
        if fast is None:
            declined += 1
        else:
            fast_taken += 1
            same(fast, outcome(general, obj, "$", zone=ZONE))
    assert fast_taken > len(base) and declined > len(base)


def test_plain_key_reads_fast_with_the_expected_values() -> None:
    key = fastmod.signing_key(key_doc_plain(), ZONE)
    assert key is not None
    same(key, signing_key_from_json(key_doc_plain(), "$", zone=ZONE))
    assert key.key_type is KeyType.KSK and key.algorithm is CryptoAlgorithm.RSASHA256
    assert key.ds_signature_validity == timedelta(days=7) and type(key.key_length) is int
    assert key.next_rollover_time == datetime(2028, 12, 18, 10, tzinfo=UTC)


@pytest.mark.parametrize("span", [0, 1, 0.0, 1.0, 3600])
def test_json_true_and_false_are_never_spans_even_after_0_and_1(span: float) -> None:
    # The span table keeps the spans it met; true/false equal 1/0 as dictionary keys.
    assert fastmod.signing_key(dict(key_doc_plain(), RolloverPeriod=span), ZONE) is not None
    for flag in (True, False):
        obj = dict(key_doc_plain(), RolloverPeriod=flag)
        assert fastmod.signing_key(obj, ZONE) is None
        assert outcome(signing_key_from_json, obj, "$", zone=ZONE)[0] == "error"


def test_other_enum_spellings_are_learnt_and_unknown_text_kept() -> None:
    obj = dict(key_doc_plain(), RolloverType="PrePublish", KeyType="Ksk")
    for _ in range(2):  # the second time from the spelling table
        key = fastmod.signing_key(obj, ZONE)
        assert key is not None and key.rollover_type is RolloverType.PREPUBLISH
        assert key.key_type is KeyType.KSK
    odd = fastmod.signing_key(dict(key_doc_plain(), RolloverType="Quantum"), ZONE)
    assert odd is not None and odd.rollover_type is not None and not odd.rollover_type.is_known
    assert odd.rollover_type.value == "Quantum"


@pytest.mark.parametrize("cls", [SigningKey, ZoneDnssecSettings, Zone])
def test_unchecked_constructor_builds_the_same_frozen_descriptor(cls: type[Any]) -> None:
    key = signing_key_from_json(key_doc_plain(), "$", zone=ZONE)
    sample = {
        SigningKey: key,
        ZoneDnssecSettings: ZoneDnssecSettings(zone=ZONE, nsec3_iterations=5),
        Zone: _zone(keys=(key,), is_signed=True),
    }[cls]
    values = [getattr(sample, f.name) for f in dataclasses.fields(cls)]
    made = fastmod._unchecked(cls)(*values)
    assert type(made) is cls and made == sample and hash(made) == hash(sample)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(cls)[0].name, "x")
    with pytest.raises(TypeError):
        fastmod._unchecked(cls)(*values[:-1])


# -- whole documents ------------------------------------------------------------------------------
def mutate_one(data: st.DataObject, root: Any, where: Callable[[tuple[Any, ...]], bool]) -> bool:
    """One member of ``root`` at a path ``where`` accepts replaced by a tricky value, or deleted
    (from an object); False when no path is accepted."""
    candidates = [p for p in paths(root) if where(p)]
    if not candidates:
        return False
    target = data.draw(st.sampled_from(candidates))
    parent = root
    for step in target[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[target[-1]]
    else:
        parent[target[-1]] = data.draw(tricky)
    return True


def both(doc: Any) -> tuple[Any, Any]:
    return outcome(normalise_inventory, doc, fast=True), outcome(normalise_inventory, doc, fast=False)


@RICH
@given(inventories(), st.data())
def test_documents_normalise_alike_on_both_paths(inv: ServerInventory, data: st.DataObject) -> None:
    doc = json.loads(json.dumps(dump_inventory(inv)))
    fast, general = both(doc)
    same(fast, general)
    assert fast == inv  # the round trip holds on the fast path too
    # Then a few members anywhere in the document replaced by tricky values, or deleted.
    for _ in range(data.draw(st.integers(1, 4))):
        mutate_one(data, doc, lambda path: bool(path))
    fast, general = both(doc)
    same(fast, general)


def fast_records(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """(what, record) for every record of the document the fast path declines (the rows of a
    schema 2 key table as their zones' records)."""
    declined: list[tuple[str, Any]] = []
    if doc["SchemaVersion"] == 2:
        doc = nested(doc)
    for zone in doc["Zones"]:
        if fastmod.zone_head(zone) is None:
            declined.append(("zone", zone))
            continue
        settings = zone.get("DnsSecSetting")
        if settings is not None and fastmod.zone_settings(settings, zone["ZoneName"]) is None:
            declined.append(("settings", settings))
        for key in zone.get("SigningKeys") or ():
            if fastmod.signing_key(key, zone["ZoneName"]) is None:
                declined.append(("key", key))
    return declined


def test_demo_fleet_and_schema_example_take_the_fast_path(fleet: Fleet) -> None:
    docs = [schema_example(), documented_example()]
    for server in fleet.servers.values():
        try:
            docs.append(json.loads(json.dumps(server.run("inventory", {}))))
        except CmdletError:
            continue  # a server whose whole inventory fails
    assert len(docs) >= 4
    keys = 0
    for doc in docs:
        assert fast_records(doc) == []
        fast, general = both(doc)
        same(fast, general)
        keys += sum(len(z.keys) for z in fast.zones)
    assert keys >= 10


@RICH
@given(inventories())
def test_dumped_inventories_take_the_fast_path(inv: ServerInventory) -> None:
    doc = whole_spans(json.loads(json.dumps(dump_inventory(inv))))
    assert fast_records(doc) == []
    same(*both(doc))


# -- the column reader (columns.read_zones) -------------------------------------------------------
def general_zone(obj: Any, path: str = "$.Zones[0]") -> Any:
    from toolkit.normalise.inventory import _read_zone

    return outcome(_read_zone, obj, path)


def columns_agree(items: list[Any]) -> int:
    """Each zone the column reader takes reads as the general reader reads it; how many it took.
    Then the same zones in schema 2's shape (``table_agree``)."""
    read = columns.read_zones(items)
    assert len(read) == len(items)
    for zone, obj in zip(read, items, strict=True):
        if zone is not None:
            same(zone, general_zone(obj))
    table_agree(items)
    return sum(zone is not None for zone in read)


def table_agree(items: list[Any]) -> int:
    """Schema 1 zone records as a schema 2 document (their keys moved to the key table, in zone
    order): it reads alike on both paths; how many zones the column reader took."""
    doc = tabled(dict(whole_spans(schema_example()), Zones=copy.deepcopy(items)))
    read = columns.read_zones(doc["Zones"], read_table(doc["Keys"], "$.Keys"))
    same(*both(doc))
    return sum(zone is not None for zone in read)


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


def test_plain_zones_read_as_columns_as_the_general_reader_reads_them() -> None:
    items = plain_zones()
    assert all(columns._whole_zone(obj) for obj in items)
    assert columns_agree(items) == 3
    assert table_agree(items) == 3


@pytest.mark.parametrize("where", ["key", "settings", "alike settings", "zone"])
def test_columns_with_every_member_given_every_tricky_value(where: str) -> None:
    """Exhaustive: each member of one record among several replaced by each tricky value, or
    deleted; taken or declined, the column reader never reads a zone otherwise. ("alike
    settings": the second zone's settings, which equal the first's but for the zone's name and
    salt, and are then not read again: a value equal to the first's, but of another type, or
    the zone's own name and salt must not pass unread.)"""
    taken = declined = 0
    base = plain_zones()

    def pick(items: list[dict[str, Any]]) -> dict[str, Any]:
        records = {
            "key": items[1]["SigningKeys"][1],
            "settings": items[0]["DnsSecSetting"],
            "alike settings": items[1]["DnsSecSetting"],
            "zone": items[1],
        }
        return records[where]

    record = pick(base)
    in_table = 0
    for items in tricky_variants(base, pick):
        n = columns_agree(items)
        taken += n == 3
        declined += n < 3
        in_table += table_agree(items) == 3
    assert taken > len(record) and declined > len(record)
    assert in_table > len(record)


@MANY
@given(st.sampled_from(["KeyId", "LastRolloverTime", "NextRolloverTime"]), st.data())
def test_column_key_ids_and_times_match_the_general_reader(name: str, data: st.DataObject) -> None:
    """One regular expression over a column joined by newlines: characters swapped into one
    value, or newlines and blanks in two, must not let a value through that is not plain."""
    items = plain_zones()
    keys = [k for zone in items for k in zone["SigningKeys"]]
    text = keys[0][name] or "2028-01-04T05:58:25.8607390Z"
    i = data.draw(st.integers(0, len(text) - 1))
    c = data.draw(st.sampled_from(list("0123456789abcdefABCDEF+-:.TZz ,\n٠１") + ["24", ""]))
    keys[0][name] = text[:i] + c + text[i + 1 :]
    if data.draw(st.booleans()):  # a second value that could make up the length of the first
        keys[1][name] = data.draw(st.sampled_from(["", "\n", text + "\n", text[:-1], text + text[-1], None]))
    columns_agree(items)


def test_the_time_column_takes_hours_00_to_23_itself() -> None:
    """fromisoformat refuses hour 24 on the Pythons this runs on; the column's own test must
    too (a later fromisoformat may read 24:00 as the next midnight): hour 00-23 or decline."""
    others = ["2028-01-04T05:58:25.8607390Z", "2028-01-04T23:58:25.8607390Z"]
    for h in range(100):
        col = [*others, f"2028-01-04T{h:02d}:00:00.0000000Z", *others]
        text = columns._TIMES(col)
        assert text is not None
        assert columns._hours(text) == (h < 24), h


def test_a_value_holding_a_newline_cannot_pass_for_two() -> None:
    items = plain_zones()
    keys = [k for zone in items for k in zone["SigningKeys"]]
    first, second = keys[0]["KeyId"], keys[1]["KeyId"]
    keys[0]["KeyId"] = first + "\n" + second  # the joined column is still GUIDs and newlines
    assert columns.read_zones(items) == [None, None, None]
    keys[0]["KeyId"], keys[1]["KeyId"] = first + "\n", second[1:]
    assert columns.read_zones(items) == [None, None, None]
    keys[0]["KeyId"], keys[1]["KeyId"] = first, second
    keys[1]["NextRolloverTime"] = "2028-01-04T05:58:25.8607390Z\n2028-01-04T05:58:25.8607390Z"
    assert columns.read_zones(items) == [None, None, None]
    keys[1]["NextRolloverTime"] = "2028-01-04T05:58:25.8607390Z"
    assert None not in columns.read_zones(items)


@RICH
@given(inventories(), st.data())
def test_columns_read_generated_documents_as_the_general_reader(
    inv: ServerInventory, data: st.DataObject
) -> None:
    doc = whole_spans(json.loads(json.dumps(dump_inventory(dataclasses.replace(inv, schema_version=1)))))
    items = doc["Zones"]
    whole = sum(columns._whole_zone(obj) for obj in items)
    assert columns_agree(items) == whole  # every zone without errors is taken
    assert table_agree(items) == whole
    for _ in range(data.draw(st.integers(1, 3))):  # then members inside zones changed
        if not mutate_one(data, items, lambda path: len(path) > 1):
            break
    columns_agree(items)


def test_zones_with_errors_or_odd_records_are_left_to_the_record_reader() -> None:
    items = plain_zones()
    items[0]["Errors"] = [{"Stage": "Get-DnsServerSigningKey", "Message": "access denied"}]
    doc2 = tabled(dict(schema_example(), Zones=copy.deepcopy(items)))  # schema 2: keys in the table
    items[2]["SigningKeys"] = None
    read = columns.read_zones(items)
    assert read[0] is None and read[2] is None and read[1] is not None
    doc = dict(schema_example(), Zones=items)
    same(*both(doc))
    # Schema 2: the zone with errors is read record by record, with its rows of the table; the
    # column reader takes the rest (zone 2 holds no keys member to be odd in).
    read = columns.read_zones(doc2["Zones"], read_table(doc2["Keys"], "$.Keys"))
    assert read[0] is None and read[1] is not None and read[2] is not None
    fast, general = both(doc2)
    same(fast, general)
    assert [len(z.keys) for z in fast.zones] == [2, 2, 2]


# -- the server, trust anchors and points ----------------------------------------------------------
def general_server(obj: Any) -> Any:
    from toolkit.normalise.records import server_info_from_json

    return outcome(server_info_from_json, obj, "$")


def general_anchor(obj: Any) -> Any:
    from toolkit.normalise.records import trust_anchor_from_json

    return outcome(trust_anchor_from_json, obj, "$")


def general_point(obj: Any) -> Any:
    from toolkit.normalise.records import trust_point_from_json

    return outcome(trust_point_from_json, obj, "$")


SERVER_READERS = {
    "server": (fastmod.server_info, general_server, lambda doc: doc["Server"]),
    "anchor": (fastmod.trust_anchor, general_anchor, lambda doc: doc["TrustAnchors"][0]),
    "point": (fastmod.trust_point, general_point, lambda doc: doc["TrustPoints"][0]),
}


@pytest.mark.parametrize("what", sorted(SERVER_READERS))
def test_server_records_with_every_member_given_every_tricky_value(what: str) -> None:
    read, general, pick = SERVER_READERS[what]
    base = pick(whole_spans(schema_example()))
    assert read(base) is not None
    same(read(base), general(base))
    taken = declined = 0
    for obj in tricky_variants(base):
        fast = read(obj)
        if fast is None:
            declined += 1
        else:
            taken += 1
            same(fast, general(obj))
    assert taken > len(base) and declined > len(base)


@RICH
@given(inventories(), st.data())
def test_server_records_read_as_the_general_reader(inv: ServerInventory, data: st.DataObject) -> None:
    doc = whole_spans(json.loads(json.dumps(dump_inventory(inv))))
    present = ["server"] + ["anchor"] * bool(inv.trust_anchors) + ["point"] * bool(inv.trust_points)
    what = data.draw(st.sampled_from(present))
    read, general, pick = SERVER_READERS[what]
    obj = pick(doc)
    fast = read(obj)
    assert fast is not None  # a dumped record is plain
    same(fast, general(obj))
    mutant = data.draw(mutated(st.just(obj)))
    fast = read(mutant)
    if fast is not None:
        same(fast, general(mutant))
