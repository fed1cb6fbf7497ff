"""The ``Keys`` table of a schema 2 inventory document: every zone's signing keys as columns.

Schema 1 nests each zone's keys in the zone (``Zones[i].SigningKeys``, one object per key).
Schema 2 prints them once for the document, as a table: an object whose members are the key
record's members (``ZoneName``, ``KeyId``, ... exactly as schema 1 names them), each an array
holding that member of every key. Row ``i`` is the key record ``{member: column[i]}``; its
``ZoneName`` names its zone, and the script prints each zone's rows together, in zone order.
The member names are then printed once per document instead of once per key; the reader
takes the table row by row (``Table.rows_by_zone``).

Errors in a row name the row as ``$.Keys[i]`` and its member as ``$.Keys[i].KeyLength``. A
table that is not an object of arrays of one length is a structure error of the document, as a
``Zones`` that is not an array.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from toolkit.normalise.cim import MISSING
from toolkit.normalise.coerce import describe, fail
from toolkit.normalise.records import zone_key

__all__ = ["KEYS", "KEY_COLUMNS", "Table", "key_table", "read_table"]

#: The document member holding the key table.
KEYS = "Keys"
#: Its columns, in the order ``inventory.ps1`` prints them (the members of ``ConvertTo-WindnsKey``).
KEY_COLUMNS: Final = (
    "ZoneName", "KeyId", "KeyType", "CurrentState", "KeyStorageProvider", "StoreKeysInAD",
    "CryptoAlgorithm", "KeyLength", "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod",
    "ZoneSignatureValidityPeriod", "InitialRolloverOffset", "RolloverPeriod", "RolloverType",
    "NextRolloverAction", "LastRolloverTime", "NextRolloverTime", "CurrentRolloverStatus",
    "ActiveKey", "StandbyKey", "NextKey", "IsRolloverEnabled",
)  # fmt: skip


def key_table(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Key records -> the key table, every column of ``KEY_COLUMNS`` (a member a record lacks
    is null there, as the script prints a property the key object lacks)."""
    rows = list(records)
    return {name: [r.get(name) for r in rows] for name in KEY_COLUMNS}


@dataclass(frozen=True, slots=True)
class Table:
    """A checked table: its path, columns (member -> values) and number of rows."""

    path: str
    columns: dict[str, list[Any]] = field(default_factory=dict)
    length: int = 0

    def record(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """A row's values (as ``rows_by_zone`` gives them) as a key record."""
        return dict(zip(self.columns, values, strict=True))

    @property
    def plain(self) -> bool:
        """The table has exactly the script's columns, in its order (``KEY_COLUMNS``): each row's
        values are then a key record's in that order."""
        return tuple(self.columns) == KEY_COLUMNS

    def rows_by_zone(
        self,
    ) -> tuple[dict[str, list[tuple[tuple[Any, ...], str]]], list[tuple[Any, str]]]:
        """The rows (each its values, in column order; ``record`` makes one a key record)
        grouped by ``zone_key`` of their ``ZoneName`` (rows of one zone in table order), and
        the rows whose ``ZoneName`` is not text, with their paths: (value, path of the value)."""
        names = self.columns.get("ZoneName", [None] * self.length)
        rows = list(zip(*self.columns.values(), strict=True))
        grouped: dict[str, list[tuple[tuple[Any, ...], str]]] = {}
        stray: list[tuple[Any, str]] = []
        last: Any = None  # the script prints a zone's rows together: one zone_key per run of them
        bucket: list[tuple[tuple[Any, ...], str]] = []
        for i, name in enumerate(names):
            if type(name) is not str or not name.strip():
                stray.append((name, f"{self.path}[{i}].ZoneName"))
                last = None
                continue
            if name != last:
                bucket = grouped.setdefault(zone_key(name), [])
                last = name
            bucket.append((rows[i], f"{self.path}[{i}]"))
        return grouped, stray


def read_table(value: Any, path: str) -> Table:
    """The table at ``path`` (``value`` as parsed, MISSING when absent): absent or null is an
    empty table; otherwise an object whose every member is an array, all of one length."""
    if value is MISSING or value is None:
        return Table(path)
    if type(value) is not dict:
        fail(path, f"expected an object of columns (member: array), got {describe(value)}")
    length: int | None = None
    first = ""
    for name, column in value.items():
        if type(column) is not list:
            fail(f"{path}.{name}", f"expected an array (a column of the table), got {describe(column)}")
        if length is None:
            length, first = len(column), name
        elif len(column) != length:
            fail(f"{path}.{name}", f"has {len(column)} values, but {path}.{first} has {length}")
    if length and "ZoneName" not in value:
        fail(f"{path}.ZoneName", "required column is missing (it names each row's zone)")
    return Table(path, value, length or 0)
