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
from typing import Any

from toolkit import jsontext
from toolkit.errors import RemoteError
from toolkit.remote.base import ClosingRemote, RemoteResult
from toolkit.simulator import SimulatedServer

__all__ = ["Call", "FakeRemote"]


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
        return [c for c in self.calls if c.script != "inventory"]

    def close(self) -> None:
        self.closed = True

