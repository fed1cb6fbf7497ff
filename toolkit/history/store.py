"""The history store: scans, hosts and findings written as they finish, read back as reports."""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from toolkit import jsontext
from toolkit.errors import HistoryError, NormaliseError
from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.history.location import _check_dir
from toolkit.history.schema import MIGRATIONS, SCHEMA_VERSION
from toolkit.model import ServerInventory

__all__ = ["History", "HostRecord", "ScanRecord"]

log = logging.getLogger("windns.history")

#: zlib level for stored inventories: level 1 is several times faster than the default and
#: the documents (repetitive JSON) still shrink about fifteenfold
_ZLIB_LEVEL = 1

_SEVERITY_COLUMNS = ("critical", "high", "medium", "low", "info")
_INSERT_HOST = (
    "INSERT OR REPLACE INTO hosts (scan, server, ok, error_kind, error_message, error_code, "
    "inventory_z, duration, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FINDING = (
    "INSERT INTO findings (scan, host, server, zone, key, rule, severity, message, evidence, "
    "suppressed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COUNT_HOST = (
    "UPDATE scans SET hosts_ok = hosts_ok + ?, hosts_failed = hosts_failed + ?, "
    "findings = findings + ?, suppressed = suppressed + ?, "
    + ", ".join(f"{c} = {c} + ?" for c in _SEVERITY_COLUMNS)
    + " WHERE id = ?"
)
_NO_SEVERITIES = (0,) * len(_SEVERITY_COLUMNS)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class ScanRecord:
    id: int
    started: datetime
    finished: datetime | None
    status: str
    policy: str
    fail_on: str
    source: str
    hosts_total: int
    hosts_ok: int
    hosts_failed: int
    findings: int
    suppressed: int
    by_severity: Mapping[str, int]
    duration: float | None
    #: hosts a stopped scan never scanned, in inventory order
    not_scanned: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "status": self.status,
            "policy": self.policy,
            "fail_on": self.fail_on,
            "source": self.source,
            "hosts": {
                "total": self.hosts_total,
                "ok": self.hosts_ok,
                "failed": self.hosts_failed,
                "not_scanned": len(self.not_scanned),
            },
            "findings": self.findings,
            "suppressed": self.suppressed,
            "by_severity": dict(self.by_severity),
            "duration": self.duration,
        }


@dataclass(frozen=True, slots=True)
class HostRecord:
    server: str
    ok: bool
    error: HostError | None
    duration: float
    #: the inventory document as stored by schema 2 and before (JSON text)
    inventory_json: str | None
    #: the inventory document as stored since schema 3 (zlib-compressed UTF-8 JSON text)
    inventory_zlib: bytes | None = None

    @property
    def inventory_text(self) -> str | None:
        """The stored inventory document (JSON text), or None when the host had none."""
        if self.inventory_zlib is not None:
            try:
                return zlib.decompress(self.inventory_zlib).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                raise HistoryError(f"stored inventory of {self.server} cannot be read: {exc}") from None
        return self.inventory_json or None

    def inventory(self) -> ServerInventory | None:
        text = self.inventory_text
        if not text:
            return None
        from toolkit.normalise import normalise_inventory

        try:
            # as a transport reads it: a server's text may start with a byte-order mark
            doc = jsontext.loads(text.strip().lstrip("\ufeff"))
            # checked when it was collected; a stored scan is read as it was stored
            return normalise_inventory(doc, source=f"history:{self.server}", self_check=False)
        except (ValueError, RecursionError, NormaliseError) as exc:
            raise HistoryError(f"stored inventory of {self.server} cannot be read: {exc}") from None


class History:
    """An open history database. Use from one thread (the scan's collecting thread)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        if str(path) != ":memory:":
            _check_dir(Path(path))
        try:
            self.db = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot use history database {path}: {exc}") from None
        except OSError as exc:
            raise HistoryError(f"cannot create history database {path}: {exc.strerror}") from None

    # -- plumbing ---------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from None

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"history database {self.path} has schema version {version}; this toolkit knows up to "
                f"{SCHEMA_VERSION} (upgrade windns-toolkit)"
            )
        while version < SCHEMA_VERSION:
            with self._tx() as db:
                for stmt in MIGRATIONS[version].split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                version += 1
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("SELECT version FROM schema_version").fetchone()[0])

    # -- writing ----------------------------------------------------------------------------------
    def begin_scan(
        self,
        *,
        policy: str,
        fail_on: str,
        source: str = "",
        hosts_total: int = 0,
        started: datetime | None = None,
        hosts: Sequence[str] | None = None,
    ) -> int:
        """Open a scan. ``hosts``: the names of the hosts it is to visit, in inventory order
        (``hosts_total`` is then their number); kept until the scan is finished, so a scan
        whose process dies still tells which hosts it never scanned (``recover_running``)."""
        planned = None
        if hosts is not None:
            hosts_total = len(hosts)
            planned = zlib.compress(json.dumps(list(hosts)).encode("utf-8", "backslashreplace"), _ZLIB_LEVEL)
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO scans (started, status, policy, fail_on, source, hosts_total, planned_z) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (_iso(started or datetime.now(UTC)), policy, fail_on, source, hosts_total, planned),
            )
            return int(cur.lastrowid or 0)

    def record_host(self, scan_id: int, host: HostReport, position: int | None = None) -> None:
        """Write one finished host (its inventory and findings) in one transaction.

        ``position``: the host's place in the inventory; stored scans list hosts in that order.
        """
        blob: bytes | None = None
        if host.inventory is not None:
            text = host.inventory_text
            if text is None:
                from toolkit.normalise import dump_inventory

                text = json.dumps(
                    dump_inventory(host.inventory), default=_json_default, separators=(",", ":")
                )
            # A lone surrogate can only stand in a JSON text (elsewhere the text would not have
            # parsed): its escape there reads back as the same text (toolkit.jsontext).
            blob = zlib.compress(text.encode("utf-8", "backslashreplace"), _ZLIB_LEVEL)
        err = host.error
        rows: list[tuple[Any, ...]] = []
        severities = _NO_SEVERITIES
        if host.findings or host.suppressed:
            rows = [self._finding_row(scan_id, host.server, f) for f in (*host.findings, *host.suppressed)]
            sev = dict.fromkeys(_SEVERITY_COLUMNS, 0)
            for f in host.findings:
                sev[f.severity.label] += 1
            severities = tuple(sev[c] for c in _SEVERITY_COLUMNS)
        with self._tx() as db:
            db.execute(
                _INSERT_HOST,
                (
                    scan_id,
                    host.server,
                    int(host.ok),
                    err.kind if err else None,
                    err.message if err else None,
                    err.code if err else None,
                    blob,
                    host.duration,
                    position,
                ),
            )
            if rows:
                db.executemany(_INSERT_FINDING, rows)
            db.execute(
                _COUNT_HOST,
                (
                    int(host.ok),
                    int(not host.ok),
                    len(host.findings),
                    len(host.suppressed),
                    *severities,
                    scan_id,
                ),
            )

    @staticmethod
    def _finding_row(scan_id: int, host: str, f: Finding) -> tuple[Any, ...]:
        return (
            scan_id,
            host,
            f.target.server,
            f.target.zone,
            f.target.key_id,
            f.rule_id,
            f.severity.label,
            f.message,
            json.dumps(dict(f.evidence), default=_json_default, separators=(",", ":")),
            f.suppressed_reason,
        )

    def finish_scan(
        self,
        scan_id: int,
        *,
        interrupted: bool = False,
        duration: float | None = None,
        not_scanned: tuple[str, ...] | list[str] = (),
    ) -> None:
        """Close a scan; ``not_scanned``: the hosts a stop left unscanned (``Report.not_scanned``)."""
        with self._tx() as db:
            db.execute(
                "UPDATE scans SET status = ?, finished = ?, duration = ?, not_scanned = ?, planned_z = NULL "
                "WHERE id = ?",
                (
                    "interrupted" if interrupted else "complete",
                    _iso(datetime.now(UTC)),
                    duration,
                    json.dumps(list(not_scanned)),
                    scan_id,
                ),
            )

    def recover_running(self) -> int:
        """Mark scans left ``running`` by a dead process as interrupted, with the hosts they
        never scanned (those of their host list without a row). Call with the lock held."""
        with self._tx() as db:
            rows = db.execute("SELECT id, planned_z FROM scans WHERE status = 'running'").fetchall()
            for r in rows:
                never = self._never_scanned(int(r["id"]), r["planned_z"])
                db.execute(
                    "UPDATE scans SET status = 'interrupted', planned_z = NULL"
                    + (", not_scanned = ?" if never is not None else "")
                    + " WHERE id = ?",
                    (json.dumps(never), r["id"]) if never is not None else (r["id"],),
                )
            return len(rows)

    def _never_scanned(self, scan_id: int, planned_z: bytes | None) -> list[str] | None:
        """The hosts of a scan's stored host list that have no row, in its order; None when the
        scan stored no list (scans begun without one, and by earlier versions)."""
        if planned_z is None:
            return None
        try:
            planned = json.loads(zlib.decompress(planned_z).decode("utf-8"))
        except (zlib.error, ValueError) as exc:  # a damaged row costs only this count
            log.warning("history: the host list of scan %d cannot be read (%s); left out", scan_id, exc)
            return None
        if not isinstance(planned, list):
            return None
        done = {r[0] for r in self.db.execute("SELECT server FROM hosts WHERE scan = ?", (scan_id,))}
        return [str(h) for h in planned if h not in done]

    def prune(
        self, *, keep: int | None = None, older_than: timedelta | None = None, now: datetime | None = None
    ) -> list[int]:
        """Delete scans beyond the newest ``keep`` and/or older than ``older_than``; their ids."""
        doomed: set[int] = set()
        if keep is not None:
            if keep < 0:
                raise HistoryError("--keep must be >= 0")
            rows = self.db.execute("SELECT id FROM scans ORDER BY id DESC LIMIT -1 OFFSET ?", (keep,))
            doomed.update(int(r[0]) for r in rows)
        if older_than is not None:
            cutoff = (now or datetime.now(UTC)) - older_than
            for r in self.db.execute("SELECT id, started FROM scans"):
                started = _dt(r["started"])
                if started is not None and started < cutoff:
                    doomed.add(int(r["id"]))
        if doomed:
            with self._tx() as db:
                db.executemany("DELETE FROM scans WHERE id = ?", [(i,) for i in sorted(doomed)])
        return sorted(doomed)

    # -- reading ----------------------------------------------------------------------------------
    def _record(self, r: sqlite3.Row) -> ScanRecord:
        started = _dt(r["started"])
        assert started is not None
        not_scanned = json.loads(r["not_scanned"] or "[]")
        if r["status"] == "running":  # still running, or its process died: not scanned so far
            never = self._never_scanned(int(r["id"]), r["planned_z"])
            not_scanned = never if never is not None else not_scanned
        return ScanRecord(
            id=int(r["id"]),
            started=started,
            finished=_dt(r["finished"]),
            status=str(r["status"]),
            policy=str(r["policy"]),
            fail_on=str(r["fail_on"]),
            source=str(r["source"]),
            hosts_total=int(r["hosts_total"]),
            hosts_ok=int(r["hosts_ok"]),
            hosts_failed=int(r["hosts_failed"]),
            findings=int(r["findings"]),
            suppressed=int(r["suppressed"]),
            by_severity={c: int(r[c]) for c in _SEVERITY_COLUMNS},
            duration=r["duration"],
            not_scanned=tuple(not_scanned),
        )

    def scans(self, limit: int | None = None) -> list[ScanRecord]:
        """Scans, newest first."""
        rows = self.db.execute("SELECT * FROM scans ORDER BY id DESC LIMIT ?", (limit if limit else -1,))
        return [self._record(r) for r in rows]

    def trend(
        self, limit: int = 10, upto: int | None = None, *, source: str | None = None
    ) -> list[ScanRecord]:
        """The last ``limit`` scans up to ``upto`` (inclusive), oldest first: for charts. With
        ``source``, only scans of that inventory (``ScanRecord.source``)."""
        rows = self.db.execute(
            "SELECT * FROM scans WHERE id <= ? AND (? IS NULL OR source = ?) ORDER BY id DESC LIMIT ?",
            (upto if upto is not None else 2**62, source, source, limit),
        )
        return [self._record(r) for r in reversed(rows.fetchall())]

    def previous_of(self, scan_id: int) -> int | None:
        """The scan of the same inventory (``source``) before ``scan_id``, or None."""
        source = self.get(scan_id).source
        row = self.db.execute(
            "SELECT id FROM scans WHERE id < ? AND source = ? ORDER BY id DESC LIMIT 1", (scan_id, source)
        ).fetchone()
        return int(row[0]) if row is not None else None

    def last_success(self, upto: int | None = None) -> dict[str, datetime]:
        """Per server, the start of the last scan (up to ``upto``, inclusive) that audited it."""
        rows = self.db.execute(
            "SELECT last.server, s.started FROM scans s JOIN (SELECT server, MAX(scan) AS scan FROM hosts "
            "WHERE ok = 1 AND scan <= ? GROUP BY server) last ON s.id = last.scan",
            (upto if upto is not None else 2**62,),
        )
        return {str(r[0]): when for r in rows if (when := _dt(r[1])) is not None}

    def get(self, scan_id: int) -> ScanRecord:
        row = self.db.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if row is None:
            raise HistoryError(f"no scan {scan_id} in {self.path}")
        return self._record(row)

    def resolve(self, ref: str | int | None = None) -> int:
        """A scan id from ``ref``: an id, ``latest`` (default), ``previous``, or ``latest~N``."""
        text = "latest" if ref is None else str(ref).strip().lower()
        if text.lstrip("#").isdigit():
            return self.get(int(text.lstrip("#"))).id
        back = 0
        if text == "previous":
            back = 1
        elif text.startswith("latest~") and text[7:].isdigit():
            back = int(text[7:])
        elif text != "latest":
            raise HistoryError(f"bad scan reference {ref!r}: use a scan id, latest, previous or latest~N")
        row = self.db.execute("SELECT id FROM scans ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)).fetchone()
        if row is None:
            have = self.db.execute("SELECT COUNT(*) FROM scans").fetchone()[0]
            raise HistoryError(f"no scan {text!r} in {self.path} ({have} scan(s) recorded)")
        return int(row[0])

    def hosts(self, scan_id: int) -> list[HostRecord]:
        out = []
        for r in self.db.execute("SELECT * FROM hosts WHERE scan = ? ORDER BY position, server", (scan_id,)):
            err = None
            if not r["ok"]:
                err = HostError(
                    r["server"], r["error_kind"] or "error", r["error_message"] or "", r["error_code"]
                )
            out.append(
                HostRecord(
                    r["server"], bool(r["ok"]), err, float(r["duration"]), r["inventory"], r["inventory_z"]
                )
            )
        return out

    @staticmethod
    def _finding(r: sqlite3.Row) -> Finding:
        return Finding(
            rule_id=r["rule"],
            severity=Severity.parse(r["severity"]),
            target=Target(r["server"], r["zone"], r["key"]),
            message=r["message"],
            evidence=json.loads(r["evidence"] or "{}"),
            suppressed_reason=r["suppressed"],
        )

    def findings(self, scan_id: int) -> dict[str, list[Finding]]:
        """Findings of a scan by host, active and suppressed (``Finding.suppressed`` tells them apart)."""
        out: dict[str, list[Finding]] = {}
        for r in self.db.execute("SELECT * FROM findings WHERE scan = ? ORDER BY id", (scan_id,)):
            out.setdefault(r["host"], []).append(self._finding(r))
        return out

    def inventories(self, scan_id: int) -> dict[str, ServerInventory]:
        out: dict[str, ServerInventory] = {}
        for h in self.hosts(scan_id):
            inv = h.inventory()
            if inv is not None:
                out[h.server] = inv
        return out

    def load_report(self, scan_id: int, *, with_inventory: bool = True) -> Report:
        """Rebuild the ``Report`` of a stored scan (for ``history show`` and the renderers)."""
        from toolkit.rules.registry import RULE_BOOK  # the stored findings' rules, for the renderers

        rec = self.get(scan_id)
        found = self.findings(scan_id)
        hosts = []
        for h in self.hosts(scan_id):
            active = [f for f in found.get(h.server, ()) if not f.suppressed]
            suppressed = [f for f in found.get(h.server, ()) if f.suppressed]
            hosts.append(
                HostReport(
                    server=h.server,
                    inventory=h.inventory() if with_inventory else None,
                    findings=tuple(active),
                    suppressed=tuple(suppressed),
                    error=h.error,
                    duration=h.duration,
                )
            )
        return Report(
            hosts=tuple(hosts),
            generated_at=rec.started,
            policy_name=rec.policy,
            duration=rec.duration or 0.0,
            interrupted=rec.status != "complete",
            not_scanned=rec.not_scanned,
            rules=RULE_BOOK,
        )
