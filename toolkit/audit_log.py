"""The admin audit log: one JSON line per change attempted, refused or done. Append-only.

Where: ``--audit-log PATH``, else ``$WINDNS_AUDIT_LOG``, else the user data directory
(``$XDG_DATA_HOME/windns/audit.log``, default ``~/.local/share/windns/audit.log``).

Each line: ``timestamp`` (ISO 8601 UTC), ``operator`` {``local``, ``remote``}, ``server``,
``zone``, ``action`` (``keys remove``), ``cmdlet``, ``parameters`` (the script parameters
sent, or that would have been), ``dry_run``, ``forced``, ``result`` (``done``, ``planned``,
``refused``, ``failed``, ``cancelled``) and, when it did not succeed, ``error`` {``kind``,
``code``, ``name``, ``message``}. Secrets never: parameters are ours (no credentials travel in
them), and any member whose name smells of a secret is dropped before writing anyway.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError

__all__ = ["AUDIT_LOG_ENV", "AuditLog", "Operator", "default_path"]

AUDIT_LOG_ENV = "WINDNS_AUDIT_LOG"
_SECRET = re.compile(r"pass(word)?|secret|credential|token|private", re.IGNORECASE)


def default_path() -> Path:
    env = os.environ.get(AUDIT_LOG_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "windns" / "audit.log"


@dataclass(frozen=True, slots=True)
class Operator:
    """Who made the change: the local account, and the account used on the server."""

    local: str
    remote: str | None = None

    @classmethod
    def current(cls, remote: str | None = None) -> Operator:
        try:
            local = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            local = os.environ.get("USER") or "unknown"
        return cls(local=local, remote=remote)


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _scrub(v) for k, v in value.items() if not _SECRET.search(str(k))}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class AuditLog:
    """Append JSON lines to one file; read them back with ``entries()``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    def ensure_writable(self) -> None:
        """Fail before a change is sent if it could not be logged."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ConfigError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        entry = {"timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"), **_scrub(record)}
        line = json.dumps(entry, sort_keys=False, default=str, ensure_ascii=False)
        self.ensure_writable()
        # One write() of one line on an O_APPEND descriptor: concurrent writers do not interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        return list(self)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
