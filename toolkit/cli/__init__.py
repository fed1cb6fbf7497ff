"""The `windns` command line. ``main`` is the click group (and the console script).

Each command module registers its commands on ``main`` when imported; the list below is the
one place that says which modules make up the CLI.
"""

from toolkit.cli import (
    admin_cmds,  # noqa: F401, I001  (keys add/remove/set/rollover, zone)
    dns_cmds,  # noqa: F401, I001  (dns check, dns serve-demo)
    doctor_cmd,  # noqa: F401, I001  (doctor: step-by-step checks, capture, replay)
    fakeserver_cmd,  # noqa: F401, I001  (fake-server: loopback WinRM endpoint)
    fix_cmds,  # noqa: F401, I001  (fix, demo export)
    read_cmds,  # noqa: F401  (zones, keys, audit, explain, demo)
    rules_cmds,  # noqa: F401, I001  (rules list/explain, policy show)
    scan_cmds,  # noqa: F401, I001  (scan, history, diff, rollovers)
)
from toolkit.cli.app import AppContext, main, run

__all__ = ["AppContext", "main", "run"]
