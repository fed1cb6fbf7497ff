"""Scan history in an embedded SQLite database (stdlib ``sqlite3``, WAL).

One row per scan (``scans``), one per host per scan (``hosts``, with the host's inventory
document: the ``windns.inventory`` JSON of ``docs/inventory-schema.md``) and one per finding
(``findings``). That document is the text the server printed (``HostReport.inventory_text``,
else ``dump_inventory``), zlib-compressed, normalised again when read. Schema 2 and older
databases (plain JSON in ``inventory``) are upgraded in place; their rows still read. Each host is
written in its own transaction the moment it finishes, so a scan that is interrupted or crashes
keeps every host already done; a scan left ``running`` by a crashed process is marked
``interrupted`` by the next scan (which holds the lock, so nobody else can be running).

The database lives in the user data directory unless told otherwise (``--db`` /
``WINDNS_DB``): ``$XDG_DATA_HOME/windns/history.sqlite3``, else
``~/.local/share/windns/history.sqlite3``. Demo scans (``scan --demo``) have their own,
``demo_db_path``: ``$XDG_CACHE_HOME/windns/demo-history.sqlite3``. ``prepare_db_path`` creates
the default directory, but an explicit path must be in a directory that exists (a typo in
``--db`` is an error, not a new directory tree). ``scan_lock`` keeps two scans of the same
database from overlapping (``fcntl.flock`` on ``<db>.lock``).

Hosts are stored with their position in the inventory, and read back in that order; a stopped
scan stores the hosts it never scanned (``Report.not_scanned``) with the scan.
"""

from toolkit.history.location import (
    DB_NAME,
    DEMO_DB_NAME,
    ScanLocked,
    default_db_path,
    demo_db_path,
    prepare_db_path,
    scan_lock,
)
from toolkit.history.schema import MIGRATIONS, SCHEMA_VERSION
from toolkit.history.store import History, HostRecord, ScanRecord

__all__ = [
    "DB_NAME",
    "DEMO_DB_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "History",
    "HostRecord",
    "ScanLocked",
    "ScanRecord",
    "default_db_path",
    "demo_db_path",
    "prepare_db_path",
    "scan_lock",
]
