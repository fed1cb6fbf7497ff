"""Inventory documents of one schema in the shape of the other, for tests.

Schema 2 (what the script and the simulator print) keeps every zone's keys in the document's
key table (``Keys``); schema 1 nests them in each zone (``Zones[i].SigningKeys``). Tests that
look at one zone's keys read the nested shape; tests of the reader compare both shapes.
"""

from __future__ import annotations

import copy
from typing import Any

from toolkit.normalise.table import KEY_COLUMNS, key_table

#: The self-check members (docs/inventory-schema.md, "Self-check"): counts of what the server
#: listed, which a test that changes a document's zones or keys makes untrue on purpose.
SELF_CHECK = ("Request", "Check")


def without_self_check(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` without its self-check, as files written before it existed are: for
    tests of the reader that change zones or keys (the self-check is tested in test_selfcheck)."""
    out = copy.deepcopy(doc)
    for name in SELF_CHECK:
        out.pop(name, None)
    for zone in out.get("Zones") or ():
        if isinstance(zone, dict):
            zone.pop("KeysListed", None)
    return out


def nested(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema 2 document in schema 1's shape: each zone's rows of the key table as its
    ``SigningKeys`` (rows matched by exact ``ZoneName``), ``SchemaVersion`` 1, without the
    self-check (the tests that read this shape change its keys)."""
    out = without_self_check(doc)
    table = out.pop("Keys", None) or {}
    length = len(next(iter(table.values()), []))
    rows = [{name: column[i] for name, column in table.items()} for i in range(length)]
    for zone in out["Zones"]:
        zone["SigningKeys"] = [row for row in rows if row.get("ZoneName") == zone["ZoneName"]]
    out["SchemaVersion"] = 1
    return out


def tabled(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema 1 document in schema 2's shape: every zone's ``SigningKeys`` records moved to
    the key table (the script's columns; a member a record lacks is null; a null ``ZoneName``
    is the zone's, as the script writes every row's), ``SchemaVersion`` 2. What is not a list
    of records stays where it was. Without the self-check, as ``nested``."""
    out = without_self_check(doc)
    rows: list[dict[str, Any]] = []
    for zone in out["Zones"]:
        keys = zone.get("SigningKeys") if isinstance(zone, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            continue
        del zone["SigningKeys"]
        for key in keys:
            if key.get("ZoneName") is None:
                key["ZoneName"] = zone.get("ZoneName")
            rows.append(key)
    extra = sorted({name for row in rows for name in row} - set(KEY_COLUMNS))
    out["Keys"] = key_table(rows)
    for name in extra:  # members beyond the script's stay, as columns of their own
        out["Keys"][name] = [row.get(name) for row in rows]
    out["SchemaVersion"] = 2
    return out
