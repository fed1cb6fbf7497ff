"""MockRemote: the Remote seam answered by a function of yours, for your own tests.

As httpx's ``MockTransport`` does for HTTP, ``MockRemote(handler)`` calls
``handler(script, params)`` for every ``run`` and returns what it gives::

    def handler(script, params):
        if script == "inventory":
            return {"SchemaVersion": 2, "Zones": [], ...}
        raise CmdletError("Access is denied.", code=5, cmdlet="Get-DnsServerZone")

    audit_server(MockRemote(handler), "dns1")

The handler returns the script's JSON document (a dict, list or JSON text) or a
``RemoteResult``, or raises a ``toolkit.errors`` error as a real transport would. A dict or list
goes through JSON text, as a real answer does, so nothing is shared with the handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from toolkit import jsontext
from toolkit.errors import RemoteError
from toolkit.remote.base import ClosingRemote, RemoteResult

__all__ = ["Handler", "MockRemote"]

Handler = Callable[[str, Mapping[str, Any]], Any]


class MockRemote(ClosingRemote):
    """A ``Remote`` whose answers come from ``handler(script, params)``."""

    def __init__(self, handler: Handler, *, host: str = "mock") -> None:
        self.handler = handler
        self.host = host
        self.closed = False

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        start = time.perf_counter()
        try:
            answer = self.handler(script, dict(params or {}))
        except RemoteError as exc:
            exc.host = exc.host or self.host
            raise
        if isinstance(answer, RemoteResult):
            return answer
        raw = answer if isinstance(answer, str) else jsontext.dumps(answer)
        return RemoteResult(
            script=script, data=jsontext.loads(raw), raw=raw, elapsed=time.perf_counter() - start
        )

    def close(self) -> None:
        self.closed = True
