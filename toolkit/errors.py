"""The exception tree of windns-toolkit.

Every failure the toolkit reports to a user derives from one root, so the CLI catches
exactly one class and prints one line::

    WindnsError
     +-- RemoteError               something went wrong talking to a server
     |    +-- ConnectError         host unreachable, refused, reset, DNS, TLS failure
     |    +-- AuthError            wrong credentials, auth method refused by the server
     |    +-- RemoteTimeout        connect/read/operation timeout
     |    +-- ProtocolError        the server answered something we cannot read (WSMan fault,
     |    |                        bad CLIXML, output that is not our JSON)
     |    +-- CmdletError          a DnsServer cmdlet failed; carries the Win32 code
     +-- NormaliseError            input JSON is not the shape we expect (names the path)
     +-- ConfigError               bad inventory/policy/options (names file and line)
     +-- GuardError                an admin change refused before anything was sent
     +-- HistoryError              the scan history database cannot be used

Misuse of the library (wrong argument types) raises the usual ``TypeError``/``ValueError``
and is deliberately outside this tree, as in httpx.

Messages are one line (with no lone surrogate: see ``toolkit.safetext``) and never contain a
secret: credentials are not accepted by any constructor here.
"""

from __future__ import annotations

import re

from toolkit.catalogue_data import MESSAGES

__all__ = [
    "AuthError",
    "CmdletError",
    "ConfigError",
    "ConnectError",
    "GuardError",
    "HistoryError",
    "NormaliseError",
    "ProtocolError",
    "RemoteError",
    "RemoteTimeout",
    "WindnsError",
    "describe_code",
    "parse_win32_code",
    "win32_hex",
]

#: Microsoft's symbolic name of each known Win32 DNS error code (``toolkit.catalogue`` has the rest).
_NAMES = {code: name for code, name, _message in MESSAGES}


def win32_hex(code: int) -> str:
    """The code as Windows tools print it: ``0x2390`` (at least four upper-case digits)."""
    return f"0x{code:04X}"


def describe_code(code: int) -> str:
    """``DNS_ERROR_X (9104, 0x2390)`` for a known code, ``Win32 error 1234 (0x04D2)`` otherwise."""
    name = _NAMES.get(code)
    if name is not None:
        return f"{name} ({code}, {win32_hex(code)})"
    if code < 0:
        return f"Win32 error {code}"
    return f"Win32 error {code} ({win32_hex(code)})"


class WindnsError(Exception):
    """Root of every error the toolkit reports to a user."""

    #: short machine-readable kind, used in reports and host error entries
    kind = "error"

    def __init__(self, message: str) -> None:
        # One line, always: a multi-line server message is folded so a scan log stays greppable;
        # a lone surrogate (a server's text can hold one) as its escape, so it can be stored and
        # printed. Other control characters stay: they are escaped where they are shown.
        from toolkit.safetext import without_surrogates

        super().__init__(without_surrogates(" ".join(str(message).split())))

    @property
    def message(self) -> str:
        return str(self)

    @property
    def detail(self) -> str:
        """The message without the host prefix, for places that name the host already."""
        return super().__str__()


class RemoteError(WindnsError):
    """A failure while talking to a remote server."""

    kind = "remote"

    def __init__(self, message: str, *, host: str | None = None) -> None:
        # The host may be attached later by the layer that knows it (FakeRemote, scan), so the
        # text is built on demand rather than frozen into args.
        self.host = host
        super().__init__(message)

    def __str__(self) -> str:
        detail = super().__str__()
        return f"{self.host}: {detail}" if self.host else detail

    #: transient errors are retried by fleet scans; the others are not
    transient = False


class ConnectError(RemoteError):
    kind = "connect"
    transient = True


class AuthError(RemoteError):
    kind = "auth"


class RemoteTimeout(RemoteError):
    kind = "timeout"
    transient = True


class ProtocolError(RemoteError):
    kind = "protocol"


class CmdletError(RemoteError):
    """A DnsServer cmdlet failed on the server.

    ``code`` is the Win32 error code (9104 for DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS),
    parsed from ``FullyQualifiedErrorId`` ("WIN32 9104,Invoke-DnsServerZoneSign") or from the
    CIM ``ErrorData.error_Code``; ``None`` when the server gave neither.
    """

    kind = "cmdlet"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        cmdlet: str | None = None,
        fully_qualified_error_id: str | None = None,
        host: str | None = None,
    ) -> None:
        self.code = code
        self.cmdlet = cmdlet
        self.fully_qualified_error_id = fully_qualified_error_id
        prefix = ""
        if code is not None:
            prefix = f"{describe_code(code)}: "
        where = f"{cmdlet}: " if cmdlet else ""
        super().__init__(f"{where}{prefix}{message}", host=host)


class NormaliseError(WindnsError):
    """Input that is not the shape we expect. ``path`` names the offending field."""

    kind = "normalise"

    def __init__(self, message: str, *, path: str = "$", source: str | None = None) -> None:
        self.path = path
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{path}: {message}")


class ConfigError(WindnsError):
    """A bad configuration value or file; ``line`` is 1-based when known."""

    kind = "config"

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(f"{where}{message}")


class GuardError(WindnsError):
    """An admin change refused by our pre-flight guard; nothing was sent."""

    kind = "guard"

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


class HistoryError(WindnsError):
    kind = "history"


_WIN32_RE = re.compile(r"^\s*WIN32\s+(\d+)\s*,\s*(.+?)\s*$", re.IGNORECASE)


def parse_win32_code(fully_qualified_error_id: str | None) -> tuple[int | None, str | None]:
    """Split ``"WIN32 9104,Invoke-DnsServerZoneSign"`` into ``(9104, "Invoke-DnsServerZoneSign")``.

    Anything else gives ``(None, cmdlet-or-None)``: the part after the last comma is still the
    cmdlet name in PowerShell's FullyQualifiedErrorId convention.

    >>> parse_win32_code("WIN32 9104,Invoke-DnsServerZoneSign")
    (9104, 'Invoke-DnsServerZoneSign')
    >>> parse_win32_code("MiClientApiError_AccessDenied,Get-DnsServerZone")
    (None, 'Get-DnsServerZone')
    """
    if not fully_qualified_error_id:
        return None, None
    m = _WIN32_RE.match(fully_qualified_error_id)
    if m:
        return int(m.group(1)), m.group(2)
    if "," in fully_qualified_error_id:
        cmdlet = fully_qualified_error_id.rsplit(",", 1)[1].strip()
        return None, cmdlet or None
    return None, None
