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

Keys are written with hyphens, as in policy files (``connect-timeout``, ``read-timeout``,
``operation-timeout``, ``cert-validation``, ``ca-bundle``, ``configuration-name``,
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

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.remote.base import AUTH_METHODS, ConnectionOptions

__all__ = [
    "Credential",
    "FakeBehaviour",
    "FleetInventory",
    "HostSpec",
    "demo_inventory",
    "hosts_from_names",
    "load_inventory",
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
        if transport != "fake" and auth != "certificate" and not ticket:
            if self.credential is not None:
                password = self.credential.resolve(username, where=self.where)
            elif username:
                # Kerberos without a password uses the ticket cache (kinit)
                password = fallback_password if fallback_password is not None else b.password
        connect = _pick(self.connect_timeout, b.connect_timeout)
        read = _pick(self.read_timeout, b.read_timeout)
        op = _pick(self.operation_timeout, b.operation_timeout)
        if host_timeout is not None and host_timeout > 0:
            connect = min(connect, host_timeout)
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
                allow_basic_over_http=_pick(self.allow_basic_over_http, b.allow_basic_over_http),
                kerberos_keytab=self.keytab if ticket else b.kerberos_keytab,
                kerberos_ccache=self.ccache if ticket else b.kerberos_ccache,
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
                f"unknown group {sorted(unknown)[0]!r}; known: {', '.join(sorted(self.groups))}"
            )
        hosts = tuple(
            h for h in self.hosts if h.name.lower() in wanted or wanted_groups.intersection(h.groups)
        )
        missing = wanted - {h.name.lower() for h in hosts}
        if missing:
            raise ConfigError(f"no server named {sorted(missing)[0]!r} in {self.source}")
        return replace(self, hosts=hosts)


# -- locating keys in the TOML text ----------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


class _Text:
    """Finds the line of a table header or key in TOML text (tomllib gives no positions)."""

    def __init__(self, text: str, file: str) -> None:
        self.lines = text.splitlines()
        self.file = file

    def _norm(self, header: str) -> str:
        return ".".join(p.strip().strip("\"'") for p in header.split("."))

    def block(self, table: str, occurrence: int = 0) -> tuple[int, int] | None:
        """1-based (header line, last line) of ``[table]`` or the n-th ``[[table]]``."""
        seen = 0
        start: int | None = None
        for no, line in enumerate(self.lines, start=1):
            m = _HEADER.match(line)
            if not m:
                continue
            if start is not None:
                return start, no - 1
            if self._norm(m.group(2)) == table:
                if seen == occurrence:
                    start = no
                seen += 1
        return (start, len(self.lines)) if start is not None else None

    def line_of(self, key: str, table: str | None, occurrence: int = 0) -> int | None:
        if table is None:
            lo, hi = 1, len(self.lines)
            for no, line in enumerate(self.lines, start=1):
                if _HEADER.match(line):
                    hi = no - 1
                    break
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
            out[name] = value.strip()
        elif name in ("connect_timeout", "read_timeout", "operation_timeout"):
            out[name] = _seconds(value, key, err)
        elif name == "timeouts":
            if not isinstance(value, Mapping):
                raise err("timeouts must be a table: { connect = 10, read = 60, operation = 50 }", key)
            for sub, v in value.items():
                if sub not in ("connect", "read", "operation"):
                    raise err(f"timeouts.{sub}: unknown; expected connect, read, operation", key)
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


def _basic_in_clear(settings: Mapping[str, Any], base: ConnectionOptions | None) -> bool:
    """Whether these effective settings would send Basic credentials over plain HTTP."""
    if settings.get("transport") == "fake":
        return False
    b = base or ConnectionOptions(host="-")
    auth = settings.get("auth") or b.auth
    ssl = _pick(settings.get("ssl"), b.ssl)
    allow = _pick(settings.get("allow_basic_over_http"), b.allow_basic_over_http)
    return auth == "basic" and not ssl and not allow


def _seconds(value: Any, key: str, err: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
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
    if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
        raise err("fake.latency must be a number of seconds >= 0", "fake")
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
        if len(name.split()) != 1 or not re.fullmatch(r"[A-Za-z0-9_.:\-\[\]]+", name):
            raise ConfigError(f"not a host name: {name!r} (one host per line)", file=file, line=no)
        if name.lower() in seen:
            raise ConfigError(
                f"host {name} is listed twice (first on line {seen[name.lower()]})", file=file, line=no
            )
        seen[name.lower()] = no
        hosts.append(HostSpec(name=name, address=name, file=file, line=no))
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
        _merge(merged, own)
        merged.setdefault("address", name)
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


def hosts_from_names(names: Sequence[str], *, transport: str | None = None) -> FleetInventory:
    """An inventory of the hosts given on the command line."""
    hosts = tuple(HostSpec(name=n, address=n, transport=transport) for n in names)
    return FleetInventory(hosts=hosts, source="<command line>")


def demo_inventory(fixtures: Path | None = None, *, include_unreadable: bool = False) -> FleetInventory:
    """The simulated servers of the demo fleet (or ``fixtures``), over the fake transport.

    Servers whose whole inventory fails (the demo's access-denied DNS3) are left out unless
    ``include_unreadable``: the demo scan shows a fleet with findings (exit 1), and
    ``--demo-all`` shows what a host error looks like (exit 2).
    """
    from toolkit.remote import load_fleet

    fleet = load_fleet(fixtures)
    hosts = tuple(
        HostSpec(name=s.name, address=s.name, transport="fake")
        for s in fleet
        if include_unreadable or "Inventory" not in s.faults
    )
    return FleetInventory(hosts=hosts, source="<demo fleet>")
