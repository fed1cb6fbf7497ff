"""The client's HTTP session over both real transports (``toolkit/remote/_http.py``): the CA
bundle loaded once per process, the environment read once per connection, the NTLM hashes
derived once per password; and everything they guard still holds (the certificate and the host
name are checked, proxies from the environment apply, a wrong password is refused, no hash in
the log)."""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests.adapters
import requests.utils
import spnego._ntlm
import spnego._ntlm_raw.crypto

from toolkit.errors import AuthError, ConnectError
from toolkit.remote import _http, connect
from toolkit.resources import demo_fixtures_dir
from toolkit.testing.fakeserver import FakeWinrmServer
from toolkit.testing.simulator import Fleet

TRANSPORTS = ("psrp", "winrm")
FIRST = "DNS1.corp.example"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet.load(demo_fixtures_dir())


@pytest.fixture(scope="module")
def https(fleet: Fleet) -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(fleet, servers=[FIRST], tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def http(fleet: Fleet) -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(fleet, servers=[FIRST]) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    _http._context_for.cache_clear()
    _http._hashes.cache_clear()
    yield
    _http._context_for.cache_clear()
    _http._hashes.cache_clear()


def _audit(fake: FakeWinrmServer, transport: str, **overrides: Any) -> str:
    with connect(fake.connection_options(FIRST, **overrides), transport) as remote:
        return str(remote.run("inventory", {}).data["Server"]["ComputerName"])


class _Counter:
    """Counts calls made by the test's own thread: the client (the loopback endpoint answers in
    threads of its own, and its NTLM acceptor derives hashes too)."""

    def __init__(self) -> None:
        self.calls = 0
        self.thread = threading.get_ident()

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self.thread:
                self.calls += 1
            return func(*args, **kwargs)

        return counted


# -- the CA bundle ---------------------------------------------------------------------------------
@pytest.fixture
def bundle_loads(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    counter = _Counter()
    monkeypatch.setattr(
        ssl.SSLContext, "load_verify_locations", counter.wrap(ssl.SSLContext.load_verify_locations)
    )
    return counter


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_ca_bundle_is_loaded_once_for_many_connections(
    https: FakeWinrmServer, bundle_loads: _Counter, transport: str
) -> None:
    for _ in range(4):
        assert _audit(https, transport) == FIRST
    assert bundle_loads.calls == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_without_the_tuning_the_bundle_is_loaded_per_connection(
    https: FakeWinrmServer, bundle_loads: _Counter, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    # the cost the shared context removes, measured the same way: one load per connection
    monkeypatch.setattr(_http, "tune_session", lambda session: session)
    for _ in range(3):
        assert _audit(https, transport) == FIRST
    assert bundle_loads.calls >= 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_edited_bundle_is_read_again(https: FakeWinrmServer, tmp_path: Path, transport: str) -> None:
    assert https.cert is not None
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(https.cert.cert_file.read_bytes())
    assert _audit(https, transport, ca_bundle=str(bundle)) == FIRST
    first = _http.shared_tls_context(str(bundle))
    bundle.write_bytes(https.cert.cert_file.read_bytes() + b"\n")  # another size: another file
    assert _audit(https, transport, ca_bundle=str(bundle)) == FIRST
    assert _http.shared_tls_context(str(bundle)) is not first


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_shared_context_still_refuses_an_unknown_ca(
    https: FakeWinrmServer, tmp_path: Path, transport: str
) -> None:
    import certifi  # requests' own default bundle: public CAs, not the endpoint's

    public = tmp_path / "public.pem"
    public.write_text(Path(certifi.where()).read_text(encoding="utf-8"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConnectError):
            _audit(https, transport, ca_bundle=str(public))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_shared_context_still_checks_the_host_name(
    https: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    assert _audit(https, transport) == FIRST  # the context is made and shared
    # the same endpoint under a name its certificate does not carry
    import socket

    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return resolve("127.0.0.1" if host == "not-in-the-certificate.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(ConnectError):
        _audit(https, transport, host="not-in-the-certificate.test")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_validation_shares_nothing(https: FakeWinrmServer, bundle_loads: _Counter, transport: str) -> None:
    assert _audit(https, transport, ca_bundle=None, cert_validation=False) == FIRST
    assert bundle_loads.calls == 0
    assert _http.shared_tls_context(False) is None


def test_no_context_is_shared_for_a_directory_or_a_missing_file(tmp_path: Path) -> None:
    assert _http.shared_tls_context(str(tmp_path)) is None
    assert _http.shared_tls_context(str(tmp_path / "absent.pem")) is None


def test_the_default_trust_is_requests_default_bundle() -> None:
    context = _http.shared_tls_context(True)
    assert context is not None and context is _http.shared_tls_context(
        str(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    )
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


# -- the environment -------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_environment_is_read_once_per_connection(
    http: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    counter, sent = _Counter(), _Counter()
    monkeypatch.setattr(
        requests.utils, "should_bypass_proxies", counter.wrap(requests.utils.should_bypass_proxies)
    )
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", sent.wrap(requests.adapters.HTTPAdapter.send))
    assert _audit(http, transport) == FIRST
    requests_sent = sent.calls
    assert requests_sent >= 5
    # when the session is built, not per request: pywinrm asks for its explicit proxy too, and its
    # message-encryption setup over HTTP goes out before the session is handed back
    assert counter.calls <= (2 if transport == "psrp" else 3) < requests_sent


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_proxy_from_the_environment_still_applies(
    http: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    # an HTTP proxy nobody listens on: every request must go to it, so the audit cannot connect
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(ConnectError):
        _audit(http, transport, connect_timeout=2.0)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _audit(http, transport) == FIRST


# -- the NTLM hashes -------------------------------------------------------------------------------
@pytest.fixture
def lm_hashes(monkeypatch: pytest.MonkeyPatch) -> _Counter:
    counter = _Counter()
    original = spnego._ntlm_raw.crypto.lmowfv1
    monkeypatch.setattr(spnego._ntlm_raw.crypto, "lmowfv1", counter.wrap(original))  # ours
    monkeypatch.setattr(spnego._ntlm, "lmowfv1", counter.wrap(original))  # pyspnego's, per context
    return counter


@pytest.mark.parametrize("fake_name", ["http", "https"])
def test_the_password_hashes_are_derived_once(
    request: pytest.FixtureRequest, lm_hashes: _Counter, fake_name: str
) -> None:
    fake: FakeWinrmServer = request.getfixturevalue(fake_name)
    for transport in (*TRANSPORTS, *TRANSPORTS):
        assert _audit(fake, transport) == FIRST
    assert lm_hashes.calls == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_wrong_password_is_still_refused(http: FakeWinrmServer, transport: str) -> None:
    assert _audit(http, transport) == FIRST
    with pytest.raises(AuthError):
        _audit(http, transport, password="not-the-password")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_hash_reaches_the_log(
    http: FakeWinrmServer, caplog: pytest.LogCaptureFixture, transport: str
) -> None:
    password = http.credentials.password
    lm, nt = (
        h.hex()
        for h in (spnego._ntlm_raw.crypto.lmowfv1(password), spnego._ntlm_raw.crypto.ntowfv1(password))
    )
    with caplog.at_level(logging.DEBUG):
        assert _audit(http, transport) == FIRST
    text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records).lower()
    assert text and nt not in text and lm not in text and password.lower() not in text


def test_the_credentials_given_to_pyspnego() -> None:
    creds = _http.ntlm_credentials("CORP\\audit", "Secret-1")
    assert [type(c).__name__ for c in creds] == ["NTLMHash", "Password"]
    assert creds[0].nt_hash == spnego._ntlm_raw.crypto.ntowfv1("Secret-1").hex()
    assert "Secret-1" not in repr(creds) and creds[0].nt_hash not in repr(creds)
    # a credential object, no password, and a password given as LM:NT hashes pass unchanged
    hashes = "aad3b435b51404eeaad3b435b51404ee:8846f7eaee8fb117ad06bdd830b7586c"
    keytab = object()
    assert _http.ntlm_credentials(keytab, "x") is keytab
    assert _http.ntlm_credentials("CORP\\audit", None) == "CORP\\audit"
    assert _http.ntlm_credentials("CORP\\audit", hashes) == "CORP\\audit"


# -- the environment requests writes while a pywinrm session is built ---------------------------
def test_winrm_sessions_are_built_one_at_a_time(
    http: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pywinrm builds its session with proxies={"no_proxy": "*"}, which requests resolves by setting
    # and deleting os.environ["no_proxy"] (requests issue #4997): at the same time in two
    # threads, the second delete was a KeyError that failed the host
    inside, most = 0, 0
    lock = threading.Lock()
    real = requests.utils.set_environ

    @contextlib.contextmanager
    def set_environ(name: str, value: str | None) -> Iterator[None]:
        nonlocal inside, most
        if value is None:  # requests changes nothing then
            with real(name, value):
                yield
            return
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.05)  # widen the window the race needs
            with real(name, value):
                yield
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(requests.utils, "set_environ", set_environ)
    before = os.environ.get("no_proxy")
    start = threading.Barrier(6)
    names: list[str] = []

    def audit() -> None:
        start.wait(10)
        names.append(_audit(http, "winrm"))

    threads = [threading.Thread(target=audit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert names == [FIRST] * 6
    assert most == 1  # one at a time, and at least one: the builds did write it
    assert os.environ.get("no_proxy") == before
