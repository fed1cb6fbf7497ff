"""Kerberos and CredSSP for both transports: the optional libraries, the credential one
connection uses, and Kerberos failures explained.

Kerberos comes with the ``kerberos`` extra (``pip install "windns-toolkit[kerberos]"``): pyspnego
then drives the MIT (or Heimdal) library through the Python ``gssapi`` and ``krb5`` packages,
for pypsrp directly and for pywinrm through ``KerberosAuth`` below (pywinrm's own Kerberos
support needs pykerberos, which cannot use a password, a keytab or a chosen credential cache).
Without the extra ``negotiate`` still works: it is NTLM then.

The client asks for the service principal ``HTTP/<server name as given>``: the name you connect
to must be the server's DNS name (the one its computer account's SPNs carry), never an IP address.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from typing import Any

import requests
from pypsrp.negotiate import HTTPNegotiateAuth

from toolkit.errors import AuthError, ConfigError, RemoteError
from toolkit.remote import _http
from toolkit.remote.base import ConnectionOptions

__all__ = [
    "CREDSSP_INSTALL",
    "KERBEROS_INSTALL",
    "SERVICE",
    "explain",
    "kerberos_missing",
    "mechanism_of",
    "require",
    "spnego_username",
]

log = logging.getLogger("windns.remote.kerberos")

#: pyspnego's modules that log every authentication token (a Kerberos AP-REQ carries the service
#: ticket and authenticator; NTLM and CredSSP messages are as sensitive) at DEBUG
_TOKEN_LOGGERS = ("spnego._gss", "spnego._negotiate", "spnego._ntlm", "spnego._credssp", "spnego._sspi")
_TOKEN_MESSAGE = re.compile(r"(step (input|output)|TSRequest (input|output))", re.IGNORECASE)


class _NoTokens(logging.Filter):
    """Keep pyspnego's step records, without the token: -vv shows the handshake's steps only."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if _TOKEN_MESSAGE.search(text):
            head = _TOKEN_MESSAGE.search(text)
            assert head is not None
            record.msg = text[: head.end()] + ": (token not logged)"
            record.args = ()
        return True


def _quiet_tokens() -> None:
    for name in _TOKEN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoTokens) for f in logger.filters):
            logger.addFilter(_NoTokens())


_quiet_tokens()

SERVICE = "HTTP"
KERBEROS_INSTALL = (
    'pip install "windns-toolkit[kerberos]" (building its gssapi and krb5 packages needs a C compiler '
    "and the Kerberos headers: Debian/Ubuntu apt install gcc libkrb5-dev, Fedora/RHEL dnf install gcc "
    "krb5-devel)"
)
CREDSSP_INSTALL = 'pip install "windns-toolkit[credssp]"'


def _missing(*modules: str) -> str | None:
    """The first of the optional ``modules`` that does not load, with why; None when all do.
    (Probed by name: they belong to extras, never to a plain install's imports.)"""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # also a shared library that fails to load
            return f"{name} ({' '.join(str(exc).split())[:120]})"
    return None


def kerberos_missing() -> str | None:
    """Why Kerberos is unavailable here (the library that failed to load), or None."""
    return _missing("gssapi", "krb5")


def credssp_missing() -> str | None:
    return _missing("requests_credssp")


def require(opts: ConnectionOptions) -> None:
    """Refuse, with the install command, an auth method whose libraries are not installed."""
    if opts.auth == "kerberos" or opts.kerberos_ccache or opts.kerberos_keytab:
        missing = kerberos_missing()
        if missing:
            raise ConfigError(
                f"Kerberos authentication needs the kerberos extra, missing {missing}: {KERBEROS_INSTALL}"
            )
    if opts.auth == "credssp":
        missing = credssp_missing()
        if missing:
            raise ConfigError(
                f"CredSSP authentication needs the credssp extra, missing {missing}: {CREDSSP_INSTALL}"
            )


def spnego_username(opts: ConnectionOptions) -> Any:
    """What pyspnego takes as the user: a credential cache or keytab credential when the options
    name one, else the user name (None: the default credential cache)."""
    if opts.kerberos_ccache or opts.kerberos_keytab:
        import spnego

        if opts.kerberos_keytab:
            path = os.path.abspath(os.path.expanduser(opts.kerberos_keytab))
            if not os.path.isfile(path):
                raise ConfigError(f"Kerberos keytab {opts.kerberos_keytab} does not exist")
            return spnego.KerberosKeytab(keytab=f"FILE:{path}", principal=opts.username or None)
        assert opts.kerberos_ccache is not None
        ccache = opts.kerberos_ccache
        if ":" not in ccache:
            path = os.path.abspath(os.path.expanduser(ccache))
            if not os.path.isfile(path):
                raise ConfigError(
                    f"Kerberos credential cache {ccache} does not exist (run kinit -c {ccache})"
                )
            ccache = f"FILE:{path}"
        return spnego.KerberosCCache(ccache=ccache, principal=opts.username or None)
    return opts.username


class NegotiateAuth(HTTPNegotiateAuth):
    """pypsrp's Negotiate/Kerberos/NTLM auth for requests (pyspnego), closing the connection of
    the 401 it answers when the handshake fails on our side (no ticket, unknown SPN...): pypsrp
    leaves that socket to the garbage collector."""

    def handle_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        try:
            result: requests.Response = super().handle_401(response, **kwargs)  # type: ignore[no-untyped-call]
        except BaseException:
            _close_response(response)
            raise
        return result


def _close_response(response: requests.Response) -> None:
    """Close a 401 whose handshake failed: it (no body) already went back to the pool, but its
    socket is still this one."""
    fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    response.close()
    if sock is not None:
        sock.close()


def close_on_failed_handshake(auth: Any) -> None:
    """The same for another requests auth with a ``response_hook`` (requests-credssp's, which
    raises from it when the server does not offer CredSSP)."""
    original = getattr(auth, "response_hook", None)
    if original is None:
        return

    def response_hook(response: requests.Response, **kwargs: Any) -> Any:
        # the handshake sends its legs through the response's adapter; a leg's 401 that fails it
        # (a wrong password: the server's errorCode) is held by no one once the hook raises
        adapter = getattr(response, "connection", None)
        legs: list[requests.Response] = []
        own = adapter is not None and "send" in vars(adapter)
        if adapter is not None:
            send = adapter.send

            def recording_send(request: Any, **kw: Any) -> Any:
                reply = send(request, **kw)
                legs.append(reply)
                return reply

            adapter.send = recording_send
        try:
            return original(response, **kwargs)
        except BaseException:
            for leg in (response, *legs):
                _close_response(leg)
            raise
        finally:
            if own and adapter is not None:
                adapter.send = send
            elif adapter is not None:
                del adapter.send  # the class's method again

    auth.response_hook = response_hook


def use_negotiate_auth(transport: Any) -> None:
    """Make a pypsrp ``_TransportHTTP`` build ``NegotiateAuth`` for negotiate, ntlm and kerberos,
    and close a failed CredSSP handshake's connection too."""
    build_credssp = transport._build_auth_credssp

    def credssp(session: requests.Session) -> None:
        build_credssp(session)
        close_on_failed_handshake(session.auth)

    transport._build_auth_credssp = credssp

    def build(session: requests.Session, auth_provider: str = "negotiate") -> None:
        username = transport.username
        if auth_provider != "kerberos":  # NTLM may answer: its hashes derived once per password
            username = _http.ntlm_credentials(username, transport.password)
        session.auth = NegotiateAuth(
            username=username,
            password=transport.password,
            auth_provider=auth_provider,
            wrap_required=transport.wrap_required,
            **transport._get_auth_kwargs("negotiate"),
        )

    transport._build_auth_negotiate = build


def mechanism_of(context: Any) -> str | None:
    """The mechanism a completed pyspnego context used: "kerberos", "ntlm", ..."""
    value = getattr(context, "negotiated_protocol", None)
    return str(value) if value else None


# -- failures -------------------------------------------------------------------------------------
def _texts(exc: BaseException) -> str:
    seen: set[int] = set()
    parts: list[str] = []
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        parts.append(str(e))
        base = getattr(e, "base_error", None)
        for inner in (e.__cause__, e.__context__, base):
            if isinstance(inner, BaseException):
                stack.append(inner)
    return " ".join(" ".join(parts).split())


#: a CredSSP server's "logon denied" in a TSRequest errorCode: SEC_E_LOGON_DENIED (0x8009030C, as
#: pyspnego's acceptor sends it) or STATUS_LOGON_FAILURE (0xC000006D), each as requests-credssp
#: prints it (hex and unsigned decimal)
_LOGON_DENIED = ("0x8009030c", "2148074252", "0xc000006d", "3221225581")


def explain(exc: BaseException, opts: ConnectionOptions, *, endpoint: str) -> RemoteError | None:
    """A Kerberos failure from gssapi/krb5 (inside pyspnego) as one line that says what to do; None
    when ``exc`` is no Kerberos failure we recognise."""
    text = _texts(exc)
    low = text.lower()
    spn = f"{SERVICE}/{opts.host}"
    of_user = f" of {opts.username}" if opts.username else ""
    cache = "keytab" if opts.kerberos_keytab else "credential cache"
    if re.search(r"server (\S+ )?not found in kerberos database", low) or "server principal unknown" in low:
        fallback = (
            "with --auth negotiate such a name falls back to NTLM"
            if opts.auth == "kerberos"
            else "negotiate could not fall back to NTLM"
        )
        return AuthError(
            f"{endpoint}: the KDC knows no service principal {spn} (Kerberos SPN not found): connect to "
            f"the server by the DNS name its computer account carries (setspn -L <computer> lists them), "
            f"not an IP address, alias or short name; {fallback}"
        )
    if "clock skew too great" in low:
        return AuthError(
            f"{endpoint}: Kerberos refused the authentication because the clocks differ too much "
            "(clock skew too great, 5 minutes by default): synchronise this machine's clock with the "
            "domain (chrony, timedatectl) and try again"
        )
    if (
        "preauthentication failed" in low
        or "password incorrect" in low
        or "decrypt integrity check failed" in low
        or "client not found in kerberos database" in low
    ):
        return AuthError(
            f"{endpoint}: the KDC rejected the {'keytab' if opts.kerberos_keytab else 'password'}{of_user} "
            "(Kerberos pre-authentication failed, or no such principal)"
        )
    if (
        "ticket expired" in low
        or "credentials have expired" in low
        or "referenced context has expired" in low
        or "ticket not yet valid" in low
    ):
        return AuthError(
            f"{endpoint}: the Kerberos ticket{of_user} in the {cache} has expired (or is not yet valid): "
            "run kinit again (klist shows the cache), or give --username with the password in "
            "WINDNS_PASSWORD"
        )
    if (
        "no credentials cache" in low
        or "no kerberos credentials available" in low
        or "credentials cache file" in low
        or "can't find client principal" in low
        or "matching credential not found" in low
    ):
        return AuthError(
            f"{endpoint}: no Kerberos ticket{of_user} in the {cache}: run kinit USER@REALM first (klist "
            "shows the cache), or give --username with the password in WINDNS_PASSWORD"
        )
    if (
        "cannot find kdc" in low
        or "cannot contact any kdc" in low
        or "cannot resolve network address for kdc" in low
    ):
        return AuthError(
            f"{endpoint}: cannot reach a KDC for the realm: check the [realms] section of krb5.conf "
            "(KRB5_CONFIG) or the _kerberos._tcp SRV records of the domain"
        )
    if opts.auth == "credssp" and any(code in low for code in _LOGON_DENIED):
        who = f"user {opts.username}" if opts.username else "the current user"
        return AuthError(f"{endpoint} rejected the password of {who} (CredSSP: the logon was denied)")
    if "credssp" in low and ("did not response" in low or "did not respond" in low):
        return AuthError(
            f"{endpoint}: the server does not offer CredSSP: enable it there (Enable-WSManCredSSP -Role "
            "Server) or choose another --auth"
        )
    if "cannot determine realm" in low:
        return AuthError(
            f"{endpoint}: no Kerberos realm for {opts.host}: name the server by its fully qualified DNS name "
            "or map it in the [domain_realm] section of krb5.conf"
        )
    return None


def mechanism_used(session: Any) -> str | None:
    """Which mechanism the HTTP session of a connection authenticated with, for the log: the
    pyspnego context's choice under Negotiate, else the auth method's own name."""
    auth = getattr(session, "auth", None)
    contexts = getattr(auth, "contexts", None)
    if isinstance(contexts, dict):
        for context in contexts.values():
            mech = mechanism_of(context)
            if mech:
                return mech
    name = type(auth).__name__.lower()
    for mech in ("ntlm", "credssp", "basic"):
        if mech in name:
            return mech
    if getattr(session, "cert", None):
        return "certificate"
    return None
