"""A scan's life in the history database: lock, begin, one record per host, finish, prune.

``ScanRecording`` is what ``windns scan`` (or any caller of ``toolkit.services.scan.Scanner``)
holds around a scan::

    with ScanRecording.open(path, policy="baseline", fail_on="high", source=..., hosts=[...]) as rec:
        outcome = Scanner(hosts, connector, policy, on_host=rec.on_host).run()
        rec.finish(outcome.report, keep=10)

``path`` None records nothing (``--no-history``): the same calls then do nothing, so the caller
has one code path. The lock (``toolkit.history.scan_lock``) is taken first and held to the end;
``ScanLocked`` when another scan holds it. A host whose record cannot be written stops the
recording, not the scan: ``write_failed`` then says why, and the scan counts as incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

from toolkit.errors import HistoryError
from toolkit.findings import HostReport, Report
from toolkit.history import History, demo_db_path, prepare_db_path, scan_lock

__all__ = ["ScanRecording", "scan_db_path"]

log = logging.getLogger("windns.scan")


def scan_db_path(db: Path | None, *, record: bool = True, demo: bool = False) -> Path | None:
    """The database a scan records into: None with ``record`` False; for a demo scan without
    an explicit ``db``, the demo history (the user's history never holds demo scans); else
    ``db`` or the default (``toolkit.history.prepare_db_path``)."""
    if not record:
        return None
    if demo and db is None:
        return prepare_db_path(None, default=demo_db_path())
    return prepare_db_path(db)


class ScanRecording:
    """One scan's rows in the history (or nothing, for a scan recorded nowhere)."""

    def __init__(
        self,
        history: History | None,
        scan_id: int,
        positions: dict[str, int],
        resources: ExitStack | None = None,
    ) -> None:
        self.history = history
        #: the scan's id in the history (0 when it is recorded nowhere)
        self.scan_id = scan_id
        self._positions = positions
        #: the lock and the open database, released by ``close``
        self._resources = resources if resources is not None else ExitStack()
        #: why the recording stopped early, if it did (the scan itself went on)
        self.write_failed: str | None = None

    @classmethod
    def open(
        cls,
        path: Path | None,
        *,
        policy: str,
        fail_on: str,
        source: str,
        hosts: Sequence[str],
    ) -> Self:
        """Lock ``path``'s database, mark scans a stopped process left running as interrupted,
        and begin this scan (``hosts`` in inventory order). ``ScanLocked`` when another scan
        holds the lock. ``source`` is the inventory's identity: trends and diffs are per source."""
        positions = {name: i for i, name in enumerate(hosts)}
        if path is None:
            return cls(None, 0, positions)
        stack = ExitStack()
        try:
            stack.enter_context(scan_lock(path))
            history = stack.enter_context(History(path))
            recovered = history.recover_running()
            if recovered:
                log.warning("marked %d scan(s) left running by a stopped process as interrupted", recovered)
            scan_id = history.begin_scan(policy=policy, fail_on=fail_on, source=source, hosts=list(hosts))
        except BaseException:
            stack.close()
            raise
        return cls(history, scan_id, positions, stack)

    @property
    def recorded(self) -> bool:
        return self.history is not None

    def on_host(self, host: HostReport) -> None:
        """Record one finished host (the scanner's ``on_host``), in its own transaction."""
        if self.history is None or self.write_failed is not None:
            return
        try:
            self.history.record_host(self.scan_id, host, position=self._positions.get(host.server))
        except HistoryError as exc:
            self.write_failed = str(exc)
            log.error("history: %s; the scan goes on without recording", exc)

    def finish(self, report: Report, *, keep: int | None = None) -> None:
        """Close the scan's row (interrupted or done, its duration, the hosts never scanned), then
        keep only the newest ``keep`` scans when given."""
        if self.history is None:
            return
        self.history.finish_scan(
            self.scan_id,
            interrupted=report.interrupted,
            duration=report.duration,
            not_scanned=report.not_scanned,
        )
        if keep is not None:
            pruned = self.history.prune(keep=keep)
            if pruned:
                log.info("pruned %d old scan(s)", len(pruned))

    def close(self) -> None:
        """Close the database and release the lock."""
        self._resources.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
