"""Read scripts of the simulated server: what ``ps_scripts/inventory.ps1`` prints."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from toolkit.errors import CmdletError
from toolkit.model import INVENTORY_SCHEMA, INVENTORY_SCHEMA_VERSION
from toolkit.normalise.table import KEYS, key_table

if TYPE_CHECKING:
    from toolkit.simulator.server import SimulatedServer

__all__ = ["HANDLERS", "inventory"]

_ZONE_FIELDS = (
    "ZoneName",
    "ZoneType",
    "IsSigned",
    "IsDsIntegrated",
    "IsReverseLookupZone",
    "IsAutoCreated",
    "ReplicationScope",
)
# Fixture-only members that a real server would never print.
_PRIVATE = frozenset(("Faults", "Illustrates", "DnsKey", "Description"))
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _copy(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars): what ``copy.deepcopy`` gives for it,
    several times faster, since the state holds nothing else."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_SHARING: ContextVar[bool] = ContextVar("simulator_sharing_state", default=False)


@contextlib.contextmanager
def sharing_state() -> Iterator[None]:
    """Within it (``SimulatedServer.run_text``, which serialises the answer under the server's
    lock), a record without fixture-only members is handed out as the state holds it."""
    token = _SHARING.set(True)
    try:
        yield
    finally:
        _SHARING.reset(token)


def public_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a fixture record without its fixture-only members. Most members are scalars:
    they are taken as they are, and only the few lists and objects are copied deeply. Within
    ``sharing_state`` a record with no fixture-only member is the record itself."""
    if type(record) is dict and _PRIVATE.isdisjoint(record) and _SHARING.get():
        return record
    return {
        k: v if type(v) in _SCALARS else _copy(v) for k, v in record.items() if k not in _PRIVATE
    }


def zone_record(z: Mapping[str, Any]) -> dict[str, Any]:
    """The Get-DnsServerZone members of a fixture zone (what the scripts print for it)."""
    return {k: _copy(z.get(k)) for k in _ZONE_FIELDS if k in z}


def _error(stage: str, fault: Mapping[str, Any], zone: str | None = None) -> dict[str, Any]:
    code = fault.get("Code")
    msg = str(fault.get("Message") or "The operation failed.")
    fqid = fault.get("FullyQualifiedErrorId") or (f"WIN32 {code},{stage}" if code is not None else None)
    return {"Stage": stage, "Code": code, "Message": msg, "FullyQualifiedErrorId": fqid}


def _raise_fault(fault: Mapping[str, Any], default_cmdlet: str) -> None:
    cmdlet = str(fault.get("Cmdlet") or default_cmdlet)
    code = fault.get("Code")
    raise CmdletError(
        str(fault.get("Message") or "The operation failed."),
        code=int(code) if code is not None else None,
        cmdlet=cmdlet,
        fully_qualified_error_id=fault.get("FullyQualifiedErrorId")
        or (f"WIN32 {code},{cmdlet}" if code is not None else None),
    )


def _zone_entry(server: SimulatedServer, z: Mapping[str, Any]) -> dict[str, Any]:
    entry = zone_record(z)
    if str(z.get("ZoneType", "")).lower() != "primary":
        entry.pop("IsSigned", None)  # the CIM class of secondaries has no IsSigned
    errors: list[dict[str, Any]] = []
    keys = z.get("SigningKeys") or []
    setting = z.get("DnsSecSetting")
    dnssec_relevant = str(z.get("ZoneType", "")).lower() == "primary" and not z.get("IsAutoCreated")
    entry["DnsSecSetting"] = None
    entry["SigningKeys"] = []  # moved to the document's key table by ``inventory``
    if dnssec_relevant:
        f = server.fault(z, "Get-DnsServerDnsSecZoneSetting")
        if f:
            errors.append(_error("Get-DnsServerDnsSecZoneSetting", f))
        elif setting is not None and (z.get("IsSigned") or keys):
            entry["DnsSecSetting"] = public_record(setting)
        f = server.fault(z, "Get-DnsServerSigningKey")
        if f:
            errors.append(_error("Get-DnsServerSigningKey", f))
        else:
            entry["SigningKeys"] = [public_record(k) for k in keys]
            entry["KeysListed"] = len(keys)
    entry["Errors"] = errors
    return entry


def inventory(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``inventory`` script: one document with everything an audit needs."""
    fault = server.fault(server.state, "Inventory")
    if fault:
        _raise_fault(fault, "Get-DnsServerZone")
    wanted = params.get("ZoneName") or None
    if isinstance(wanted, str):
        wanted = [wanted]
    zones: list[dict[str, Any]] = []
    if wanted:
        for name in wanted:
            z = server.find_zone(str(name))
            if z is None:
                zones.append(
                    {
                        "ZoneName": str(name),
                        "ZoneType": None,
                        "DnsSecSetting": None,
                        "Errors": [
                            {
                                "Stage": "Get-DnsServerZone",
                                "Code": 9601,
                                "Message": f"The zone {name} was not found on server {server.name}.",
                                "FullyQualifiedErrorId": "WIN32 9601,Get-DnsServerZone",
                            }
                        ],
                    }
                )
            else:
                zones.append(_zone_entry(server, z))
    else:
        zones = [_zone_entry(server, z) for z in server.state["Zones"]]
    top_errors: list[dict[str, Any]] = []
    anchors: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for stage, key, sink in (
        ("Get-DnsServerTrustAnchor", "TrustAnchors", anchors),
        ("Get-DnsServerTrustPoint", "TrustPoints", points),
    ):
        f = server.fault(server.state, stage)
        if f:
            top_errors.append(_error(stage, f))
        else:
            sink.extend(public_record(r) for r in server.state.get(key, []))
    from toolkit.simulator.server import iso

    # Schema 2: every zone's keys in one table, each zone's rows together, in zone order; a
    # row's ZoneName is its zone entry's (as the script writes it).
    rows: list[dict[str, Any]] = []
    for entry in zones:
        for record in entry.pop("SigningKeys", None) or ():
            rows.append({**record, "ZoneName": entry["ZoneName"]})
    # The self-check (inventory.ps1 "-- self-check --"): its own condition, a separate listing.
    if "ZoneName" in params:
        names = params["ZoneName"]
        names = [names] if isinstance(names, str) else list(names or ())
        request = {"AllZones": False, "ZoneName": [str(n) for n in names if str(n).strip()]}
        listed = primary_listed = None
    else:
        request = {"AllZones": True, "ZoneName": []}
        listing = server.state["Zones"]
        listed = len(listing)
        primary_listed = sum(1 for z in listing if str(z.get("ZoneType")) == "Primary")
    check = {
        "ZonesListed": listed,
        "PrimaryZonesListed": primary_listed,
        "ZonesEmitted": len(zones),
        "KeyRowsEmitted": len(rows),
    }
    return {
        "Schema": INVENTORY_SCHEMA,
        "SchemaVersion": INVENTORY_SCHEMA_VERSION,
        "CollectedAt": iso(server.now),
        "Server": public_record(server.state["Server"]),
        "Request": request,
        "Check": check,
        "Zones": zones,
        KEYS: key_table(rows),
        "TrustAnchors": anchors,
        "TrustPoints": points,
        "Errors": top_errors,
    }


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {"inventory": inventory}
