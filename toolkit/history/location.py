"""Where the history database lives, and the lock that keeps two scans of it from overlapping."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from toolkit.errors import HistoryError

__all__ = [
    "DB_NAME",
    "DEMO_DB_NAME",
    "ScanLocked",
    "default_db_path",
    "demo_db_path",
    "prepare_db_path",
    "scan_lock",
]

DB_NAME = "history.sqlite3"
#: The demo fleet's own history (``scan --demo``): a cache, never the user's history.
DEMO_DB_NAME = "demo-history.sqlite3"


class ScanLocked(HistoryError):
    """Another scan holds the lock on this history database."""

    kind = "locked"


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "windns" / DB_NAME


def demo_db_path() -> Path:
    """Where demo scans are recorded: ``$XDG_CACHE_HOME/windns/demo-history.sqlite3`` (else
    ``~/.cache/windns/``), apart from the user's history so a demo never mixes with real scans."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "windns" / DEMO_DB_NAME


def prepare_db_path(db: Path | None, *, default: Path | None = None) -> Path:
    """The database to use: ``db``, whose directory must exist, or the default one (created;
    ``default``, else ``default_db_path()``).

    ``HistoryError`` (one line) when an explicit path's directory is missing or the default
    directory cannot be created.
    """
    if db is not None:
        _check_dir(db)
        return db
    path = default if default is not None else default_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"cannot create the history directory {path.parent}: {exc.strerror}") from None
    return path


def _check_dir(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise HistoryError(f"cannot use history database {path}: directory {parent} {what}")


@contextlib.contextmanager
def scan_lock(db_path: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock for ``db_path``; ``ScanLocked`` when taken."""
    lock_path = Path(str(db_path) + ".lock")
    _check_dir(lock_path)
    try:
        fh: IO[str] = lock_path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise HistoryError(f"cannot create lock file {lock_path}: {exc.strerror}") from None
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not a POSIX system: no cross-process lock
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise ScanLocked(
                f"another scan is running on {db_path}{who}; try again when it has finished"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fh.truncate(0)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()
