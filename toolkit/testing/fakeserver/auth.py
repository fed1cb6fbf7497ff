"""Authentication for the loopback endpoint: Basic, NTLM/Negotiate/Kerberos and CredSSP through
pyspnego's acceptors, with WinRM message encryption over HTTP (MS-WSMV 2.2.9.1, the reverse of
what pypsrp's and pywinrm's ``encryption.py`` do on the client side), and client certificates
mapped to an account (``certmap``).

CredSSP (MS-CSSP) is offered over HTTPS only: pyspnego's acceptor runs the TLS handshake inside
the tokens, then NTLM against the accounts below, then takes the delegated password (which must
be the account's). CredSSP message encryption over HTTP is not modelled.

Kerberos needs the ``kerberos`` extra (gssapi) and a keytab holding the ``HTTP/<name>``
service key: the acceptor takes its key from the keytab ``KRB5_KTNAME`` names (the endpoint
sets it when started with one), under ``Negotiate`` (SPNEGO or a bare Kerberos token, as
Windows accepts both) or the ``Kerberos`` scheme.

pyspnego's NTLM acceptor reads the accounts from the file named by ``NTLM_USER_FILE``
(lines ``DOMAIN:USER:PASSWORD``). ``Credentials.install()`` writes such a file (mode 0600,
in a fresh temporary directory) and points the variable at it; the process keeps one file for
every endpoint it runs, so several endpoints can live side by side. pyspnego takes the first
line that matches a user, so one user name has one password per process (the default account
gets one random password per process; installing the same user again replaces it).
``Credentials.release()`` undoes one ``install()``: when no endpoint of the process needs the
file any more it is deleted with its directory (it holds passwords in the clear).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import shutil
import struct
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spnego
import spnego.channel_bindings
import spnego.exceptions

from toolkit.testing.fakeserver.certmap import MUTUAL_PROFILE, CertificateMapper

__all__ = [
    "ENCRYPTED_PROTOCOL",
    "KERBEROS_ENCRYPTED_PROTOCOL",
    "ConnectionAuth",
    "Credentials",
    "request_protocol",
    "unwrap_message",
    "wrap_message",
]

ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS_ENCRYPTED_PROTOCOL = "application/HTTP-Kerberos-session-encrypted"
_PROTOCOL_RE = re.compile(r'protocol="?([^";]+)"?', re.IGNORECASE)
_BOUNDARY = b"--Encrypted Boundary"

_FILE_LOCK = threading.Lock()
_INSTALLED: dict[tuple[str, str], str] = {}  # (domain, user) -> password, every endpoint in the process
_FILE: Path | None = None
_USES = 0  # install() calls not yet released
#: one random password per process, so endpoints started side by side share the test account
_PROCESS_PASSWORD = "Fake-" + secrets.token_urlsafe(12)


@dataclass
class Credentials:
    """Accounts the endpoint accepts. ``password`` is never printed by repr."""

    username: str = "windns"
    password: str = field(default=_PROCESS_PASSWORD, repr=False)
    domain: str = "WINDNS"

    def accepts(self, user: str, password: str) -> bool:
        name = user
        if "\\" in name:
            dom, name = name.split("\\", 1)
            if dom.upper() not in (self.domain.upper(), "."):
                return False
        elif "@" in name:
            name, dom = name.split("@", 1)
            if dom.upper().split(".")[0] != self.domain.upper():
                return False
        return name.lower() == self.username.lower() and secrets.compare_digest(
            password.encode("utf-8"), self.password.encode("utf-8")
        )

    def install(self) -> Path:
        """Add this account to the process's NTLM_USER_FILE and return the file's path."""
        global _FILE, _USES
        with _FILE_LOCK:
            if _FILE is None:
                _FILE = Path(tempfile.mkdtemp(prefix="windns-fake-")) / "ntlm-users"
            _USES += 1
            for key in [k for k in _INSTALLED if k[1].lower() == self.username.lower()]:
                del _INSTALLED[key]
            _INSTALLED[(self.domain, self.username)] = self.password
            _INSTALLED[("", self.username)] = self.password
            # Each account twice: first its hashes in the smbpasswd form, which pyspnego takes as
            # they are (for the Heimdal DOMAIN:USER:PASSWORD form it derives the LM hash with a
            # pure-Python DES on every logon), then the Heimdal form, where a user reads the
            # password; pyspnego stops at the first line that matches.
            lines = [_smbpasswd_line(d, u, p) for (d, u), p in _INSTALLED.items()]
            lines += [f"{d}:{u}:{p}" for (d, u), p in _INSTALLED.items()]
            fd = os.open(_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            os.environ["NTLM_USER_FILE"] = str(_FILE)
            return _FILE

    def release(self) -> None:
        """Undo one ``install()``; the last one deletes the file, its directory and NTLM_USER_FILE."""
        global _FILE, _USES
        with _FILE_LOCK:
            if _USES == 0 or _FILE is None:
                return
            _USES -= 1
            if _USES:
                return
            path, _FILE = _FILE, None
            _INSTALLED.clear()
            if os.environ.get("NTLM_USER_FILE") == str(path):
                del os.environ["NTLM_USER_FILE"]
            shutil.rmtree(path.parent, ignore_errors=True)


def _smbpasswd_line(domain: str, user: str, password: str) -> str:
    """``[DOMAIN\\]USER:UID:LM:NT:[U]:LCT-0``, the smbpasswd form of NTLM_USER_FILE (pyspnego's
    ``_get_credential``)."""
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # the derivation pyspnego itself uses

    name = f"{domain}\\{user}" if domain else user
    return f"{name}:0:{lmowfv1(password).hex().upper()}:{ntowfv1(password).hex().upper()}:[U]:LCT-00000000"


class AuthFailed(Exception):
    """Answer 401 (no token)."""


class ConnectionAuth:
    """The authentication state of one TCP connection (NTLM and CredSSP are connection-oriented).

    ``peer_certificate`` is the client certificate the TLS handshake gave (DER), which
    ``mapper`` maps to an account for certificate authentication (``certmap``)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        methods: frozenset[str],
        cbt: bytes | None = None,
        peer_certificate: bytes | None = None,
        mapper: CertificateMapper | None = None,
    ) -> None:
        self.credentials = credentials
        self.methods = methods
        self.cbt = cbt
        self.peer_certificate = peer_certificate
        self.mapper = mapper
        #: the account a mapped client certificate runs as
        self.certificate_account: str | None = None
        self.context: Any = None
        self.scheme = "Negotiate"
        self.authenticated = False  # by Negotiate/NTLM/Kerberos, for the life of the connection
        self.mechanism: str | None = None  # what the last completed handshake used: "ntlm", "kerberos"
        self.completed: str | None = None  # the mechanism of a handshake the last check completed

    def challenge_headers(self) -> list[tuple[str, str]]:
        headers = []
        if "negotiate" in self.methods:
            headers.append(("WWW-Authenticate", "Negotiate"))
        if "kerberos" in self.methods:
            headers.append(("WWW-Authenticate", "Kerberos"))
        if "credssp" in self.methods:
            headers.append(("WWW-Authenticate", "CredSSP"))
        if "basic" in self.methods:
            headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return headers

    def check(self, authorization: str | None) -> tuple[bool, list[tuple[str, str]]]:
        """Process one request's Authorization header.

        Returns (authenticated, headers for the response). ``(False, headers)`` means answer
        401 with those headers; raises ``AuthFailed`` for a 401 that ends the handshake.
        """
        self.completed = None
        if not authorization:
            if self.authenticated:
                return True, []
            return False, self.challenge_headers()
        if authorization.strip().lower() == MUTUAL_PROFILE and "certificate" in self.methods:
            account = self.mapper.account_for(self.peer_certificate) if self.mapper else None
            if account is None:
                raise AuthFailed()
            self.certificate_account = account
            self.completed = "certificate"
            return True, []
        scheme, _, token = authorization.strip().partition(" ")
        low = scheme.lower()
        if low == "credssp" and "credssp" in self.methods:
            return self._credssp(token)
        if low == "basic" and "basic" in self.methods:
            try:
                user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise AuthFailed() from None
            if not self.credentials.accepts(user, password):
                raise AuthFailed()
            self.completed = "basic"
            return True, []
        if (low in ("negotiate", "ntlm") and "negotiate" in self.methods) or (
            low == "kerberos" and "kerberos" in self.methods
        ):
            try:
                in_token = base64.b64decode(token)
            except binascii.Error:
                raise AuthFailed() from None
            if self.context is None or self.context.complete:
                bindings = None
                if self.cbt is not None:
                    bindings = spnego.channel_bindings.GssChannelBindings(application_data=self.cbt)
                protocol = "kerberos" if low == "kerberos" else "negotiate"
                self.context = spnego.server(protocol=protocol, channel_bindings=bindings, service="HTTP")
                self.scheme = scheme
                self.authenticated = False
            try:
                out = self.context.step(in_token)
            except (spnego.exceptions.SpnegoError, ValueError, KeyError, struct.error):
                self.context = None
                raise AuthFailed() from None
            headers = [("WWW-Authenticate", f"{self.scheme} {base64.b64encode(out).decode()}")] if out else []
            if not self.context.complete:
                return False, headers
            self.authenticated = True
            self.mechanism = self.completed = str(getattr(self.context, "negotiated_protocol", None) or low)
            return True, headers
        raise AuthFailed()

    def _credssp(self, token: str) -> tuple[bool, list[tuple[str, str]]]:
        """One leg of a CredSSP handshake (MS-CSSP) through pyspnego's acceptor: TLS inside the
        tokens, NTLM (the accounts of NTLM_USER_FILE) inside the TLS, then the delegated password."""
        try:
            in_token = base64.b64decode(token)
        except binascii.Error:
            raise AuthFailed() from None
        # every handshake starts with a TLS ClientHello (record type 22, handshake type 1)
        hello = len(in_token) > 5 and in_token[0] == 0x16 and in_token[5] == 0x01
        if self.context is None or self.context.complete or hello:
            self.context = spnego.server(protocol="credssp")
            self.scheme = "CredSSP"
            self.authenticated = False
        try:
            out = self.context.step(in_token)
        except (spnego.exceptions.SpnegoError, ValueError, KeyError, struct.error):
            self.context = None
            raise AuthFailed() from None
        headers = [("WWW-Authenticate", f"CredSSP {base64.b64encode(out).decode()}")] if out else []
        if not self.context.complete:
            if not out:
                self.context = None
                raise AuthFailed()
            return False, headers
        delegated = self.context.get_extra_info("client_credential")
        user = getattr(delegated, "username", "") or ""
        domain = getattr(delegated, "domain_name", "") or ""
        password = getattr(delegated, "password", "") or ""
        if not self.credentials.accepts(f"{domain}\\{user}" if domain else user, password):
            self.context = None
            raise AuthFailed()
        self.authenticated = True
        self.mechanism = self.completed = "credssp"
        return True, headers

    @property
    def can_wrap(self) -> bool:
        return self.authenticated and self.context is not None and self.context.complete


_LENGTH_RE = re.compile(rb"Length=(\d+)")


def unwrap_message(context: Any, body: bytes) -> bytes:
    """Decrypt a ``multipart/encrypted`` WinRM request body."""
    parts = [p for p in re.split(re.escape(_BOUNDARY) + rb"\r\n", body) if p]
    message = b""
    for i in range(0, len(parts) - 1, 2):
        m = _LENGTH_RE.search(parts[i])
        if m is None:
            raise ValueError("encrypted part without OriginalContent length")
        payload = parts[i + 1]
        if payload.endswith(_BOUNDARY + b"--\r\n"):
            payload = payload[: -len(_BOUNDARY + b"--\r\n")]
        payload = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
        header_len = struct.unpack("<i", payload[:4])[0]
        header = payload[4 : 4 + header_len]
        data = context.unwrap_winrm(header, payload[4 + header_len :])
        if len(data) != int(m.group(1)):
            raise ValueError("decrypted length does not match OriginalContent length")
        message += data
    return message


def request_protocol(content_type: str) -> str:
    """The encryption protocol a ``multipart/encrypted`` request names (answered in kind)."""
    m = _PROTOCOL_RE.search(content_type)
    if m and m.group(1).lower() == KERBEROS_ENCRYPTED_PROTOCOL.lower():
        return KERBEROS_ENCRYPTED_PROTOCOL
    return ENCRYPTED_PROTOCOL


def wrap_message(context: Any, message: bytes, protocol: str = ENCRYPTED_PROTOCOL) -> tuple[str, bytes]:
    """Encrypt a response for a client that sent an encrypted request: (content type, body)."""
    header, data, padding = context.wrap_winrm(message)
    body = (
        _BOUNDARY
        + b"\r\n"
        + f"\tContent-Type: {protocol}\r\n".encode()
        + b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;"
        + f"Length={len(message) + padding}\r\n".encode()
        + _BOUNDARY
        + b"\r\n"
        + b"\tContent-Type: application/octet-stream\r\n"
        + struct.pack("<i", len(header))
        + header
        + data
        + _BOUNDARY
        + b"--\r\n"
    )
    content_type = f'multipart/encrypted;protocol="{protocol}";boundary="Encrypted Boundary"'
    return content_type, body
