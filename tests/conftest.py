"""Shared test fixtures: a private HOME/XDG/TMPDIR for the session (and a check that it is left
clean), a fresh demo fleet per test, and a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import toolkit.testing.fake_remote as fake_remote_mod
from tests._session_env import session_env  # noqa: F401 - private HOME, XDG dirs, TMPDIR; leak check
from tests.bind_fixtures import demo_bind  # noqa: F401 - one BIND for the whole session
from toolkit.remote import redact
from toolkit.resources import demo_fixtures_dir
from toolkit.testing.simulator import Fleet


@pytest.fixture(scope="session", autouse=True)
def _no_system_kerberos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the machine's krb5.conf, ticket cache or keytab: Negotiate tries Kerberos
    first wherever gssapi is installed. The Kerberos tests point these at their own realm."""
    d = tmp_path_factory.mktemp("no-kerberos")
    (d / "krb5.conf").write_text("[libdefaults]\n    dns_lookup_kdc = false\n    dns_lookup_realm = false\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KRB5_CONFIG", str(d / "krb5.conf"))
        mp.setenv("KRB5CCNAME", f"FILE:{d / 'no-ccache'}")
        mp.setenv("KRB5_KTNAME", f"FILE:{d / 'no-keytab'}")
        mp.delenv("KRB5_CLIENT_KTNAME", raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test sees another's simulated writes, credentials or user data directory."""
    fake_remote_mod._FLEETS.clear()
    data = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    for var in (
        "WINDNS_PASSWORD",
        "WINDNS_SERVER",
        "WINDNS_USERNAME",
        "WINDNS_TRANSPORT",
        "WINDNS_DB",
        "WINDNS_AUDIT_LOG",
        "WINDNS_CONFIG",
        "WINDNS_KEYTAB",
        "WINDNS_CCACHE",
    ):
        monkeypatch.delenv(var, raising=False)
    yield
    fake_remote_mod._FLEETS.clear()
    redact.forget_secrets()  # a password one test gave the CLI is not redacted from the next's logs


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled demo fleet."""
    target = tmp_path / "fleet"
    shutil.copytree(demo_fixtures_dir(), target)
    return target


@pytest.fixture
def fleet(demo_dir: Path) -> Fleet:
    return Fleet.load(demo_dir)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
