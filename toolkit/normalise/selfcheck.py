"""The inventory's self-check: does the document hold what the server said it listed?

``inventory.ps1`` prints, beside the zones and keys, what it was asked (``Request``) and counts
taken apart from the loop that built the zones (``Check``, and ``KeysListed`` on each zone whose
keys were read): how many zones a separate ``Get-DnsServerZone`` listed, how many of them are
primary, how many zone entries and key rows the script emitted, how many objects each zone's
``Get-DnsServerSigningKey`` returned. ``check_answer`` compares them with what the document holds
and raises ``ProtocolError`` naming the first mismatch ("the server listed 41 zones, the
inventory holds 0"), so a script that silently dropped data fails the host instead of passing it
as clean (docs/inventory-schema.md, "Self-check").

A document without ``Request``/``Check`` (a stored scan or a file written before the self-check
existed) is accepted as it is unless the caller says the answer came live from the server
(``asked`` given): then the toolkit's own script ran, and a missing self-check is itself a
mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from toolkit.errors import ProtocolError
from toolkit.normalise.records import zone_key

__all__ = ["ALL_ZONES", "NOT_ASKED", "check_answer"]


class _Ask:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: ``asked`` for a live full audit (no ZoneName sent).
ALL_ZONES: Final = _Ask("ALL_ZONES")
#: ``asked`` for a document whose request is not known (a file, a stored scan).
NOT_ASKED: Final = _Ask("NOT_ASKED")


def _fail(source: str | None, text: str) -> ProtocolError:
    where = f"{source}: " if source else ""
    return ProtocolError(f"{where}self-check failed: {text}")


def _count(value: Any, member: str, source: str | None) -> int:
    if type(value) is not int or value < 0:
        raise _fail(source, f"{member} is {value!r}, not a count")
    return value


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _key_rows(doc: Mapping[str, Any]) -> tuple[int, dict[str, int]] | None:
    """Key rows in the document, in all and per zone_key; None when the shape is not readable
    (the normaliser then reports that structure error itself)."""
    table = doc.get("Keys")
    if isinstance(table, Mapping):  # schema 2
        names = table.get("ZoneName")
        if not isinstance(names, list):
            return None
        per: dict[str, int] = {}
        for name in names:
            if isinstance(name, str):
                per[zone_key(name)] = per.get(zone_key(name), 0) + 1
        return len(names), per
    per = {}
    total = 0
    for z in doc.get("Zones") or ():
        if isinstance(z, Mapping) and isinstance(z.get("ZoneName"), str):
            keys = z.get("SigningKeys")
            n = len(keys) if isinstance(keys, list) else 0
            per[zone_key(z["ZoneName"])] = per.get(zone_key(z["ZoneName"]), 0) + n
            total += n
    return total, per


def _check_request(request: Any, asked: object, source: str | None) -> tuple[bool, list[str]]:
    if not isinstance(request, Mapping) or type(request.get("AllZones")) is not bool:
        raise _fail(source, f"Request is {request!r}, not {{AllZones, ZoneName}}")
    all_zones: bool = request["AllZones"]
    names = request.get("ZoneName") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _fail(source, f"Request.ZoneName is {names!r}, not a list of names")
    if asked is ALL_ZONES and not all_zones:
        raise _fail(
            source,
            f"every zone was asked for, but the script answered for named zones only ({len(names)} named)",
        )
    if isinstance(asked, Sequence) and not isinstance(asked, str):
        if all_zones:
            raise _fail(source, f"{_plural(len(asked), 'zone')} were named, but the script listed every zone")
        want = sorted(zone_key(n) for n in asked if n.strip())
        got = sorted(zone_key(n) for n in names)
        if want != got:
            raise _fail(
                source,
                f"the zones asked for ({', '.join(want)}) are not the zones the script was given "
                f"({', '.join(got)})",
            )
    return all_zones, names


def check_answer(doc: Any, *, asked: object = NOT_ASKED, source: str | None = None) -> None:
    """Raise ProtocolError when the document's self-check does not match what it holds.

    ``asked``: ``ALL_ZONES`` for a live full audit, a sequence of zone names for a live audit of
    those zones, ``NOT_ASKED`` (the default) for a document read from a file or the history.
    A document that is not an object, or has no ``Zones`` array, is left to the normaliser.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Zones"), list):
        return
    request, check = doc.get("Request"), doc.get("Check")
    if request is None and check is None:
        if asked is not NOT_ASKED:
            raise _fail(source, "the answer carries no Request/Check: this toolkit's script did not print it")
        return
    all_zones, names = _check_request(request, asked, source)
    if not isinstance(check, Mapping):
        raise _fail(source, f"Check is {check!r}, not an object of counts")
    zones: list[Any] = doc["Zones"]
    held = len(zones)
    if all_zones:
        listed = _count(check.get("ZonesListed"), "Check.ZonesListed", source)
        if listed != held:
            raise _fail(source, f"the server listed {_plural(listed, 'zone')}, the inventory holds {held}")
        primary = _count(check.get("PrimaryZonesListed"), "Check.PrimaryZonesListed", source)
        held_primary = sum(1 for z in zones if isinstance(z, Mapping) and z.get("ZoneType") == "Primary")
        if primary != held_primary:
            raise _fail(
                source,
                f"the server listed {_plural(primary, 'primary zone')}, the inventory holds {held_primary}",
            )
    elif len(names) != held:
        raise _fail(
            source, f"the script was given {_plural(len(names), 'zone name')}, the inventory holds {held}"
        )
    emitted = _count(check.get("ZonesEmitted"), "Check.ZonesEmitted", source)
    if emitted != held:
        raise _fail(source, f"the script emitted {_plural(emitted, 'zone')}, the inventory holds {held}")
    rows = _key_rows(doc)
    if rows is None:
        return
    total, per_zone = rows
    key_rows = _count(check.get("KeyRowsEmitted"), "Check.KeyRowsEmitted", source)
    if key_rows != total:
        raise _fail(source, f"the script emitted {_plural(key_rows, 'key row')}, the inventory holds {total}")
    # per zone name as Windows compares them: a zone printed twice is the normaliser's error
    listed_per: dict[str, tuple[str, int]] = {}
    for z in zones:
        if not isinstance(z, Mapping) or "KeysListed" not in z or not isinstance(z.get("ZoneName"), str):
            continue
        name = z["ZoneName"]
        n = _count(z["KeysListed"], f"KeysListed of {name}", source)
        before = listed_per.get(zone_key(name), (name, 0))[1]
        listed_per[zone_key(name)] = (name, before + n)
    for key, (name, listed_keys) in listed_per.items():
        got = per_zone.get(key, 0)
        if listed_keys != got:
            raise _fail(
                source,
                f"the server listed {_plural(listed_keys, 'signing key')} for {name}, "
                f"the inventory holds {got}",
            )
