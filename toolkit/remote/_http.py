"""The client's HTTP session, tuned once per connection for a fleet of servers.

Both transports talk through a requests session that their library builds (pypsrp's
``_TransportHTTP._build_session``, pywinrm's ``Transport.build_session``). Three costs of that
session are paid again for every host of a scan, for nothing:

- **The CA bundle.** For each new HTTPS connection urllib3 makes a new ``SSLContext`` and loads
  the CA bundle into it (requests hands it the bundle's path: ``--ca-bundle``,
  ``REQUESTS_CA_BUNDLE`` or certifi's). With OpenSSL 3 loading a bundle of public CAs (about
  150 certificates) costs some 40 ms of CPU, more than the rest of a 20-zone audit. Here each
  trust configuration gets one context per process, loaded once and reused by every connection
  that trusts the same file (``shared_tls_context``; the file's size and modification time are
  part of the key, so an edited bundle is read again). The context is made as urllib3 makes its
  own (``create_urllib3_context`` with ``CERT_REQUIRED``: the certificate and the host name are
  checked as before). Connections without validation, with a CA directory or with a client
  certificate keep urllib3's own per-connection context.
- **The environment's proxies.** With ``trust_env`` set, requests reads every environment
  variable again for every request (``getproxies_environment``, twice per request) to learn
  proxies and CA bundle the library already read once when it built the session, for the one
  endpoint the session ever talks to. Here ``trust_env`` is turned off after that first read:
  the same proxies and CA bundle, read once. (A ``--ca-bundle`` now also beats
  ``REQUESTS_CA_BUNDLE`` on every request, as it does when the session is built; requests let
  the environment win per request, requests issue #3829.)
- **The NTLM password hashes.** pyspnego derives the NT and LM hashes from the password for
  every new NTLM context, the LM hash with a pure-Python DES (about 2 ms). NTLMv2 sends neither,
  but both are derived each time. Here they are derived once per password and handed to
  pyspnego as its ``NTLMHash`` credential, with the password itself kept beside it for Kerberos
  (``ntlm_credentials``). The hashes stay in memory only, like the password.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any

import requests
import requests.adapters

__all__ = ["ntlm_credentials", "settle_environment", "share_tls", "shared_tls_context", "tune_session"]


def tune_session(session: requests.Session) -> requests.Session:
    """``settle_environment`` and ``share_tls`` on a session its library just built."""
    settle_environment(session)
    share_tls(session)
    return session


def settle_environment(session: requests.Session) -> None:
    """Stop requests from reading the environment again for every request: the library read
    it once, for the session's endpoint, when it built the session."""
    session.trust_env = False


# -- one SSLContext per trust configuration -------------------------------------------------------
def _bundle_key(path: str) -> tuple[str, int, int] | None:
    """A CA bundle file's identity: its real path, size and modification time; None for a
    directory or a path that is not there (urllib3's own handling applies then)."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return None
    if not os.path.isfile(real):
        return None
    return real, st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _context_for(key: tuple[str, int, int]) -> ssl.SSLContext:
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(cafile=key[0])
    context._windns_shared = True  # type: ignore[attr-defined]  # its bundle is in it already
    return context


def shared_tls_context(verify: bool | str | None) -> ssl.SSLContext | None:
    """The process's one context for connections that validate against ``verify`` (True:
    requests' default bundle; a path: that bundle file); None when nothing is shared (no
    validation, a CA directory, a missing file)."""
    if verify is None or verify is False:
        return None
    if verify is True:
        from requests.utils import DEFAULT_CA_BUNDLE_PATH

        verify = str(DEFAULT_CA_BUNDLE_PATH)
    key = _bundle_key(verify)
    return None if key is None else _context_for(key)


def share_tls(session: requests.Session) -> None:
    """Make the session's HTTPS adapter take its TLS context from ``shared_tls_context``."""
    adapter = session.get_adapter("https://")
    if isinstance(adapter, requests.adapters.HTTPAdapter) and not getattr(
        adapter, "_windns_shared_tls", False
    ):
        _share_tls(adapter)


def _share_tls(adapter: Any) -> None:  # requests' HTTPAdapter, its methods wrapped on the instance
    pool_attributes = adapter.build_connection_pool_key_attributes
    cert_verify = adapter.cert_verify

    def build_connection_pool_key_attributes(
        request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = pool_attributes(request, verify, cert)
        if host_params.get("scheme") == "https" and cert is None:
            context = shared_tls_context(verify)
            if context is not None:
                pool_kwargs.pop("ca_certs", None)
                pool_kwargs["ssl_context"] = context
        return host_params, pool_kwargs

    def verify_connection(conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        cert_verify(conn, url, verify, cert)  # keeps requests' error for a bundle that is not there
        context = (getattr(conn, "conn_kw", None) or {}).get("ssl_context")
        if getattr(context, "_windns_shared", False):  # the pool's key was made with it, above
            conn.ca_certs = None  # already in the shared context: not loaded again per connection

    adapter.build_connection_pool_key_attributes = build_connection_pool_key_attributes
    adapter.cert_verify = verify_connection
    adapter._windns_shared_tls = True


# -- NTLM hashes, derived once per password -------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _hashes(password: str) -> tuple[str, str]:
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # the derivation pyspnego itself uses

    return lmowfv1(password).hex(), ntowfv1(password).hex()


def ntlm_credentials(username: Any, password: str | None) -> Any:
    """What to give pyspnego as the user: for a user name and password, a list of the NTLM
    hash credential (derived once per password) and the password credential (for Kerberos);
    anything else (a credential object, no password, a password given as LM:NT hashes) as it
    came."""
    if not isinstance(username, str) or not username or not password:
        return username
    import spnego
    from spnego._ntlm_raw.crypto import is_ntlm_hash

    if is_ntlm_hash(password):
        return username
    lm, nt = _hashes(password)
    return [
        spnego.NTLMHash(username=username, lm_hash=lm, nt_hash=nt),
        spnego.Password(username=username, password=password),
    ]
