"""FakeRemote: the Remote seam answered by a simulated server, in-process.

It records every call (script name and parameters), can add latency per call (benchmarks,
slow-host tests) and can fail every call with a given toolkit error (connection refused,
timeouts, bad credentials) so the layers above are tested against each failure class.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import jsontext
from toolkit.errors import RemoteError
from toolkit.fleet import FleetInventory, HostSpec
from toolkit.remote.base import ClosingRemote, RemoteResult
from toolkit.testing.simulator import Fleet, SimulatedServer

__all__ = ["Call", "FakeRemote", "demo_inventory", "load_fleet", "open_fake"]


@dataclass(frozen=True, slots=True)
class Call:
    script: str
    params: Mapping[str, Any] = field(default_factory=dict)


class FakeRemote(ClosingRemote):
    def __init__(
        self,
        server: SimulatedServer,
        *,
        host: str | None = None,
        latency: float = 0.0,
        fail_with: BaseException | None = None,
        serialize: bool = True,
    ) -> None:
        self.server = server
        self.host = host or server.name
        self.latency = latency
        self.fail_with = fail_with
        # serialize=True sends the answer through JSON text like a real transport, so callers
        # never share mutable state with the simulator.
        self.serialize = serialize
        self.calls: list[Call] = []
        self.closed = False

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        start = time.perf_counter()
        self.calls.append(Call(script, copy.deepcopy(dict(params or {}))))
        if self.latency:
            time.sleep(self.latency)
        if self.fail_with is not None:
            exc = self.fail_with
            if isinstance(exc, RemoteError) and exc.host is None:
                exc.host = self.host
            raise exc
        raw = ""
        try:
            if self.serialize:
                raw = self.server.run_text(script, params)
                data = jsontext.loads(raw)
            else:
                data = self.server.run(script, params)
        except RemoteError as exc:
            exc.host = exc.host or self.host
            raise
        return RemoteResult(script=script, data=data, raw=raw, elapsed=time.perf_counter() - start)

    @property
    def write_calls(self) -> list[Call]:
        """The calls that may change the server: every script but the reads."""
        return [c for c in self.calls if c.script not in READ_SCRIPTS]

    def close(self) -> None:
        self.closed = True


#: the scripts that only read (``ps_scripts/README.md``); ``write_calls`` leaves them out
READ_SCRIPTS = frozenset({"inventory", "zone_dnskeys", "raw_sample", "doctor_probe"})

_FLEETS: dict[Path, Fleet] = {}


def load_fleet(fixtures: Path | None = None) -> Fleet:
    """The simulated fleet in ``fixtures`` (default: the bundled demo), loaded once per process
    so writes made through one FakeRemote are seen by the next."""
    from toolkit.resources import demo_fixtures_dir

    directory = (fixtures or demo_fixtures_dir()).resolve()
    fleet = _FLEETS.get(directory)
    if fleet is None:
        fleet = _FLEETS[directory] = Fleet.load(directory)
    return fleet


def open_fake(
    address: str,
    *,
    fixtures: Path | None = None,
    name: str | None = None,
    latency: float = 0.0,
    fail_with: BaseException | None = None,
) -> FakeRemote:
    """The ``fake`` transport: simulated server ``address`` of the fleet in ``fixtures``."""
    return FakeRemote(load_fleet(fixtures).get(address), host=name, latency=latency, fail_with=fail_with)


def demo_inventory(fixtures: Path | None = None, *, include_unreadable: bool = False) -> FleetInventory:
    """The simulated servers of the demo fleet (or ``fixtures``), over the fake transport.

    Servers whose whole inventory fails (the demo's access-denied DNS3) are left out unless
    ``include_unreadable``: the demo scan shows a fleet with findings (exit 1), and
    ``--demo-all`` shows what a host error looks like (exit 2).
    """
    fleet = load_fleet(fixtures)
    hosts = tuple(
        HostSpec(name=s.name, address=s.name, transport="fake")
        for s in fleet
        if include_unreadable or "Inventory" not in s.faults
    )
    return FleetInventory(hosts=hosts, source="<demo fleet>")
