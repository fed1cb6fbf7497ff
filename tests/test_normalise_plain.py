"""The plain readers (toolkit.normalise.fast) read a record as the general reader reads it.

The normaliser reads each record of our inventory document with its plain reader when every
value is in the shape our script prints; otherwise the plain reader returns None and the
general reader (toolkit.normalise.records) reads it, naming the path of a bad value. So
whenever a plain reader returns a descriptor, the general reader must return the same one
(same values and types: ``repr`` tells 2048 from 2048.0), never an error: each member of a
plain record is given each of some 150 awkward values, or deleted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.test_normalise import schema_example
from tests.test_normalise_props import json_values, keys_for, settings_for
from toolkit.errors import NormaliseError
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
from toolkit.normalise import dump_inventory
from toolkit.normalise import fast as fastmod
from toolkit.normalise.records import signing_key_from_json, zone_settings_from_json

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
