"""Fixtures of the ``windows`` tests: the server from ``WINDNS_TEST_*``, one Remote per transport,
the `windns` CLI pointed at it, and the throw-away zone of the write cycle.

``TARGET`` (tests/windows/target.py) is None without ``WINDNS_TEST_HOST``; every test module here
carries ``requires_server`` and is then skipped with its reason, never deselected.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from tests.windows.target import (
    CREATE_ZONE,
    REMOVE_ZONE,
    SKIP_NO_HOST,
    SKIP_NO_WRITES,
    TARGET,
    TRANSPORTS,
    LockedRemote,
    Target,
    lock_cli,
    read_zone,
    run_fixed,
)
from toolkit.cli import main
from toolkit.model import Zone
from toolkit.model.enums import ZoneType
from toolkit.remote import ConnectionOptions, Remote, connect

#: DNS_ERROR_ZONE_LOCKED_FOR_SIGNING: "the zone is currently being signed. Please try again later."
_LOCKED_FOR_SIGNING = "(9622"
_RETRIES = 10
_RETRY_PAUSE = 3.0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test taking ``transport`` runs once per transport asked for (default: both)."""
    if "transport" in metafunc.fixturenames:
        transports = TARGET.transports if TARGET is not None else TRANSPORTS
        metafunc.parametrize("transport", transports)


@pytest.fixture(scope="session")
def target() -> Target:
    assert TARGET is not None, SKIP_NO_HOST  # requires_server skips before this is asked for
    return TARGET


@pytest.fixture(scope="session")
def options(target: Target) -> ConnectionOptions:
    return target.options()


@pytest.fixture(autouse=True)
def _quiet_insecure_tls() -> None:
    """WINDNS_TEST_CERT_VALIDATION=0 is the tester's explicit choice; urllib3 would warn on every
    request, and warnings are errors here."""
    if TARGET is not None and not TARGET.cert_validation:
        import warnings

        from urllib3.exceptions import InsecureRequestWarning

        warnings.simplefilter("ignore", InsecureRequestWarning)


@pytest.fixture
def remote(options: ConnectionOptions, transport: str) -> Iterator[Remote]:
    with connect(options, transport) as r:
        yield r


@pytest.fixture
def cli(target: Target, transport: str) -> Callable[..., Result]:
    """``cli(*args)``: one `windns` command against the server over ``transport``; the password
    travels in WINDNS_PASSWORD (CliRunner's environment), never in the arguments. A change the
    server turns away with 9622 (zone still being signed) is tried again a few times."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        res = runner.invoke(main, [*target.cli_args(transport), *args], env=target.cli_env())
        for _ in range(_RETRIES):
            if res.exit_code == 0 or _LOCKED_FOR_SIGNING not in res.output:
                break
            time.sleep(_RETRY_PAUSE)
            res = runner.invoke(main, [*target.cli_args(transport), *args], env=target.cli_env())
        return res

    return run


# -- the throw-away zone --------------------------------------------------------------------------
def _unusable(zone: Zone) -> str | None:
    """Why an existing zone may not be the throw-away zone, or None."""
    if zone.zone_type is not ZoneType.PRIMARY or zone.is_reverse_lookup_zone or zone.is_auto_created:
        return "it is not a forward primary zone"
    if zone.is_ds_integrated:
        return "it is Active Directory-integrated, not file-backed"
    if zone.signed or zone.keys:
        return "it is signed or holds signing keys (start from an unsigned zone without keys)"
    if zone.errors:
        return f"the inventory could not read it: {zone.errors[0].message}"
    return None


@pytest.fixture
def throwaway_zone(target: Target, options: ConnectionOptions, transport: str) -> Iterator[str]:
    """WINDNS_TEST_ZONE, unsigned and without keys: created here (file-backed) when the server
    does not hold it, and then removed again; an existing zone is used only when it is a
    file-backed forward primary zone without keys, and is left as the cycle leaves it."""
    assert target.zone is not None and target.may_write, SKIP_NO_WRITES
    name = target.zone
    existing = read_zone(options, transport, name)
    if existing is not None and (why := _unusable(existing)):
        pytest.fail(f"WINDNS_TEST_ZONE={name}: refusing to use this zone: {why}", pytrace=False)
    created = False
    try:
        if existing is None:
            # a fresh file name each run: whether Remove-DnsServerZone deletes the file is not documented
            zone_file = f"{name}-{secrets.token_hex(4)}.dns"
            run_fixed(options, CREATE_ZONE, {"ZoneName": name, "ZoneFile": zone_file})
            created = True
            fresh = read_zone(options, transport, name)
            assert fresh is not None, f"{name} was created but the inventory does not list it"
            assert not fresh.is_ds_integrated, f"{name} was created file-backed but reads as AD-integrated"
        yield name
    finally:
        if created:
            run_fixed(options, REMOVE_ZONE, {"ZoneName": name})


@pytest.fixture
def locked(monkeypatch: pytest.MonkeyPatch, throwaway_zone: str) -> list[LockedRemote]:
    """Every Remote the CLI opens sends changes to the throw-away zone only (``lock_cli``)."""
    return lock_cli(monkeypatch, throwaway_zone)
