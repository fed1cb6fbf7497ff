"""Faults the loopback endpoint can inject per host, from a fixture or set by a test.

A fixture declares them under ``Faults.Wire`` (a list), for example::

    "Faults": {"Wire": [{"Kind": "latency", "Seconds": 0.02},
                        {"Kind": "reset", "Operation": "Receive", "Times": 1}]}

Kinds:

=====================  ==========================================================================
``latency``            sleep ``Seconds`` before answering every HTTP exchange
``refuse``             no listener on the host's port (connection refused)
``reset``              close the TCP connection with a RST instead of answering (default: Receive)
``http401``            answer 401 whatever the credentials
``access_denied``      HTTP 500, WSManFault 5 "Access is denied." (0x80070005)
``operation_timeout``  HTTP 500, WSManFault 2150858793 (default operation: Command)
``quota_exceeded``     HTTP 500, WSManFault 2150859174 maximum shells (default operation: Create)
``hang``               never answer: hold the request until the client gives up
``truncate``           answer 200 with the XML cut in half (default: Receive)
``non_json``           the script prints text that is not JSON
``large_output``       the script's JSON is padded with whitespace to ``SizeMB`` (default 20)
``stall``              the script never finishes: every Receive is answered, after the operation
                       timeout, with the OperationTimeout fault Windows sends while a command runs
                       (``w:TimedOut``), until the client signals the command to stop
=====================  ==========================================================================

``Operation`` limits a fault to one WS-Management operation (Create, Command, Receive, Send,
Signal, Delete, Get); ``After`` lets that many matching exchanges through first; ``Times``
bounds how many exchanges it hits (default: all).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_KINDS", "SCRIPT_FAULTS", "WSMAN_FAULTS", "Fault", "FaultPlan", "faults_from_fixture"]

#: kind -> (WSManFault code, message) for the HTTP 500 faults
WSMAN_FAULTS: dict[str, tuple[int, str]] = {
    "access_denied": (5, "Access is denied."),
    "operation_timeout": (
        2150858793,
        "The WS-Management service cannot complete the operation within the time specified in "
        "OperationTimeout.",
    ),
    "quota_exceeded": (
        2150859174,
        "The WS-Management service cannot process the request. This user is allowed a maximum number of 5 "
        "concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.",
    ),
}
SCRIPT_FAULTS = frozenset({"non_json", "large_output", "stall"})
FAULT_KINDS = frozenset(
    {"latency", "refuse", "reset", "http401", "hang", "truncate"} | set(WSMAN_FAULTS) | SCRIPT_FAULTS
)

_DEFAULT_OPERATION = {
    "reset": "Receive",
    "truncate": "Receive",
    "operation_timeout": "Command",
    "quota_exceeded": "Create",
}
OPERATIONS = frozenset({"Create", "Command", "Receive", "Send", "Signal", "Delete", "Get"})


@dataclass
class Fault:
    kind: str
    operation: str | None = None
    after: int = 0
    times: int | None = None
    seconds: float = 0.0
    size_mb: float = 20.0
    _seen: int = field(default=0, repr=False)
    _hits: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(FAULT_KINDS))}")
        if self.operation is None:
            self.operation = _DEFAULT_OPERATION.get(self.kind)
        if self.operation is not None and self.operation not in OPERATIONS:
            raise ValueError(f"unknown WS-Management operation {self.operation!r}")

    def take(self, operation: str | None) -> bool:
        """Count one exchange of ``operation``; True when the fault applies to it."""
        if self.operation is not None and operation != self.operation:
            return False
        self._seen += 1
        if self._seen <= self.after:
            return False
        if self.times is not None and self._hits >= self.times:
            return False
        self._hits += 1
        return True

    @property
    def hits(self) -> int:
        return self._hits

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Fault:
        low = {str(k).lower(): v for k, v in obj.items()}
        kind = str(low.get("kind", "")).lower()
        times = low.get("times")
        return cls(
            kind=kind,
            operation=low.get("operation"),
            after=int(low.get("after", 0)),
            times=int(times) if times is not None else None,
            seconds=float(low.get("seconds", 0.0)),
            size_mb=float(low.get("sizemb", low.get("size_mb", 20.0))),
        )


class FaultPlan:
    """The faults of one host; thread-safe (the endpoint answers from many threads)."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults = list(faults)

    def set(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        self.set(())

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def latency(self) -> float:
        with self._lock:
            return sum(f.seconds for f in self._faults if f.kind == "latency")

    def has(self, kind: str) -> bool:
        with self._lock:
            return any(f.kind == kind for f in self._faults)

    def take(self, operation: str | None, kinds: Iterable[str]) -> Fault | None:
        """The first fault of one of ``kinds`` that applies to this exchange of ``operation``."""
        wanted = set(kinds)
        with self._lock:
            for f in self._faults:
                if f.kind in wanted and f.take(operation):
                    return f
        return None

    def script_fault(self) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.kind in SCRIPT_FAULTS and f.take(None):
                    return f
        return None


def faults_from_fixture(fixture_faults: Mapping[str, Any] | None) -> list[Fault]:
    """The wire faults a fixture declares under ``Faults.Wire`` (a list of objects)."""
    if not fixture_faults:
        return []
    wire = None
    for k, v in fixture_faults.items():
        if str(k).lower() == "wire":
            wire = v
    if wire is None:
        return []
    if isinstance(wire, Mapping):
        wire = [wire]
    if not isinstance(wire, list):
        raise ValueError("Faults.Wire must be a list of fault objects")
    return [Fault.from_json(f) for f in wire if isinstance(f, Mapping)]
