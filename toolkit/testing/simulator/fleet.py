"""A set of simulated servers loaded from a fixture directory (one JSON file per server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from toolkit.errors import ConfigError
from toolkit.model import zone_key
from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["Fleet"]


@dataclass
class Fleet:
    servers: dict[str, SimulatedServer]
    directory: Path | None = None

    @classmethod
    def load(cls, directory: Path, *, now: datetime | None = None) -> Fleet:
        """Load every ``*.json`` server fixture in ``directory``."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ConfigError(f"fixture directory {directory} does not exist")
        servers: dict[str, SimulatedServer] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read fixture: {exc}", file=path.name) from None
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"invalid JSON: {exc.msg} (column {exc.colno})", file=path.name, line=exc.lineno
                ) from None
            server = SimulatedServer(doc, path=path, now=now)
            key = server.name.lower()
            if key in servers:
                raise ConfigError(f"server {server.name} is defined twice", file=path.name)
            servers[key] = server
        if not servers:
            raise ConfigError(f"no server fixtures (*.json) in {directory}")
        return cls(servers=servers, directory=directory)

    def get(self, name: str) -> SimulatedServer:
        key = zone_key(name)
        server = self.servers.get(key)
        if server is None:
            # Accept the short name of a fully qualified fixture name and vice versa.
            matches = [s for k, s in self.servers.items() if k.split(".")[0] == key.split(".")[0]]
            if len(matches) == 1:
                return matches[0]
            known = ", ".join(sorted(s.name for s in self.servers.values()))
            raise ConfigError(f"unknown simulated server {name!r}; known: {known}")
        return server

    def __iter__(self) -> Iterator[SimulatedServer]:
        return iter(sorted(self.servers.values(), key=lambda s: s.name.lower()))

    def __len__(self) -> int:
        return len(self.servers)
