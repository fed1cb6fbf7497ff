"""The column reader: every plain zone of a server's document at once, member by member.

A server document holds the same few record shapes many times over (a zone, its
``DnsSecSetting``, four or so ``SigningKeys``). The per-record readers of ``fast`` spend a
Python call or two on each member of each record; ``read_zones`` instead reads each member of
every key of the document as one column: one type test over the column and one ``map`` over the
spelling and span tables of ``fast``, so the loops run in C. Key ids and times are checked
together, one regular expression over the column joined by newlines (a length check keeps a
value holding a newline from passing for two). Then every descriptor is built with one ``map``
over the columns. About 3 us a key instead of 4.4 record by record.

It is a tier in front of the per-record readers and adds no reading of its own: each column
function applies to every value the same test as the ``fast`` value function it names, and when
any value of any zone it took is not plain it declines them all, which ``inventory`` then reads
zone by zone (``fast``, then the general readers of ``records``). ``tests/test_normalise_fast.py``
holds it to the general reader on plain, generated and mutated documents.

A zone's one settings record is read by ``fast.zone_settings``: as columns of 20 records, the
settings read slower than record by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any, Final

from toolkit.model.descriptors import SigningKey, Zone, ZoneDnssecSettings
from toolkit.normalise import fast as _f
from toolkit.normalise.records import UNKNOWN_ZONE_TYPE

__all__ = ["read_zones"]


Column = Sequence[Any]
_NONE_TYPE = type(None)
_TEXT_TYPES: Final = frozenset((str, _NONE_TYPE))
_FLAG_TYPES: Final = frozenset((bool, _NONE_TYPE))
_INT_TYPES: Final = frozenset((int, _NONE_TYPE))
_NUMBER_TYPES: Final = frozenset((int, float, _NONE_TYPE))


def _str_column(col: Column) -> Column:
    """``_str`` over a column: null or text, blank text -> None."""
    if not _TEXT_TYPES.issuperset(map(type, col)):
        raise _f.NotPlain
    if "" in col or not all(map(str.strip, filter(None, col))):
        return [v if v is None or v.strip() else None for v in col]
    return col


def _bool_column(col: Column) -> Column:
    """``_bool`` over a column."""
    if not _FLAG_TYPES.issuperset(map(type, col)):
        raise _f.NotPlain
    return col


def _int_column(lo: int, hi: int) -> Callable[[Column], Column]:
    """``_int`` over a column: null, or an int (not a bool, not a float) in ``lo..hi``."""

    def ints(col: Column) -> Column:
        if not _INT_TYPES.issuperset(map(type, col)):
            raise _f.NotPlain
        values = [v for v in col if v is not None] if None in col else col
        if values and (min(values) < lo or max(values) > hi):
            raise _f.NotPlain
        return col

    return ints


def _span_column(col: Column) -> Column:
    """``_SPANS[value]`` over a column: whole, non-negative seconds or null."""
    if not _NUMBER_TYPES.issuperset(map(type, col)):
        raise _f.NotPlain
    return list(map(_f.NUMBER_SPANS.__getitem__, col))


def _enum_column(table: _f.Spellings, *, required: bool = False) -> Callable[[Column], Column]:
    """``table[value]`` over a column; when ``required``, null is not plain."""
    get = table.__getitem__

    def enums(col: Column) -> Column:
        out = list(map(get, col))
        if required and None in out:
            raise _f.NotPlain
        return out

    return enums


def _joined(pattern: str, width: int) -> Callable[[Column], bool]:
    """A test that every value of a column is text of ``width`` characters matching ``pattern``
    (which matches no newline): one match over the values joined by newlines. A value holding a
    newline cannot pass, since the whole must then hold more newlines than the pattern allows."""
    whole = re.compile(f"(?:{pattern}\n)*{pattern}", re.ASCII)

    def test(col: Column) -> bool:
        text = "\n".join(col)  # TypeError for a value that is not text: read_zones declines
        return len(text) == (width + 1) * len(col) - 1 and whole.fullmatch(text) is not None

    return test


_GUIDS = _joined(_f.GUID.pattern, 36)
# _time's shape: separators in place, ASCII, 7 fraction digits, Z, hour 00-23; fromisoformat then
# refuses a day or a minute out of range, as it reads only digits in those fields.
_TIMES = _joined(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}\.[0-9]{7}Z", 28)


def _key_id_column(col: Column) -> Column:
    if not _GUIDS(col):
        raise _f.NotPlain
    return col


def _time_column(col: Column) -> Column:
    """``_time`` over a column: null, or the script's UTC time (0001-01-01 -> None)."""
    if not _TEXT_TYPES.issuperset(map(type, col)) or "" in col:
        raise _f.NotPlain
    given = list(filter(None, col)) if None in col else col
    if not given:
        return col
    if not _TIMES(given):
        raise _f.NotPlain
    try:
        parsed: list[datetime | None] = list(map(datetime.fromisoformat, given))
    except ValueError:  # a day or a minute out of range
        raise _f.NotPlain from None
    if _f.DOTNET_MIN in parsed:
        parsed = [None if t == _f.DOTNET_MIN else t for t in parsed]
    if given is col:
        return parsed
    times = iter(parsed)
    return [None if v is None else next(times) for v in col]


#: The members of a record after ZoneName, in descriptor field order, with their column functions.
Table = tuple[tuple[str, Callable[[Column], Column]], ...]
_KEY_COLUMNS: Final[Table] = (
    ("KeyId", _key_id_column),
    ("KeyType", _enum_column(_f.KEY_TYPE, required=True)),
    ("CryptoAlgorithm", _enum_column(_f.ALGORITHM, required=True)),
    ("KeyLength", _int_column(1, 16384)),
    ("CurrentState", _enum_column(_f.KEY_STATE)),
    ("KeyStorageProvider", _str_column),
    ("StoreKeysInAD", _bool_column),
    ("DnsKeySignatureValidityPeriod", _span_column),
    ("DSSignatureValidityPeriod", _span_column),
    ("ZoneSignatureValidityPeriod", _span_column),
    ("InitialRolloverOffset", _span_column),
    ("RolloverPeriod", _span_column),
    ("RolloverType", _enum_column(_f.ROLLOVER_TYPE)),
    ("NextRolloverAction", _enum_column(_f.NEXT_ACTION)),
    ("LastRolloverTime", _time_column),
    ("NextRolloverTime", _time_column),
    ("CurrentRolloverStatus", _enum_column(_f.ROLLOVER_STATUS)),
    ("ActiveKey", _str_column),
    ("StandbyKey", _str_column),
    ("NextKey", _str_column),
    ("IsRolloverEnabled", _bool_column),
)
if {"ZoneName", *(n for n, _ in _KEY_COLUMNS)} != _f.KEY_NAMES:  # pragma: no cover - a member in one list
    raise TypeError("the key columns and the key reader know different members")
_ZONE_NAME = itemgetter("ZoneName")


def _zone_name_column(col: Column, zones: Column) -> Column:
    """``_zone_name`` over a column: each record's ZoneName is its zone's (``zones``), or null."""
    if col != zones:
        for value, zone in zip(col, zones, strict=True):
            if value is not None and value != zone:
                raise _f.NotPlain
    return zones


_KEY_ROW = itemgetter("ZoneName", *(name for name, _ in _KEY_COLUMNS))
_KEY_CONVERTERS = tuple(convert for _, convert in _KEY_COLUMNS)


def _keys(records: Column, zones: Column) -> list[SigningKey]:
    """Key records, each of the zone at the same index of ``zones`` (a tuple), as descriptors;
    _f.NotPlain when any is not plain. Each record's members are read in one call, in field
    order, and the rows turned into columns by ``zip``."""
    if not records:
        return []
    if set(map(type, records)) != {dict} or set(map(len, records)) != {len(_KEY_COLUMNS) + 1}:
        raise _f.NotPlain  # with the count, reading every name below means exactly the script's names
    names, *values = zip(*map(_KEY_ROW, records), strict=True)
    columns = [_zone_name_column(names, zones)]
    columns.extend(convert(col) for convert, col in zip(_KEY_CONVERTERS, values, strict=True))
    return list(map(_f.new_key, *columns))


def _whole_zone(obj: Any) -> bool:
    """A ``Zones[]`` record for the column reader: every member, the keys an array, no errors,
    the settings an object or null (others are read record by record)."""
    return (
        type(obj) is dict
        and len(obj) == _ZONE_COUNT
        and _f.ZONE_NAMES.issuperset(obj)
        and type(obj["SigningKeys"]) is list
        and obj["Errors"] == []
        and (obj["DnsSecSetting"] is None or type(obj["DnsSecSetting"]) is dict)
    )


_ZONE_COUNT: Final = len(_f.ZONE_NAMES)
_ZONE_FLAGS: Final = ("IsDsIntegrated", "IsReverseLookupZone", "IsAutoCreated")


def _settings_or_none(obj: Any, zone: str) -> ZoneDnssecSettings | None:
    if obj is None:
        return None
    settings = _f.zone_settings(obj, zone)
    if settings is None:
        raise _f.NotPlain
    return settings


def _zone_columns(records: list[dict[str, Any]]) -> list[Zone]:
    def column(name: str) -> Column:
        return list(map(itemgetter(name), records))

    names = column("ZoneName")
    if not _TEXT_TYPES.issuperset(map(type, names)) or None in names or not all(map(str.strip, names)):
        raise _f.NotPlain
    zone_types = [t or UNKNOWN_ZONE_TYPE for t in map(_f.ZONE_TYPE.__getitem__, column("ZoneType"))]
    flags = [list(map(bool, _bool_column(column(name)))) for name in _ZONE_FLAGS]
    scopes = list(map(_f.SCOPE.__getitem__, column("ReplicationScope")))

    # One settings record per zone: as columns of 20 they read slower than record by record.
    settings = list(map(_settings_or_none, column("DnsSecSetting"), names))

    key_lists = column("SigningKeys")
    counts = list(map(len, key_lists))
    zone_of_key = tuple(chain.from_iterable(map(repeat, names, counts)))
    keys = iter(_keys(list(chain.from_iterable(key_lists)), zone_of_key))
    zone_keys = [tuple(islice(keys, n)) for n in counts]
    signed = _bool_column(column("IsSigned"))
    return list(map(_f.new_zone, names, zone_types, signed, *flags, scopes, settings, zone_keys, repeat(())))


def read_zones(items: list[Any]) -> list[Zone | None]:
    """For each ``Zones[]`` entry, its Zone when the column reader took it, else None (the
    caller reads that entry record by record). The reader takes every entry in the plain
    shape (``_whole_zone``), or none when any value of theirs is not plain."""
    out: list[Zone | None] = [None] * len(items)
    whole = [i for i, obj in enumerate(items) if _whole_zone(obj)]
    if not whole:
        return out
    try:
        zones = _zone_columns([items[i] for i in whole])
    except (_f.NotPlain, TypeError, KeyError):  # TypeError: an object or array where a table wants a key
        return out
    for i, zone in zip(whole, zones, strict=True):
        out[i] = zone
    return out
