"""Write operations of the simulated server (issue 5). Filled in by the admin work."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.simulator.server import SimulatedServer

HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {}
