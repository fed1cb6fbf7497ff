"""The fleet inventory: which servers a scan visits and how to reach each one.

Two file shapes are accepted:

- TOML (``*.toml``, or any file that parses as TOML and has ``[[servers]]``)::

      [defaults]
      transport = "psrp"
      auth = "kerberos"
      connect-timeout = 20

      [groups.branch]
      port = 5985
      https = false
      auth = "ntlm"
      username = "CORP\\\\dnsaudit"
      credential = { env = "BRANCH_DNS_PASSWORD" }

      [[servers]]
      name = "dns1.corp.example"

      [[servers]]
      name = "dns7"
      address = "10.1.7.53"
      groups = ["branch"]
      dns-address = "10.1.7.53"

- a plain host list: one name per line, ``#`` starts a comment.

A server's ``name`` and ``address``, a plain list's lines and the ``--host`` names are each a
host name (RFC 1123: dot-separated labels of letters, digits and hyphens, no hyphen at either end
of a label, at most 63 characters a label and 253 in all, the last label not all digits), an
IPv4 address or an IPv6 address (in brackets when a port follows), optionally followed by
``:PORT`` (1-65535): ``dns1.corp.example``, ``10.1.7.53:5985``, ``[fe80::53]:5986``, ``fe80::53``.
A port given this way is the server's port (``port = N`` in the same table must agree); the
address without it is the host contacted. Anything else (a path, a query, credentials, spaces,
control characters, an underscore) is refused with the file and line, the value shown escaped
and cut to a readable length.

Keys are written with hyphens, as in policy files (``connect-timeout``, ``read-timeout``,
``operation-timeout``, ``command-timeout``, ``cert-validation``, ``ca-bundle``, ``configuration-name``,
``allow-basic-over-http``, ``dns-address``); the underscore spellings (``connect_timeout``)
are accepted too, but not both for one setting in one table.

Settings apply with the precedence server > groups (in the order listed; later wins) >
``[defaults]`` > command line. Credentials are referenced, never stored: ``credential =
{ env = "VAR" }`` or ``{ keyring = "service" }`` (looked up with ``keyring.get_password(service,
username)``), resolved only when the host is contacted. A ``password`` key anywhere is refused.
Kerberos (``auth = "kerberos"``) takes the ticket cache by default (``kinit``), a password from a
``credential`` with ``username = "user@REALM"``, or ``keytab = "path"`` / ``ccache = "path"``
(one of the three per table; a more specific table's choice replaces a broader one's).
``auth = "basic"`` over plain HTTP (``https = false``) is refused when the file is loaded, as
the command line refuses it, unless ``allow-basic-over-http = true`` (or the command line's
``--allow-basic-over-http``) allows it: the password would travel in the clear.
Every error names the file and line.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.findings import Listing
from toolkit.remote.base import AUTH_METHODS, ConnectionOptions
from toolkit.safetext import for_terminal, shorten

__all__ = [
    "Credential",
    "FakeBehaviour",
    "FleetInventory",
    "HostSpec",
    "hosts_from_names",
    "load_inventory",
    "parse_host",
    "parse_host_list",
    "parse_toml_inventory",
]

TRANSPORTS = ("psrp", "winrm", "fake")
FAKE_FAILURES = ("connect", "refused", "timeout", "auth", "protocol", "cmdlet")


@dataclass(frozen=True, slots=True)
class Credential:
    """Where a password comes from: an environment variable or the system keyring."""

    env: str | None = None
    keyring: str | None = None

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"keyring:{self.keyring}"

    def resolve(self, username: str | None, *, where: str = "") -> str:
        """The password, looked up now. Raises ``ConfigError`` (without the secret) when absent."""
        prefix = f"{where}: " if where else ""
        if self.env:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"{prefix}credential environment variable {self.env} is not set")
            return value
        import keyring

        try:
            value = keyring.get_password(str(self.keyring), username or "")
        except Exception as exc:  # keyring backends raise their own classes
            raise ConfigError(
                f"{prefix}keyring lookup for {self.keyring!r} failed: {type(exc).__name__}"
            ) from None
        if not value:
            raise ConfigError(
                f"{prefix}no password in the keyring for service {self.keyring!r}, "
                f"user {username or '(none)'}"
            )
        return str(value)


@dataclass(frozen=True, slots=True)
class FakeBehaviour:
    """For ``transport = "fake"`` only: per-call latency and an injected failure (tests, demos)."""

    latency: float = 0.0
    fail: str | None = None


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One server of the fleet with its effective settings (``None`` = not set anywhere)."""

    name: str
    address: str
    groups: tuple[str, ...] = ()
    transport: str | None = None
    port: int | None = None
    ssl: bool | None = None
    cert_validation: bool | None = None
    ca_bundle: str | None = None
    auth: str | None = None
    username: str | None = None
    configuration_name: str | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    operation_timeout: float | None = None
    command_timeout: float | None = None
    allow_basic_over_http: bool | None = None
    credential: Credential | None = None
    keytab: str | None = None
    ccache: str | None = None
    dns_address: str | None = None
    zones: tuple[str, ...] = ()
    fake: FakeBehaviour | None = None
    file: str | None = None
    line: int | None = None

    @property
    def listing(self) -> Listing | None:
        """The inventory file and line of this host, for reports that point at a file."""
        return Listing(self.file, self.line) if self.file and not self.file.startswith("<") else None

    @property
    def where(self) -> str:
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.name

    def connection_options(
        self,
        base: ConnectionOptions | None = None,
        *,
        fallback_password: str | None = None,
        host_timeout: float | None = None,
    ) -> ConnectionOptions:
        """Build the ConnectionOptions for this host over ``base`` (the command line's).

        The credential is resolved here, at connect time; ``fallback_password`` (WINDNS_PASSWORD)
        is used when the host names no credential. ``host_timeout`` caps the transport timeouts
        so a hung server frees its worker close to the scan's per-host deadline.
        """
        b = base or ConnectionOptions(host=self.address)
        transport = self.transport or "psrp"
        auth = self.auth or b.auth
        username = self.username if self.username is not None else b.username
        password: str | None = None
        ticket = bool(self.keytab or self.ccache)
        # the command line's --keytab/--ccache, for a host that names no way of its own
        base_ticket = (
            not ticket
            and self.credential is None
            and bool(b.kerberos_keytab or b.kerberos_ccache)
            and auth in _TICKET_AUTHS
        )
        if transport != "fake" and auth != "certificate" and not ticket and not base_ticket:
            if self.credential is not None:
                password = self.credential.resolve(username, where=self.where)
            elif username:
                # Kerberos without a password uses the ticket cache (kinit)
                password = fallback_password if fallback_password is not None else b.password
        connect = _pick(self.connect_timeout, b.connect_timeout)
        read = _pick(self.read_timeout, b.read_timeout)
        op = _pick(self.operation_timeout, b.operation_timeout)
        command = _pick(self.command_timeout, b.command_timeout)
        if host_timeout is not None and host_timeout > 0:
            connect = min(connect, host_timeout)
            command = min(command, host_timeout)
            if read > host_timeout + 1:
                read = max(host_timeout + 1, 2.0)
                op = min(op, read - 1)
        try:
            return ConnectionOptions(
                host=self.address,
                port=self.port if self.port is not None else b.port,
                ssl=_pick(self.ssl, b.ssl),
                cert_validation=_pick(self.cert_validation, b.cert_validation),
                ca_bundle=self.ca_bundle or b.ca_bundle,
                auth=auth,
                username=username,
                password=password,
                configuration_name=self.configuration_name or b.configuration_name,
                connect_timeout=connect,
                read_timeout=read,
                operation_timeout=op,
                command_timeout=command,
                allow_basic_over_http=_pick(self.allow_basic_over_http, b.allow_basic_over_http),
                certificate_pem=b.certificate_pem if auth == "certificate" else None,
                certificate_key_pem=b.certificate_key_pem if auth == "certificate" else None,
                kerberos_keytab=self.keytab if ticket else (b.kerberos_keytab if base_ticket else None),
                kerberos_ccache=self.ccache if ticket else (b.kerberos_ccache if base_ticket else None),
            )
        except ConfigError as exc:
            raise ConfigError(f"{self.where}: {exc}") from None


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class FleetInventory:
    hosts: tuple[HostSpec, ...]
    source: str = "<inventory>"
    groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hosts)

    def select(self, names: Iterable[str] = (), groups: Iterable[str] = ()) -> FleetInventory:
        """Only the hosts named (case-insensitive) or in one of ``groups``; all when both empty."""
        wanted = {n.lower() for n in names}
        wanted_groups = set(groups)
        if not wanted and not wanted_groups:
            return self
        unknown = wanted_groups - set(self.groups)
        if unknown:
            raise ConfigError(
                f"unknown group '{shorten(sorted(unknown)[0])}'; known: {', '.join(sorted(self.groups))}"
            )
        hosts = tuple(
            h for h in self.hosts if h.name.lower() in wanted or wanted_groups.intersection(h.groups)
        )
        missing = wanted - {h.name.lower() for h in hosts}
        if missing:
            raise ConfigError(f"no server named '{shorten(sorted(missing)[0])}' in {self.source}")
        return replace(self, hosts=hosts)


# -- host names and addresses -----------------------------------------------------------------------
#: one label of a host name (RFC 1123): letters, digits and hyphens, no hyphen at either end
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_LABEL_TEXT = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: a host name (but for its length), its last label not all digits: the common case, at once
_HOST_NAME = re.compile(rf"(?:{_LABEL_TEXT}\.)*(?![0-9]+\Z){_LABEL_TEXT}\Z")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
#: the longest host name DNS allows: 255 octets on the wire, 253 characters written out
_MAX_NAME = 253


def parse_host(text: str, *, what: str = "host name") -> tuple[str, int | None]:
    """``HOST``, ``HOST:PORT``, ``IPV4[:PORT]``, ``[IPV6][:PORT]`` or a bare IPv6 address, as
    ``(host, port)`` (port None when not given; an IPv6 address without its brackets).

    Raises ``ValueError`` with a one-line message naming ``what`` and showing ``text`` escaped
    and shortened (see the module's documentation for what is accepted)."""

    def bad(reason: str) -> ValueError:
        return ValueError(f"not a {what}: '{shorten(text)}' ({reason})")

    host, port_text = text, None
    if any(c in text for c in "/?#@\\"):
        raise bad("a host and an optional port only: no scheme, user, path or query")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise bad("an IPv6 address in brackets lacks its ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise bad("only :PORT may follow the brackets")
            port_text = rest[1:]
        if "%" in host:
            raise bad("an IPv6 zone index is not supported")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("the brackets hold no IPv6 address") from None
    elif text.count(":") > 1:
        if "%" in text:
            raise bad("an IPv6 zone index is not supported")
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise bad("neither a host name nor an IPv6 address; write [IPV6]:PORT for a port") from None
    else:
        if ":" in text:
            host, port_text = text.split(":")
        if not (_HOST_NAME.match(host) and len(host) <= _MAX_NAME) and not _IPV4.match(host):
            raise bad(_host_name_problem(host) or "not a host name")
    port: int | None = None
    if port_text is not None:
        if not _PORT.match(port_text):
            raise bad("a port is a number, 1-65535")
        port = int(port_text)
        if not 0 < port < 65536:
            raise bad("port must be 1-65535")
    return host, port


def _host_name_problem(host: str) -> str | None:
    """Why ``host`` is not a host name by RFC 1123, or None when it is one."""
    if not host:
        return "empty"
    if len(host) > _MAX_NAME:
        return f"longer than the {_MAX_NAME} characters DNS allows"
    labels = host.split(".")
    for label in labels:
        if not label:
            return "an empty label: two dots together, or a dot at either end"
        if len(label) > 63:
            return "a label longer than 63 characters"
        if not _LABEL.match(label):
            return "letters, digits and hyphens between dots, no hyphen at either end of a label (RFC 1123)"
    if labels[-1].isdigit():
        return "not a valid IPv4 address, and a host name's last label is not all digits"
    return None


def _printable(value: str) -> bool:
    return for_terminal(value) == value


# -- locating keys in the TOML text ----------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


class _Text:
    """Finds the line of a table header or key in TOML text (tomllib gives no positions).

    The headers are found once, when the text is read: locating the n-th ``[[servers]]`` table
    is then a lookup, not a scan from the top of the file, so loading stays linear in its size.
    """

    def __init__(self, text: str, file: str) -> None:
        self.lines = text.splitlines()
        self.file = file
        #: 1-based line of every table header, in file order
        self._header_lines: list[int] = []
        #: table name -> indexes into ``_header_lines`` of its headers, in file order
        self._headers: dict[str, list[int]] = {}
        for no, line in enumerate(self.lines, start=1):
            m = _HEADER.match(line) if line.lstrip()[:1] == "[" else None
            if m:
                self._headers.setdefault(self._norm(m.group(2)), []).append(len(self._header_lines))
                self._header_lines.append(no)

    def _norm(self, header: str) -> str:
        return ".".join(p.strip().strip("\"'") for p in header.split("."))

    def block(self, table: str, occurrence: int = 0) -> tuple[int, int] | None:
        """1-based (header line, last line) of ``[table]`` or the n-th ``[[table]]``."""
        found = self._headers.get(table, ())
        if not 0 <= occurrence < len(found):
            return None
        index = found[occurrence]
        start = self._header_lines[index]
        end = self._header_lines[index + 1] - 1 if index + 1 < len(self._header_lines) else len(self.lines)
        return start, end

    def line_of(self, key: str, table: str | None, occurrence: int = 0) -> int | None:
        if table is None:
            lo = 1
            hi = self._header_lines[0] - 1 if self._header_lines else len(self.lines)
        else:
            found = self.block(table, occurrence)
            if found is None:
                return None
            lo, hi = found
        if not key:
            return lo if table is not None else None
        pat = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=|[{{,]\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for no in range(lo, hi + 1):
            if pat.search(self.lines[no - 1]):
                return no
        return lo if table is not None else None

    def error(
        self, message: str, key: str = "", table: str | None = None, occurrence: int = 0
    ) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line_of(key, table, occurrence))


# -- settings shared by defaults, groups and servers -------------------------------------------------
_SETTING_KEYS = {
    "transport",
    "port",
    "https",
    "ssl",
    "cert_validation",
    "ca_bundle",
    "auth",
    "username",
    "configuration_name",
    "connect_timeout",
    "read_timeout",
    "operation_timeout",
    "command_timeout",
    "timeouts",
    "allow_basic_over_http",
    "credential",
    "keytab",
    "ccache",
    "zones",
    "fake",
}
_SERVER_KEYS = _SETTING_KEYS | {"name", "address", "group", "groups", "dns_address"}
_SECRET_KEYS = {"password", "passwd", "secret", "pass"}


def _settings(
    table: Mapping[str, Any], allowed: set[str], t: _Text, where: str | None, occ: int = 0
) -> dict[str, Any]:
    """Validate one table of settings and return the HostSpec fields it sets."""

    def err(msg: str, key: str) -> ConfigError:
        return t.error(msg, key, where, occ)

    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}  # setting -> the spelling used in this table
    for key, value in table.items():
        if key.lower() in _SECRET_KEYS:
            raise err(
                f"{key!r}: never put a password in the inventory; use credential = "
                f'{{ env = "VAR" }} or {{ keyring = "service" }}',
                key,
            )
        name = key.replace("-", "_")
        if name not in allowed:
            known = ", ".join(sorted(_documented(k) for k in allowed))
            raise err(f"unknown key {key!r}; expected one of {known}", key)
        if name in spelled:
            raise err(f"{spelled[name]!r} and {key!r} are the same setting: give it once", key)
        spelled[name] = key
        if name == "transport":
            if value not in TRANSPORTS:
                raise err(f"transport must be one of {', '.join(TRANSPORTS)}, got {value!r}", key)
            out["transport"] = value
        elif name == "port":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
                raise err(f"port must be an integer 1..65535, got {value!r}", key)
            out["port"] = value
        elif name in ("https", "ssl", "cert_validation", "allow_basic_over_http"):
            if not isinstance(value, bool):
                raise err(f"{key} must be true or false, got {value!r}", key)
            out["ssl" if name == "https" else name] = value
        elif name == "auth":
            if value not in AUTH_METHODS:
                raise err(f"auth must be one of {', '.join(AUTH_METHODS)}, got {value!r}", key)
            out["auth"] = value
        elif name in ("username", "configuration_name", "ca_bundle", "name", "address", "dns_address"):
            if not isinstance(value, str) or not value.strip():
                raise err(f"{key} must be a non-empty string", key)
            text = value.strip()
            if name == "dns_address":  # a server's name and address: checked with the server
                try:
                    parse_host(text, what="host address")
                except ValueError as exc:
                    raise err(f"{key}: {exc}", key) from None
            elif name not in ("name", "address") and not _printable(text):
                raise err(f"{key}: '{shorten(text)}' holds a control character", key)
            out[name] = text
        elif name in ("connect_timeout", "read_timeout", "operation_timeout", "command_timeout"):
            out[name] = _seconds(value, key, err)
        elif name == "timeouts":
            if not isinstance(value, Mapping):
                raise err(
                    "timeouts must be a table: { connect = 10, read = 60, operation = 50, command = 300 }",
                    key,
                )
            for sub, v in value.items():
                if sub not in ("connect", "read", "operation", "command"):
                    raise err(f"timeouts.{sub}: unknown; expected connect, read, operation, command", key)
                out[f"{sub}_timeout"] = _seconds(v, f"{key}.{sub}", err)
        elif name == "credential":
            out["credential"] = _credential(value, err)
        elif name in ("keytab", "ccache"):
            if not isinstance(value, str) or not value.strip():
                raise err(f"{key} must be a non-empty string (a path)", key)
            out[name] = value.strip()
        elif name in ("group", "groups", "zones"):
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise err(f"{key} must be a string or a list of strings", key)
            odd = next((i for i in items if not _printable(i)), None)
            if odd is not None:
                raise err(f"{key}: '{shorten(odd)}' holds a control character", key)
            out["groups" if name == "group" else name] = tuple(items)
        elif name == "fake":
            out["fake"] = _fake(value, err)
    ways = [w for w in ("keytab", "ccache", "credential") if w in out]
    if len(ways) > 1:
        raise err(
            f"{spelled[ways[0]]!r} and {spelled[ways[1]]!r} are two ways to authenticate: give one",
            spelled[ways[1]],
        )
    if ways and ways[0] != "credential" and out.get("auth") not in (None, *_TICKET_AUTHS):
        raise err(
            f'{spelled[ways[0]]!r} needs auth = "kerberos" (or negotiate), not {out["auth"]!r}',
            spelled["auth"],
        )
    return out


_TICKET_AUTHS = ("kerberos", "negotiate")


def _merge(merged: dict[str, Any], table: Mapping[str, Any]) -> None:
    """Lay a more specific table's settings over ``merged``: a keytab, a ccache and a credential
    are three ways to authenticate, so the table that names one replaces the others."""
    ways = {"keytab", "ccache", "credential"}
    if ways & table.keys():
        for way in ways - table.keys():
            merged.pop(way, None)
    merged.update(table)


def _documented(key: str) -> str:
    """A key as the documentation spells it (hyphens, like policy files)."""
    return key.replace("_", "-")


#: the command line's defaults, for checks made without the command line's settings
_NO_BASE = ConnectionOptions(host="-")


def _basic_in_clear(settings: Mapping[str, Any], base: ConnectionOptions | None) -> bool:
    """Whether these effective settings would send Basic credentials over plain HTTP."""
    if settings.get("transport") == "fake":
        return False
    b = base or _NO_BASE
    auth = settings.get("auth") or b.auth
    ssl = _pick(settings.get("ssl"), b.ssl)
    allow = _pick(settings.get("allow_basic_over_http"), b.allow_basic_over_http)
    return auth == "basic" and not ssl and not allow


def _seconds(value: Any, key: str, err: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise err(f"{key} must be a positive number of seconds, got {value!r}", key.split(".")[0])
    return float(value)


def _credential(value: Any, err: Any) -> Credential:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise err('credential must be { env = "VAR" } or { keyring = "service" }', "credential")
    ((kind, ref),) = value.items()
    if kind.lower() in _SECRET_KEYS:
        raise err(
            "credential: never put a password in the inventory; reference it with env or keyring",
            "credential",
        )
    if kind not in ("env", "keyring") or not isinstance(ref, str) or not ref:
        raise err('credential must be { env = "VAR" } or { keyring = "service" }', "credential")
    return Credential(env=ref) if kind == "env" else Credential(keyring=ref)


def _fake(value: Any, err: Any) -> FakeBehaviour:
    if not isinstance(value, Mapping) or set(value) - {"latency", "fail"}:
        raise err('fake must be a table: { latency = 0.05, fail = "timeout" }', "fake")
    latency = value.get("latency", 0.0)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency < math.inf:
        raise err("fake.latency must be a finite number of seconds >= 0", "fake")
    fail = value.get("fail")
    if fail is not None and fail not in FAKE_FAILURES:
        raise err(f"fake.fail must be one of {', '.join(FAKE_FAILURES)}", "fake")
    return FakeBehaviour(latency=float(latency), fail=fail)


# -- loading ---------------------------------------------------------------------------------------
def load_inventory(path: Path, *, base: ConnectionOptions | None = None) -> FleetInventory:
    """Read an inventory file: TOML, or a plain list of host names.

    ``base``: the command line's connection settings, under the file's; only used to check
    the effective settings (Basic auth over plain HTTP is refused here, with file and line).
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("inventory file not found", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read inventory: {exc.strerror}", file=file) from None
    except UnicodeDecodeError:
        raise ConfigError("inventory is not UTF-8 text", file=file) from None
    if path.suffix.lower() == ".toml" or _looks_like_toml(text):
        return parse_toml_inventory(text, file, base=base)
    return parse_host_list(text, file)


def _looks_like_toml(text: str) -> bool:
    for line in text.splitlines():
        s = line.split("#", 1)[0].strip()
        if s:
            return s.startswith("[") or "=" in s
    return False


def parse_host_list(text: str, file: str = "<hosts>") -> FleetInventory:
    hosts: list[HostSpec] = []
    seen: dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        try:
            address, port = parse_host(name)
        except ValueError as exc:
            hint = " (one host per line)" if len(name.split()) > 1 else ""
            raise ConfigError(f"{exc}{hint}", file=file, line=no) from None
        if name.lower() in seen:
            raise ConfigError(
                f"host {name} is listed twice (first on line {seen[name.lower()]})", file=file, line=no
            )
        seen[name.lower()] = no
        hosts.append(HostSpec(name=name, address=address, port=port, file=file, line=no))
    if not hosts:
        raise ConfigError("the host list is empty", file=file)
    return FleetInventory(hosts=tuple(hosts), source=file)


def parse_toml_inventory(
    text: str, file: str = "<inventory>", *, base: ConnectionOptions | None = None
) -> FleetInventory:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"invalid TOML: {msg}", file=file, line=int(m.group(1)) if m else None) from None
    t = _Text(text, file)
    for key in doc:
        if key.lower() in _SECRET_KEYS:
            raise t.error(f"{key!r}: never put a password in the inventory", key)
        if key not in ("defaults", "groups", "servers"):
            raise t.error(
                f"unknown top-level key {key!r}; expected [defaults], [groups.NAME], [[servers]]", key
            )
    defaults_tbl = doc.get("defaults", {})
    if not isinstance(defaults_tbl, Mapping):
        raise t.error("defaults must be a table", "defaults")
    defaults = _settings(defaults_tbl, _SETTING_KEYS, t, "defaults")
    groups_tbl = doc.get("groups", {})
    if not isinstance(groups_tbl, Mapping):
        raise t.error("groups must be tables: [groups.NAME]", "groups")
    groups: dict[str, dict[str, Any]] = {}
    for gname, gtable in groups_tbl.items():
        if not isinstance(gtable, Mapping):
            raise t.error(f"group {gname!r} must be a table: [groups.{gname}]", gname, "groups")
        groups[gname] = _settings(gtable, _SETTING_KEYS, t, f"groups.{gname}")
    servers = doc.get("servers")
    if servers is None:
        raise ConfigError("no servers: add [[servers]] tables with a name", file=file)
    if not isinstance(servers, list):
        raise t.error("servers must be an array of tables: [[servers]]", "servers")
    hosts: list[HostSpec] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(servers):
        line = t.line_of("", "servers", i)
        if not isinstance(entry, Mapping):
            raise ConfigError("each servers entry must be a table", file=file, line=line)
        own = _settings(entry, _SERVER_KEYS, t, "servers", i)
        if "name" not in own:
            raise ConfigError("server entry without a name", file=file, line=line)
        name = own["name"]
        if name.lower() in seen:
            raise ConfigError(
                f"server {name} is defined twice (first at entry {seen[name.lower()] + 1})",
                file=file,
                line=t.line_of("name", "servers", i),
            )
        seen[name.lower()] = i
        merged: dict[str, Any] = dict(defaults)
        for g in own.get("groups", ()):
            if g not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                raise t.error(
                    f"unknown group {g!r} (groups: {known})",
                    "groups" if "groups" in entry else "group",
                    "servers",
                    i,
                )
            _merge(merged, groups[g])
        address_key = "address" if "address" in own else "name"
        address_text: str = own.get("address", name)
        checks = [("name", name, "host name")]
        if address_key == "address":
            checks.append(("address", address_text, "host address"))
        for key, text, what in checks:
            try:
                address, port = parse_host(text, what=what)  # the address, when given, wins
            except ValueError as exc:
                raise t.error(f"{key}: {exc}", key, "servers", i) from None
        own["address"] = address
        if port is not None:
            if own.get("port", port) != port:
                raise t.error(
                    f"{address_key} {shorten(address_text)} gives port {port} "
                    f"and port = {own['port']}: give the port once",
                    address_key,
                    "servers",
                    i,
                )
            own["port"] = port
        _merge(merged, own)
        if merged.get("fake") is not None and merged.get("transport") not in ("fake", None):
            raise ConfigError(
                'fake = {...} only applies to transport = "fake"',
                file=file,
                line=t.line_of("fake", "servers", i),
            )
        if merged.get("keytab") or merged.get("ccache"):
            auth = merged.get("auth") or (base.auth if base is not None else "negotiate")
            if auth not in _TICKET_AUTHS and merged.get("transport") != "fake":
                keys = {k.replace("-", "_"): k for k in entry}
                raise ConfigError(
                    f'server {name}: a keytab or ccache needs auth = "kerberos" (or negotiate), not {auth!r}',
                    file=file,
                    line=t.line_of(keys["auth"], "servers", i) if "auth" in keys else line,
                )
        if _basic_in_clear(merged, base):
            keys = {k.replace("-", "_"): k for k in entry}
            own_key = keys.get("auth") or keys.get("https") or keys.get("ssl") or ""
            raise ConfigError(
                f'server {name}: auth = "basic" over plain HTTP (https = false) would send the '
                "password in the clear; use HTTPS, another auth method, or allow-basic-over-http = true",
                file=file,
                line=t.line_of(own_key, "servers", i) if own_key else line,
            )
        hosts.append(HostSpec(file=file, line=line, **merged))
    if not hosts:
        raise ConfigError("no servers: add [[servers]] tables with a name", file=file)
    return FleetInventory(hosts=tuple(hosts), source=file, groups=groups)


def hosts_from_names(
    names: Sequence[str], *, transport: str | None = None, option: str = "--host"
) -> FleetInventory:
    """An inventory of the hosts given on the command line (``option`` names where, in errors)."""
    hosts = []
    for n in names:
        try:
            address, port = parse_host(n, what="host address")
        except ValueError as exc:
            raise ConfigError(f"{option}: {exc}") from None
        hosts.append(HostSpec(name=n, address=address, port=port, transport=transport))
    return FleetInventory(hosts=tuple(hosts), source="<command line>")
