"""The column reader: every plain zone of a server's document at once, member by member.

A server document holds the same few record shapes many times over (a zone, its
``DnsSecSetting``, four or so keys). The per-record readers of ``fast`` spend a Python call or
two on each member of each record; ``read_zones`` instead reads each member of every key of the
document as one column: one type test over the column and one ``map`` over the spelling and span
tables of ``fast``, so the loops run in C. Key ids and times are checked by a translation of the
column joined by newlines (``_shaped``). Then every descriptor is built with one ``map`` over the
columns.

Schema 2 documents print the keys as columns already (the key table, ``toolkit.normalise.table``):
the reader takes each column as it is, once it has checked that the table holds exactly the
script's members and that its rows are the taken zones' rows, each zone's together and in zone
order. Schema 1 documents nest each zone's key records in the zone: the reader reads each
record's members in one ``itemgetter`` call and turns the rows into columns with ``zip``, which
took a third of the reader's time.

It is a tier in front of the per-record readers and adds no reading of its own: each column
function applies to every value the same test as the ``fast`` value function it names, and when
any value of any zone it took is not plain it declines them all, which ``inventory`` then reads
zone by zone (``fast``, then the general readers of ``records``). ``tests/test_normalise_fast.py``
and ``tests/test_normalise_table.py`` hold it to the general reader on plain, generated and
mutated documents of both schemas.

A zone's one settings record is read by ``fast.zone_settings``, or taken from the first one read
when it is alike (``_settings``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import chain, islice, repeat
from operator import attrgetter, itemgetter
from typing import Any, Final

from toolkit.model.descriptors import SigningKey, Zone, ZoneDnssecSettings
from toolkit.normalise import fast as _f
from toolkit.normalise.records import UNKNOWN_ZONE_TYPE
from toolkit.normalise.table import Table as KeyTable

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


def _shaped(template: str, alphabet: str) -> Callable[[Column], bytes | None]:
    """A test that every value of a column is ASCII text of ``template``'s shape: a character of
    ``alphabet`` wherever the template has ``0``, the template's own character elsewhere. The
    values joined by newlines are translated, ``alphabet`` to ``0``, in one pass of bytes and
    compared with the template repeated: the joined text, as bytes, when they all pass, else
    None. A value holding a newline cannot pass, since the text would then hold more newlines
    than the template repeated. (A regular expression over the same text took three times as
    long.)"""
    table = bytes.maketrans(alphabet.encode("ascii"), b"0" * len(alphabet))
    line = template.encode("ascii")

    def test(col: Column) -> bytes | None:
        try:
            text = "\n".join(col).encode("ascii")  # TypeError for a value not text: read_zones declines
        except UnicodeEncodeError:
            return None
        return text if text.translate(table) == b"\n".join(repeat(line, len(col))) else None

    return test


_DIGITS = "0123456789"
_GUIDS = _shaped("00000000-0000-0000-0000-000000000000", _DIGITS + "abcdef")  # as fast.GUID
# _time's shape: separators in place, ASCII digits, 7 fraction digits, Z; with _hours, hour 00-23;
# fromisoformat then refuses a day or a minute out of range, as it reads only digits in those fields.
_TIMES = _shaped("0000-00-00T00:00:00.0000000Z", _DIGITS)
_TWO = bytes.maketrans(_DIGITS.encode(), bytes([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]))
_FOUR_UP = bytes.maketrans(_DIGITS.encode(), bytes([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]))


def _hours(text: bytes) -> bool:
    """Whether every hour of a column of times in ``_TIMES``'s shape (``text``, as it returned)
    is 00-23: tens 0-2, and no 2 with units 4-9 (digits at bytes 11 and 12 of every 29)."""
    tens, units = text[11::29], text[12::29]
    return max(tens) <= ord("2") and not (
        int.from_bytes(tens.translate(_TWO), "big") & int.from_bytes(units.translate(_FOUR_UP), "big")
    )


def _key_id_column(col: Column) -> Column:
    if _GUIDS(col) is None:
        raise _f.NotPlain
    return col


def _time_column(col: Column) -> Column:
    """``_time`` over a column: null, or the script's UTC time (0001-01-01 -> None)."""
    if not _TEXT_TYPES.issuperset(map(type, col)) or "" in col:
        raise _f.NotPlain
    given = list(filter(None, col)) if None in col else col
    if not given:
        return col
    text = _TIMES(given)
    if text is None or not _hours(text):
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


#: A key record's members in descriptor field order (the order of ``_KEY_COLUMNS``)
_KEY_MEMBERS: Final = ("ZoneName", *(name for name, _ in _KEY_COLUMNS))
_KEY_ROW = itemgetter(*_KEY_MEMBERS)
_KEY_CONVERTERS = tuple(convert for _, convert in _KEY_COLUMNS)


def _key_descriptors(columns: Sequence[Column], zones: Column) -> list[SigningKey]:
    """Keys given as columns in ``_KEY_MEMBERS`` order, each of the zone at the same index of
    ``zones`` (a tuple), as descriptors; _f.NotPlain when any is not plain."""
    out = [_zone_name_column(columns[0], zones)]
    out.extend(convert(col) for convert, col in zip(_KEY_CONVERTERS, columns[1:], strict=True))
    return list(map(_f.new_key, *out))


def _keys(records: Column, zones: Column) -> list[SigningKey]:
    """Key records (schema 1), each of the zone at the same index of ``zones`` (a tuple), as
    descriptors; _f.NotPlain when any is not plain. Each record's members are read in one call,
    in field order, and the rows turned into columns by ``zip``."""
    if not records:
        return []
    if set(map(type, records)) != {dict} or set(map(len, records)) != {len(_KEY_MEMBERS)}:
        raise _f.NotPlain  # with the count, reading every name below means exactly the script's names
    return _key_descriptors(list(zip(*map(_KEY_ROW, records), strict=True)), zones)


def _table_keys(table: KeyTable, names: Column, others: frozenset[Any]) -> tuple[list[SigningKey], list[int]]:
    """The keys of the zones ``names`` from a schema 2 key table, and how many each zone has.
    The columns are taken as they are. Rows of the zones ``others`` (those read record by
    record) are left out; the rest must be exactly ``names``' rows, each zone's together and in
    zone order, else _f.NotPlain (the rows are then read record by record, by zone)."""
    columns = table.columns
    if len(columns) != len(_KEY_MEMBERS):
        raise _f.NotPlain
    picked = list(map(columns.__getitem__, _KEY_MEMBERS))  # KeyError: a member missing
    owners = picked[0]
    if others and not others.isdisjoint(owners):
        mine = [i for i, name in enumerate(owners) if name not in others]
        picked = [[col[i] for i in mine] for col in picked]
        owners = picked[0]
    counted = Counter(owners)
    counts = list(map(counted.__getitem__, names))
    zone_of_key = list(chain.from_iterable(map(repeat, names, counts)))
    if owners != zone_of_key:  # a row of another zone, or a zone's rows apart or out of order
        raise _f.NotPlain
    return _key_descriptors(picked, owners), counts


def _whole(obj: Any, names: frozenset[str]) -> bool:
    """A ``Zones[]`` record for the column reader: exactly the members ``names`` (the self-check's
    ``KeysListed`` optional), no errors, the settings an object or null (others are read record
    by record)."""
    return (
        type(obj) is dict
        and len(obj) + (_f.KEYS_LISTED not in obj) == len(names)
        and names.issuperset(obj)
        and obj["Errors"] == []
        and (obj["DnsSecSetting"] is None or type(obj["DnsSecSetting"]) is dict)
    )


def _whole_zone(obj: Any) -> bool:
    """``_whole`` for schema 1, whose zone records hold their keys: an array."""
    return _whole(obj, _f.ZONE_NAMES) and type(obj["SigningKeys"]) is list


def _whole_zone_2(obj: Any) -> bool:
    """``_whole`` for schema 2, whose zone records hold no keys (the key table does)."""
    return _whole(obj, _ZONE_NAMES_2)


_ZONE_NAMES_2: Final = _f.ZONE_NAMES - {"SigningKeys"}
_ZONE_FLAGS: Final = ("IsDsIntegrated", "IsReverseLookupZone", "IsAutoCreated")


#: A settings record's members but ZoneName and NSec3CurrentSalt: what zones configured alike share
_SETTINGS_SHARED = itemgetter(*sorted(_f.SETTINGS_NAMES - {"ZoneName", "NSec3CurrentSalt"}))
_SETTINGS_OWN = itemgetter("ZoneName", "NSec3CurrentSalt")
_SETTINGS_COUNT: Final = len(_f.SETTINGS_NAMES)
_SETTINGS_NAMES = tuple(f.name for f in dataclasses.fields(ZoneDnssecSettings))
if _SETTINGS_NAMES[0] != "zone" or _SETTINGS_NAMES[7] != "nsec3_current_salt":  # pragma: no cover
    raise TypeError("the settings fields moved: _settings builds them by position")
_SETTINGS_FIELDS = attrgetter(*_SETTINGS_NAMES)


def _settings(records: Column, zones: Column) -> list[ZoneDnssecSettings | None]:
    """The zones' ``DnsSecSetting`` records (or nulls) as descriptors; _f.NotPlain when one is
    not plain. Most zones of a server are configured alike: a record equal, value for value
    and type for type (``True == 1``), to the first one read in every member but ZoneName and
    NSec3CurrentSalt is not read again. It takes the first descriptor's values with its own
    zone and salt, read as columns with the tests ``fast.zone_settings`` applies to them. Any
    other record is read by ``fast.zone_settings``.

    When every record is alike (the usual server), the comparison runs over all of them at
    once: their shared members in one ``map``, compared by one ``count``, and the types of the
    members where the first holds a number or a flag in one ``map`` (a string, null or list
    equals only its own kind). Otherwise record by record (``_settings_each``)."""
    out: list[ZoneDnssecSettings | None] = [None] * len(records)
    present = [i for i, obj in enumerate(records) if obj is not None]
    if not present:
        return out
    head = present[0]
    first = _f.zone_settings(records[head], zones[head])
    if first is None:
        raise _f.NotPlain
    out[head] = first
    rest = present[1:]
    if not rest:
        return out
    objs = [records[i] for i in rest]
    if set(map(type, objs)) != {dict} or set(map(len, objs)) != {_SETTINGS_COUNT}:
        raise _f.NotPlain  # fast.zone_settings takes only records with exactly the script's members
    shared = _SETTINGS_SHARED(records[head])
    rows = list(map(_SETTINGS_SHARED, objs))
    numbers = [i for i, value in enumerate(shared) if type(value) in _NUMBER_KINDS]
    alike = rows.count(shared) == len(rows)
    if alike and numbers:
        pick = itemgetter(*numbers, numbers[0])  # always a tuple, even for one number
        kinds = list(map(type, pick(shared)))
        alike = list(map(type, chain.from_iterable(map(pick, rows)))) == kinds * len(rows)
    same = rest if alike else _settings_each(out, shared, rest, records, zones)
    _alike_settings(out, first, same, records, zones)
    return out


_NUMBER_KINDS: Final = frozenset((bool, int, float))


def _settings_each(
    out: list[ZoneDnssecSettings | None],
    shared: tuple[Any, ...],
    rest: list[int],
    records: Column,
    zones: Column,
) -> list[int]:
    """``_settings`` record by record for the records ``rest`` after the first (whose shared
    members are ``shared``): each record not alike is read into ``out``; the alike ones are
    returned."""
    alike: list[int] = []
    kinds = tuple(map(type, shared))
    for i in rest:
        obj = records[i]
        if (row := _SETTINGS_SHARED(obj)) == shared and tuple(map(type, row)) == kinds:
            alike.append(i)
            continue
        settings = _f.zone_settings(obj, zones[i])
        if settings is None:
            raise _f.NotPlain
        out[i] = settings
    return alike


def _alike_settings(
    out: list[ZoneDnssecSettings | None],
    first: ZoneDnssecSettings,
    alike: list[int],
    records: Column,
    zones: Column,
) -> None:
    """The records ``alike`` (equal to the first but for ZoneName and NSec3CurrentSalt) into
    ``out``: the first's values with each record's own name and salt, read as columns."""
    if not alike:
        return
    own_names, own_salts = zip(*(_SETTINGS_OWN(records[i]) for i in alike), strict=True)
    names = _zone_name_column(own_names, tuple(zones[i] for i in alike))
    salts = _str_column(own_salts)
    values = _SETTINGS_FIELDS(first)
    middle, tail = map(repeat, values[1:7]), map(repeat, values[8:])
    for i, settings in zip(alike, map(_f.new_settings, names, *middle, salts, *tail), strict=True):
        out[i] = settings


def _zone_columns(
    records: list[dict[str, Any]], table: KeyTable | None, others: frozenset[Any]
) -> list[Zone]:
    def column(name: str) -> Column:
        return list(map(itemgetter(name), records))

    names = column("ZoneName")
    if not _TEXT_TYPES.issuperset(map(type, names)) or None in names or not all(map(str.strip, names)):
        raise _f.NotPlain
    zone_types = [t or UNKNOWN_ZONE_TYPE for t in map(_f.ZONE_TYPE.__getitem__, column("ZoneType"))]
    flags = [list(map(bool, _bool_column(column(name)))) for name in _ZONE_FLAGS]
    scopes = list(map(_f.SCOPE.__getitem__, column("ReplicationScope")))

    settings = _settings(column("DnsSecSetting"), names)

    if table is None:
        key_lists = column("SigningKeys")
        counts = list(map(len, key_lists))
        zone_of_key = tuple(chain.from_iterable(map(repeat, names, counts)))
        read = _keys(list(chain.from_iterable(key_lists)), zone_of_key)
    else:
        read, counts = _table_keys(table, names, others)
    keys = iter(read)
    zone_keys = [tuple(islice(keys, n)) for n in counts]
    signed = _bool_column(column("IsSigned"))
    return list(map(_f.new_zone, names, zone_types, signed, *flags, scopes, settings, zone_keys, repeat(())))


def read_zones(items: list[Any], table: KeyTable | None = None) -> list[Zone | None]:
    """For each ``Zones[]`` entry, its Zone when the column reader took it, else None (the
    caller reads that entry record by record). The reader takes every entry in the plain
    shape (``_whole_zone``), or none when any value of theirs is not plain. ``table``: the key
    table of a schema 2 document (None for schema 1, whose zones hold their keys); when the
    reader takes any zone, every row of the table belongs to a zone of ``items``, and the rows
    of the zones it took are read."""
    out: list[Zone | None] = [None] * len(items)
    whole_zone = _whole_zone if table is None else _whole_zone_2
    whole = [i for i, obj in enumerate(items) if whole_zone(obj)]
    if not whole:
        return out
    try:
        others: frozenset[Any] = frozenset()
        if table is not None and len(whole) < len(items):
            taken = set(whole)  # the other zones' names, to leave their rows to the record readers
            others = frozenset(
                obj.get("ZoneName") for i, obj in enumerate(items) if i not in taken and type(obj) is dict
            )
        zones = _zone_columns([items[i] for i in whole], table, others)
    except (_f.NotPlain, TypeError, KeyError):  # TypeError: an object or array where a table wants a key
        return out
    for i, zone in zip(whole, zones, strict=True):
        out[i] = zone
    return out
