"""Coercers of toolkit.normalise: every JSON shape PowerShell 5.1/7 prints, and the bad ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from toolkit.errors import NormaliseError
from toolkit.model import CryptoAlgorithm, DsDigest, KeyType
from toolkit.normalise.coerce import (
    as_bool,
    as_datetime,
    as_enum,
    as_enums,
    as_guid,
    as_int,
    as_salt,
    as_str,
    as_str_tuple,
    as_timedelta,
)

P = "$.X"


def fails(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(NormaliseError) as info:
        fn(*args, **kw)
    assert info.value.path.startswith(P)
    return str(info.value)


# -- TimeSpan -------------------------------------------------------------------------------------
TS51 = {
    "Ticks": 652320000000000,
    "Days": 755,
    "Hours": 0,
    "Milliseconds": 0,
    "Minutes": 0,
    "Seconds": 0,
    "TotalDays": 755,
    "TotalHours": 18120,
    "TotalMilliseconds": 65232000000,
    "TotalMinutes": 1087200,
    "TotalSeconds": 65232000,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (65232000, timedelta(days=755)),
        (3600.5, timedelta(hours=1, milliseconds=500)),
        (0.1, timedelta(microseconds=100000)),
        (0, timedelta(0)),
        (TS51, timedelta(days=755)),
        ({**TS51, "Microseconds": 0, "Nanoseconds": 0, "TotalNanoseconds": 6.5232e16}, timedelta(days=755)),
        ({"Ticks": 12345678, "TotalSeconds": 99.0}, timedelta(microseconds=1234567)),  # Ticks wins
        ({"TotalSeconds": 90.25}, timedelta(seconds=90, milliseconds=250)),
        ({"Days": 1, "Hours": 2, "Minutes": 3, "Seconds": 4, "Milliseconds": 5}, timedelta(1, 7384, 5000)),
        ("755.00:00:00", timedelta(days=755)),
        ("01:00:00", timedelta(hours=1)),
        ("7.00:00:00.1234567", timedelta(days=7, microseconds=123456)),
        ("2:03:04:05", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ({"value": "00:30:00"}, timedelta(minutes=30)),
        (None, None),
    ],
)
def test_timedelta_shapes(value: Any, expected: timedelta | None) -> None:
    assert as_timedelta(value, P) == expected


@pytest.mark.parametrize(
    "value",
    [
        -1,
        True,
        "abc",
        "25:00:00",
        "3600",
        [],
        {"Foo": 1},
        float("nan"),
        float("inf"),
        1e300,
        {"Ticks": "x"},
        {"Ticks": -5},
    ],
)
def test_timedelta_rejects(value: Any) -> None:
    message = fails(as_timedelta, value, P)
    assert message.startswith(P)


def test_timedelta_names_the_inner_member() -> None:
    with pytest.raises(NormaliseError) as info:
        as_timedelta({"Ticks": "x"}, P)
    assert info.value.path == f"{P}.Ticks"


# -- DateTime -------------------------------------------------------------------------------------
JAN13 = datetime(2012, 1, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1326412800000)/", JAN13),
        ("\\/Date(1326412800000)\\/", JAN13),  # double-escaped text, as some tools save it
        ("/Date(1326412800000+0100)/", JAN13),  # the offset says where the writer was; ms is UTC
        ("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("2012-01-13T00:00:00Z", JAN13),
        ("2012-01-13T01:00:00+01:00", JAN13),
        ("2012-01-12T19:00:00-0500", JAN13),
        ("2012-01-13T00:00:00", JAN13),  # no offset: UTC
        ("2012-01-13T00:00:00.1234567Z", JAN13.replace(microsecond=123456)),
        ("2021-08-05T16:13:05.6394416-07:00", datetime(2021, 8, 5, 23, 13, 5, 639441, tzinfo=UTC)),
        ({"value": "/Date(1326412800000)/", "DisplayHint": 2, "DateTime": "Friday, January 13, 2012"}, JAN13),
        ("/Date(-62135596800000)/", None),  # DateTime.MinValue: never
        ("0001-01-01T00:00:00", None),
        (None, None),
    ],
)
def test_datetime_shapes(value: Any, expected: datetime | None) -> None:
    got = as_datetime(value, P)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "12/3/2015 2:05:12 PM",
        "2012-13-01T00:00:00Z",
        "2012-01-13T00:00:00+25:00",
        "/Date(99999999999999999999)/",
        "9999-12-31T23:00:00-05:00",
        1326412800000,
        True,
        {"DateTime": "Friday, January 13, 2012"},
        [],
    ],
)
def test_datetime_rejects(value: Any) -> None:
    fails(as_datetime, value, P)


# -- GUID -----------------------------------------------------------------------------------------
G = "68550441-8e4d-4d99-921c-bc1807fff7ed"


@pytest.mark.parametrize(
    "value",
    [
        G,
        G.upper(),
        "{68550441-8E4D-4D99-921C-BC1807FFF7ED}",
        "685504418e4d4d99921cbc1807fff7ed",
        {"value": G.upper(), "Guid": G.upper()},
        {"Guid": G},
    ],
)
def test_guid_shapes(value: Any) -> None:
    assert as_guid(value, P) == G


@pytest.mark.parametrize("value", ["{" + G, G + "}", "not-a-guid", G[:-1], 42, []])
def test_guid_rejects(value: Any) -> None:
    fails(as_guid, value, P)


# -- bool, int, str -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("false", False),
        (" TRUE ", True),
        (1, True),
        (0, False),
        (None, None),
    ],
)
def test_bool_shapes(value: Any, expected: bool | None) -> None:
    assert as_bool(value, P) is expected


@pytest.mark.parametrize("value", [2, -1, "yes", "", 1.0, []])
def test_bool_rejects(value: Any) -> None:
    fails(as_bool, value, P)


def test_int_accepts_whole_numbers_and_checks_range() -> None:
    assert as_int(2048, P, lo=1, hi=16384) == 2048
    assert as_int(2048.0, P) == 2048
    assert as_int(None, P) is None
    assert "from 0 to 255" in fails(as_int, 256, P, lo=0, hi=255)
    assert 'expected an integer, got "abc"' in fails(as_int, "abc", P)
    for bad in (True, 1.5, float("nan"), "12", [1]):
        fails(as_int, bad, P)


def test_str_blank_is_none_and_wrappers_unwrap() -> None:
    assert as_str("x", P) == "x"
    assert as_str("", P) is None and as_str("   ", P) is None and as_str(None, P) is None
    assert as_str({"value": "DNS1"}, P) == "DNS1"
    fails(as_str, 5, P)
    fails(as_str, ["a"], P)


def test_salt_dash_is_none() -> None:
    assert as_salt("-", P) is None
    assert as_salt(" - ", P) is None
    assert as_salt("AB12", P) == "AB12"
    assert as_salt(None, P) is None


def test_string_arrays() -> None:
    assert as_str_tuple(["None", "DnsKey"], P) == ("None", "DnsKey")
    assert as_str_tuple("DnsKey", P) == ("DnsKey",)  # a lone string
    assert as_str_tuple({"value": ["Sha1", "Sha256"], "Count": 2}, P) == ("Sha1", "Sha256")
    assert as_str_tuple(None, P) == ()
    assert as_str_tuple(["a", None, ""], P) == ("a",)
    with pytest.raises(NormaliseError) as info:
        as_str_tuple(["a", 3], P)
    assert info.value.path == f"{P}[1]"
    assert as_enums(DsDigest, {"value": ["Sha1", "Sha256"], "Count": 2}, P) == (
        DsDigest.SHA1,
        DsDigest.SHA256,
    )
    assert as_enums(DsDigest, "Sha384", P) == (DsDigest.SHA384,)


# -- enums ----------------------------------------------------------------------------------------
def test_enum_known_unknown_and_case() -> None:
    assert as_enum(KeyType, "KeySigningKey", P) is KeyType.KSK
    assert as_enum(KeyType, "keysigningkey", P) is KeyType.KSK
    future = as_enum(CryptoAlgorithm, "Ed25519", P)
    assert future is not None and not future.is_known and future.value == "Ed25519"
    assert as_enum(KeyType, "", P) is None and as_enum(KeyType, None, P) is None


@pytest.mark.parametrize("value", [1, 8.0, True, [], {"a": 1}])
def test_enum_numbers_and_other_types_are_errors(value: Any) -> None:
    message = fails(as_enum, CryptoAlgorithm, value, P)
    if not isinstance(value, bool) and isinstance(value, int | float):
        assert "numeric" in message and "CryptoAlgorithm" in message
