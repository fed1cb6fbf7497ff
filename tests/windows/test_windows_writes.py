"""The write cycle on a throw-away zone of a real Windows DNS server, over each transport.

Only with WINDNS_TEST_WRITES=1 and WINDNS_TEST_ZONE naming the throw-away zone; every change
goes to that zone and nowhere else (``LockedRemote`` refuses any other zone before it is sent).
The zone is created file-backed when the server does not hold it, and removed afterwards; an
existing zone is used only when it is a file-backed forward primary zone, unsigned and without
keys, and is left that way. The steps: tests/windows/cycle.py.

    WINDNS_TEST_HOST=... WINDNS_TEST_WRITES=1 WINDNS_TEST_ZONE=cycle.windns.test \\
    python -m pytest -m windows tests/windows/test_windows_writes.py

All variables: tests/windows/README.md.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result

from tests.windows.cycle import write_cycle
from tests.windows.target import LockedRemote, read_zone, requires_server, requires_writes
from toolkit.model import Zone
from toolkit.remote import ConnectionOptions

pytestmark = [pytest.mark.windows, requires_server, requires_writes]


def test_sign_add_list_roll_remove_unsign_on_the_throwaway_zone(
    cli: Callable[..., Result],
    options: ConnectionOptions,
    transport: str,
    throwaway_zone: str,
    locked: list[LockedRemote],
) -> None:
    def read() -> Zone:
        zone = read_zone(options, transport, throwaway_zone)
        assert zone is not None, f"{throwaway_zone} disappeared"
        return zone

    write_cycle(cli, read, throwaway_zone)
    assert locked, "the CLI opened no connection through the lock"
    assert [r for remote in locked for r in remote.refused] == []
