"""Zones Windows itself put in the states the demo fleet shows (`windns demo`), read back through
the toolkit: what the simulator claims about Windows, checked against Windows.

WINDNS_TEST_DEMO_ZONES names them, ``kind=zone`` separated by commas (kinds ``rsa``, ``ecdsa``,
``nsec3``, ``ksk-only``; what each means: tests/windows/states.py). The CI workflow
(.github/workflows/windows.yml) creates all four. Nothing is changed by these tests; kinds not
named are skipped with the reason.
"""

from __future__ import annotations

import pytest

from tests.windows.states import audit_zone, check_state
from tests.windows.target import DEMO_KINDS, SKIP_NO_DEMO_ZONES, Target, requires_server
from toolkit.remote import Remote

pytestmark = [pytest.mark.windows, requires_server]


@pytest.mark.parametrize("kind", DEMO_KINDS)
def test_zone_in_a_demo_state_reads_as_the_demo_says(target: Target, remote: Remote, kind: str) -> None:
    name = target.demo_zones.get(kind)
    if name is None:
        pytest.skip(SKIP_NO_DEMO_ZONES)
    zone, findings = audit_zone(remote, name)
    check_state(kind, zone, findings)
