"""The history database's schema: its version and the migrations that build and upgrade it."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

SCHEMA_VERSION = 4

# MIGRATIONS[n] takes a database from version n to n + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
        policy TEXT NOT NULL,
        fail_on TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        hosts_total INTEGER NOT NULL DEFAULT 0,
        hosts_ok INTEGER NOT NULL DEFAULT 0,
        hosts_failed INTEGER NOT NULL DEFAULT 0,
        findings INTEGER NOT NULL DEFAULT 0,
        suppressed INTEGER NOT NULL DEFAULT 0,
        critical INTEGER NOT NULL DEFAULT 0,
        high INTEGER NOT NULL DEFAULT 0,
        medium INTEGER NOT NULL DEFAULT 0,
        low INTEGER NOT NULL DEFAULT 0,
        info INTEGER NOT NULL DEFAULT 0,
        duration REAL
    );
    CREATE TABLE hosts (
        scan INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
        server TEXT NOT NULL,
        ok INTEGER NOT NULL,
        error_kind TEXT,
        error_message TEXT,
        error_code INTEGER,
        inventory TEXT,
        duration REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (scan, server)
    );
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        scan INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        server TEXT NOT NULL,
        zone TEXT,
        key TEXT,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{}',
        suppressed TEXT
    );
    CREATE INDEX findings_scan ON findings (scan, host);
    """,
    # 2: hosts in inventory order; the hosts a stopped scan never scanned (JSON list of names)
    """
    ALTER TABLE hosts ADD COLUMN position INTEGER;
    ALTER TABLE scans ADD COLUMN not_scanned TEXT NOT NULL DEFAULT '[]';
    """,
    # 3: the inventory document compressed (zlib); rows written before keep ``inventory`` (text)
    """
    ALTER TABLE hosts ADD COLUMN inventory_z BLOB;
    """,
    # 4: the hosts a scan is to visit, in inventory order (zlib-compressed JSON list of names),
    # kept while it runs: a process killed before it could record what it did not scan leaves
    # the list, and the hosts never scanned are the ones it names that have no row in ``hosts``
    """
    ALTER TABLE scans ADD COLUMN planned_z BLOB;
    """,
)
