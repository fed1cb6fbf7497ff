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
from toolkit.errors import ConfigError, ProtocolError, RemoteTimeout
from toolkit.remote_names import AUTH_METHODS, DEFAULT_COMMAND_TIMEOUT

__all__ = [
    "AUTH_METHODS",
    "DEFAULT_COMMAND_TIMEOUT",
    "ClosingRemote",
    "ConnectionOptions",
    "Remote",
    "RemoteResult",
    "command_timed_out",
    "parse_script_output",
]

AuthMethod = Literal["negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate"]


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
    #: the longest one script (or one cmdlet pipeline) may run, across every Receive that only
    #: says "still running"; then it is told to stop and the call raises RemoteTimeout
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    #: the endpoint is a JEA (NoLanguage) one: read with cmdlet commands, send no script
    jea: bool = False
    allow_basic_over_http: bool = False
    #: certificate auth: the client certificate (PEM) and its unencrypted private key (PEM); the
    #: key file's path only is kept, its content never leaves the TLS library
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
        if self.auth == "certificate":
            if not self.ssl:
                raise ConfigError(
                    "certificate authentication needs HTTPS: the client certificate is presented in the "
                    "TLS handshake (drop --no-ssl; the HTTPS listener's default port is 5986)"
                )
            if not self.certificate_pem or not self.certificate_key_pem:
                raise ConfigError(
                    "certificate authentication needs the certificate and its private key: "
                    "--certificate-pem FILE --certificate-key-pem FILE"
                )
        elif self.certificate_pem or self.certificate_key_pem:
            raise ConfigError(
                f"a client certificate goes with auth certificate, not {self.auth} (--auth certificate)"
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
        if not self.command_timeout > 0:
            raise ConfigError(
                f"command timeout must be a positive number of seconds, got {self.command_timeout!r}"
            )

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 5986 if self.ssl else 5985

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"{scheme}://{host}:{self.effective_port}/wsman"


def parse_script_output(script: str, text: str, *, host: str | None = None) -> Any:
    """Parse the single JSON document a script printed; anything else is a ProtocolError.

    What JSON allows but Python cannot hold is one too: an integer of more than 4,300 digits
    (``int``'s conversion limit), nesting deeper than the interpreter's recursion limit. A lone
    surrogate in a text is read as its escape (``toolkit.jsontext``)."""
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
    except RecursionError:
        raise ProtocolError(f"script {script} printed JSON nested too deeply to read", host=host) from None
    except ValueError as exc:  # int's digit limit; bytes that are not UTF-8
        raise ProtocolError(
            f"script {script} printed JSON that cannot be read: {_why(exc)}", host=host
        ) from None


def _why(exc: ValueError) -> str:
    """A short reason for a ValueError from reading JSON."""
    text = str(exc)
    if "digits" in text and "integer" in text:
        return "a number of more than 4,300 digits"
    return " ".join(text.split())[:120]


def command_timed_out(script: str, limit: float, ran: float, *, host: str | None = None) -> RemoteTimeout:
    """The error for a script stopped at its command timeout: which script, and how long it ran."""
    return RemoteTimeout(
        f"script {script} did not finish within the command timeout of {limit:g} s (it ran {ran:.1f} s); "
        "the remote command was told to stop (a slow server may need a longer --command-timeout)",
        host=host,
    )
