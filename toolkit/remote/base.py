"""The Remote seam: one small protocol every transport implements.

``run(script, params)`` runs ``ps_scripts/<script>.ps1`` on the server with ``params`` bound to
the script's ``param()`` block, and returns the one JSON document the script printed, parsed.
User values only ever travel in ``params`` (typed PSRP parameters, or one base64 JSON argument
for WinRM): never in script text.

Transports (``toolkit.remote``): ``PsrpRemote`` (pypsrp, default), ``WinrmRemote`` (pywinrm),
``FakeRemote`` (a simulated server). Failures raise the ``toolkit.errors`` tree: ``CmdletError``
when a cmdlet failed (with the Win32 code), ``ConnectError``/``AuthError``/``RemoteTimeout``/
``ProtocolError`` for transport trouble.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, Self, runtime_checkable

from toolkit import jsontext
from toolkit.errors import ConfigError, ProtocolError

__all__ = [
    "AUTH_METHODS",
    "ClosingRemote",
    "ConnectionOptions",
    "Remote",
    "RemoteResult",
    "parse_script_output",
]

AuthMethod = Literal["negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate"]
AUTH_METHODS: tuple[str, ...] = ("negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate")


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """What one script run returned: the parsed JSON document and the raw text."""

    script: str
    data: Any
    raw: str = ""
    elapsed: float = 0.0


@runtime_checkable
class Remote(Protocol):
    """A connection to one Windows DNS server."""

    host: str

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ClosingRemote:
    """``with remote:`` closes the connection on the way out; every transport inherits this."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """How to reach one server. ``password`` never appears in repr, logs or errors."""

    host: str
    port: int | None = None
    ssl: bool = True
    cert_validation: bool = True
    ca_bundle: str | None = None
    auth: str = "negotiate"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    configuration_name: str = "Microsoft.PowerShell"
    connect_timeout: float = 30.0
    read_timeout: float = 60.0
    operation_timeout: float = 50.0
    allow_basic_over_http: bool = False
    certificate_pem: str | None = None
    certificate_key_pem: str | None = None
    #: Kerberos: take the ticket from this credential cache, or get one with this keytab
    #: (``username`` then names the principal); by default the process's own cache
    kerberos_ccache: str | None = None
    kerberos_keytab: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigError("a server name is required")
        if self.auth not in AUTH_METHODS:
            raise ConfigError(f"unknown auth method {self.auth!r}; choose one of {', '.join(AUTH_METHODS)}")
        if self.kerberos_ccache or self.kerberos_keytab:
            if self.kerberos_ccache and self.kerberos_keytab:
                raise ConfigError("give a Kerberos credential cache or a keytab, not both")
            if self.auth not in ("kerberos", "negotiate"):
                raise ConfigError(
                    f"a Kerberos credential cache or keytab needs auth kerberos or negotiate, not {self.auth}"
                )
            if self.password is not None:
                raise ConfigError(
                    "a Kerberos credential cache or keytab replaces the password: give one of them"
                )
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError(f"port out of range: {self.port}")
        if self.auth == "basic" and not self.ssl and not self.allow_basic_over_http:
            raise ConfigError(
                "refusing Basic authentication over plain HTTP: the password would travel in the clear "
                "(use HTTPS, another auth method, or --allow-basic-over-http)"
            )
        if self.operation_timeout >= self.read_timeout:
            raise ConfigError("operation timeout must be shorter than the read timeout")

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 5986 if self.ssl else 5985

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.ssl else "http"
        return f"{scheme}://{self.host}:{self.effective_port}/wsman"


def parse_script_output(script: str, text: str, *, host: str | None = None) -> Any:
    """Parse the single JSON document a script printed; anything else is a ProtocolError."""
    body = text.strip().lstrip("\ufeff")
    if not body:
        raise ProtocolError(f"script {script} printed no output", host=host)
    try:
        return jsontext.loads(body)
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            f"script {script} printed output that is not JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno})",
            host=host,
        ) from None
