"""One simulated server: fixture loading, state, script dispatch, persistence."""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from toolkit import jsontext
from toolkit.errors import CmdletError, ConfigError
from toolkit.model import zone_key
from toolkit.testing.simulator.powershell import iso

__all__ = ["FIXTURE_VERSION", "SimulatedServer", "iso", "parse_fixture_time"]

FIXTURE_VERSION = 1

Handler = Callable[["SimulatedServer", Mapping[str, Any]], Any]

# Fixture files may write TimeSpans as "755d", "168h", "30m", "90s" and times as "now", "now+30d",
# "now-20d"; they are resolved once, at load, against the simulator's clock. That keeps the demo
# fleet meaningful on any date (a rollover "due in 30 days" stays due in 30 days).
_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhms])\s*$")
_REL_RE = re.compile(r"^\s*now\s*(?:([+-])\s*(\d+(?:\.\d+)?)\s*([dhms]))?\s*$", re.IGNORECASE)
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}

TIMESPAN_FIELDS = frozenset(
    {
        "DnsKeySignatureValidityPeriod",
        "DSSignatureValidityPeriod",
        "ZoneSignatureValidityPeriod",
        "InitialRolloverOffset",
        "RolloverPeriod",
        "DSRecordSetTtl",
        "DnsKeyRecordSetTtl",
        "SignatureInceptionOffset",
        "SecureDelegationPollingPeriod",
        "PropagationTime",
        "MaximumSignatureScanPeriod",
        "MaximumTrustAnchorActiveRefreshInterval",
    }
)
TIME_FIELDS = frozenset(
    {
        "LastRolloverTime",
        "NextRolloverTime",
        "EnteredStateTime",
        "NextStateTime",
        "LastActiveRefreshTime",
        "NextActiveRefreshTime",
        "LastSuccessfulActiveRefreshTime",
    }
)


def parse_fixture_time(value: str, now: datetime) -> str:
    m = _REL_RE.match(value)
    if m:
        if not m.group(1):
            return iso(now)
        delta = timedelta(seconds=float(m.group(2)) * _UNIT[m.group(3).lower()])
        return iso(now + delta if m.group(1) == "+" else now - delta)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad time {value!r} (use ISO 8601 or now[+-]N[dhms])") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return iso(dt)


def _resolve(obj: Any, now: datetime, path: str) -> Any:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            sub = f"{path}.{k}"
            if k in TIMESPAN_FIELDS and isinstance(v, str):
                m = _SPAN_RE.match(v)
                if not m:
                    raise ValueError(f"{sub}: bad TimeSpan {v!r} (use seconds or N[dhms])")
                out[k] = float(m.group(1)) * _UNIT[m.group(2)]
            elif k in TIME_FIELDS and isinstance(v, str):
                try:
                    out[k] = parse_fixture_time(v, now)
                except ValueError as exc:
                    raise ValueError(f"{sub}: {exc}") from None
            else:
                out[k] = _resolve(v, now, sub)
        return out
    if isinstance(obj, list):
        return [_resolve(v, now, f"{path}[{i}]") for i, v in enumerate(obj)]
    return obj


def _registry() -> dict[str, Handler]:
    # Imported here, not at module top: reads/writes import this module for types.
    from toolkit.testing.simulator import doctor, export, reads, writes

    return {**reads.HANDLERS, **writes.HANDLERS, **export.HANDLERS, **doctor.HANDLERS}


class SimulatedServer:
    """A Windows DNS server in memory.

    ``state`` holds records shaped like the inventory document (docs/inventory-schema.md):
    ``Server``, ``Zones`` (each with ``DnsSecSetting``, ``SigningKeys``, optional ``Faults``),
    ``TrustAnchors``, ``TrustPoints``, plus fixture-only ``Faults`` and ``Description``.
    Calls are serialised by a lock so the wire-level endpoint may call from many threads.
    """

    def __init__(self, doc: Mapping[str, Any], *, path: Path | None = None, now: datetime | None = None):
        self.now = now or datetime.now(UTC)
        self.path = path
        where = str(path) if path else "fixture"
        if not isinstance(doc, Mapping):
            raise ConfigError("fixture must be a JSON object", file=where)
        version = doc.get("FixtureVersion", FIXTURE_VERSION)
        if version != FIXTURE_VERSION:
            raise ConfigError(
                f"unsupported FixtureVersion {version!r} (this toolkit reads {FIXTURE_VERSION})", file=where
            )
        try:
            self.state: dict[str, Any] = _resolve(copy.deepcopy(dict(doc)), self.now, "$")
        except ValueError as exc:
            raise ConfigError(str(exc), file=where) from None
        server = self.state.get("Server")
        if not isinstance(server, dict) or not isinstance(server.get("ComputerName"), str):
            raise ConfigError("fixture needs Server.ComputerName", file=where)
        zones = self.state.setdefault("Zones", [])
        if not isinstance(zones, list) or not all(isinstance(z, dict) and z.get("ZoneName") for z in zones):
            raise ConfigError("Zones must be a list of objects with ZoneName", file=where)
        for z in zones:
            z.setdefault("SigningKeys", [])
            for i, k in enumerate(z["SigningKeys"]):
                k.setdefault("ZoneName", z["ZoneName"])
                k.setdefault("KeyId", str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}/{z['ZoneName']}/{i}")))
        self.state.setdefault("TrustAnchors", [])
        self.state.setdefault("TrustPoints", [])
        self.lock = threading.RLock()
        self._handlers = _registry()

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.state["Server"]["ComputerName"])

    @property
    def description(self) -> str:
        return str(self.state.get("Description", ""))

    @property
    def faults(self) -> dict[str, Any]:
        f = self.state.get("Faults") or {}
        return f if isinstance(f, dict) else {}

    # -- dispatch -------------------------------------------------------------------------
    def run(self, script: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run the mirror of ``ps_scripts/<script>.ps1`` (``toolkit.testing.simulator.reads``/``writes``/
        ``export``) over the state; returns the JSON-able document it prints, built afresh by the
        script's projections, so it shares nothing with the state."""
        handler = self._handler(script)
        with self.lock:
            return handler(self, dict(params or {}))

    def run_text(self, script: str, params: Mapping[str, Any] | None = None) -> str:
        """``run`` as the JSON text the script prints (what a transport receives)."""
        handler = self._handler(script)
        with self.lock:
            return jsontext.dumps(handler(self, dict(params or {})))

    def _handler(self, script: str) -> Handler:
        handler = self._handlers.get(script)
        if handler is None:
            raise CmdletError(
                f"The term '{script}' is not recognized as the name of a script known to this server.",
                cmdlet=script,
                fully_qualified_error_id=f"CommandNotFoundException,{script}",
            )
        return handler

    # -- state helpers used by handlers ---------------------------------------------------
    def find_zone(self, name: str) -> dict[str, Any] | None:
        key = zone_key(name)
        for z in self.state["Zones"]:
            if zone_key(str(z["ZoneName"])) == key:
                return z  # type: ignore[no-any-return]
        return None

    def zone_or_error(self, name: str, cmdlet: str) -> dict[str, Any]:
        z = self.find_zone(name)
        if z is None:
            raise CmdletError(
                f"The zone {name} was not found on server {self.name}.",
                code=9601,
                cmdlet=cmdlet,
                fully_qualified_error_id=f"WIN32 9601,{cmdlet}",
            )
        return z

    def fault(self, scope: Mapping[str, Any] | None, stage: str) -> dict[str, Any] | None:
        faults = (scope or {}).get("Faults") if scope is not None else None
        if isinstance(faults, dict):
            f = faults.get(stage)
            if isinstance(f, dict):
                return f
        return None

    def save(self, path: Path | None = None) -> Path:
        target = path or self.path
        if target is None:
            raise ConfigError("this simulated server has no file to save to")
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(target)
        return target
