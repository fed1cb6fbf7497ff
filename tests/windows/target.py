"""The real Windows DNS server the ``windows`` tests run against, read from ``WINDNS_TEST_*``.

Nothing here needs Windows on this side: the tests talk to the server over WinRM with the
toolkit's own transports (pypsrp and pywinrm). ``from_env`` reads the variables documented in
tests/windows/README.md; without ``WINDNS_TEST_HOST`` there is no target and every ``windows``
test is skipped with ``SKIP_NO_HOST`` as its reason.

Besides the toolkit's scripts, the tests run a few fixed PowerShell snippets of their own over
PSRP (``run_fixed``): listing what the server holds, independently of ``inventory.ps1``, and
creating and removing the throw-away zone. Values reach them only as parameters, as with
``ps_scripts/``.

``LockedRemote`` wraps a Remote so that no change can reach any zone but the throw-away one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pytest

from toolkit.model import Zone
from toolkit.remote import AUTH_METHODS, ConnectionOptions, Remote, RemoteResult, connect

__all__ = [
    "DEMO_KINDS",
    "READ_SCRIPTS",
    "SKIP_NO_DEMO_ZONES",
    "SKIP_NO_HOST",
    "SKIP_NO_WRITES",
    "TARGET",
    "TRANSPORTS",
    "LockedRemote",
    "RefusedWrite",
    "Target",
    "TargetError",
    "from_env",
    "held_keys",
    "held_zones",
    "lock_cli",
    "read_zone",
    "requires_server",
    "requires_writes",
    "run_fixed",
]

SKIP_NO_HOST = (
    "set WINDNS_TEST_HOST to run against a real Windows DNS server (variables: tests/windows/README.md)"
)
SKIP_NO_WRITES = "set WINDNS_TEST_WRITES=1 and WINDNS_TEST_ZONE=<throw-away zone> to run the write cycle"
SKIP_NO_DEMO_ZONES = (
    "set WINDNS_TEST_DEMO_ZONES (kind=zone,...) to check zones set up in the demo fleet's states"
)

TRANSPORTS = ("psrp", "winrm")
#: the zone states the CI workflow sets up, after the demo fleet (``windns demo``)
DEMO_KINDS = ("rsa", "ecdsa", "nsec3", "ksk-only")
#: the toolkit scripts that change nothing; every other script is a change
READ_SCRIPTS = frozenset({"inventory", "zone_dnskeys", "zone_export_keys"})
#: auth methods these tests can drive (certificate needs key material the CLI does not take)
TEST_AUTH_METHODS = tuple(a for a in AUTH_METHODS if a != "certificate")

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class TargetError(ValueError):
    """A ``WINDNS_TEST_*`` variable holds something the tests cannot use."""


@dataclass(frozen=True)
class Target:
    """How to reach the server under test, and what the tests may do there."""

    host: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "negotiate"
    ssl: bool = True
    port: int | None = None
    cert_validation: bool = True
    ca_bundle: str | None = None
    allow_basic_over_http: bool = False
    configuration_name: str = "Microsoft.PowerShell"
    transports: tuple[str, ...] = TRANSPORTS
    zone: str | None = None
    writes: bool = False
    signed_zone: str | None = None
    demo_zones: Mapping[str, str] = field(default_factory=dict)

    def options(self) -> ConnectionOptions:
        return ConnectionOptions(
            host=self.host,
            port=self.port,
            ssl=self.ssl,
            cert_validation=self.cert_validation,
            ca_bundle=self.ca_bundle,
            auth=self.auth,
            username=self.username,
            password=self.password,
            configuration_name=self.configuration_name,
            allow_basic_over_http=self.allow_basic_over_http,
        )

    def cli_args(self, transport: str) -> list[str]:
        """The global ``windns`` options for this server (never the password: see ``cli_env``)."""
        args = ["--server", self.host, "--transport", transport, "--auth", self.auth]
        args.append("--ssl" if self.ssl else "--no-ssl")
        args.append("--cert-validation" if self.cert_validation else "--no-cert-validation")
        if self.port is not None:
            args += ["--port", str(self.port)]
        if self.ca_bundle:
            args += ["--ca-bundle", self.ca_bundle]
        if self.username:
            args += ["--username", self.username]
        if self.allow_basic_over_http:
            args.append("--allow-basic-over-http")
        if self.configuration_name != "Microsoft.PowerShell":
            args += ["--configuration-name", self.configuration_name]
        return args

    def cli_env(self) -> dict[str, str]:
        """The environment the CLI reads the password from (WINDNS_PASSWORD), never argv."""
        return {"WINDNS_PASSWORD": self.password} if self.password else {}

    @property
    def may_write(self) -> bool:
        return self.writes and self.zone is not None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise TargetError(f"{name}={raw!r}: use 1 or 0")


def zone_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the throw-away zone, or None: a forward zone of two labels or more."""
    labels = name.rstrip(".").split(".")
    if len(labels) < 2:
        return "a throw-away zone needs at least two labels (e.g. cycle.windns.test)"
    if len(name.rstrip(".")) > 253 or not all(_LABEL.match(label) for label in labels):
        return "not a valid DNS name"
    lowered = name.rstrip(".").lower()
    if lowered.endswith((".in-addr.arpa", ".ip6.arpa")) or lowered == "trustanchors":
        return "reverse lookup and TrustAnchors zones are never throw-away zones"
    return None


def _demo_zones(raw: str) -> dict[str, str]:
    zones: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        kind, sep, zone = part.partition("=")
        kind, zone = kind.strip().lower(), zone.strip()
        if not sep or kind not in DEMO_KINDS or not zone:
            raise TargetError(
                f"WINDNS_TEST_DEMO_ZONES: {part!r} is not kind=zone with kind one of {', '.join(DEMO_KINDS)}"
            )
        zones[kind] = zone
    return zones


def from_env(environ: Mapping[str, str]) -> Target | None:
    """The target the variables name, None without ``WINDNS_TEST_HOST``; a bad value raises
    ``TargetError`` (a collection error: loud, never a silent skip)."""
    host = environ.get("WINDNS_TEST_HOST", "").strip()
    if not host:
        return None
    auth = environ.get("WINDNS_TEST_AUTH", "negotiate").strip().lower() or "negotiate"
    if auth not in TEST_AUTH_METHODS:
        raise TargetError(f"WINDNS_TEST_AUTH={auth!r}: choose one of {', '.join(TEST_AUTH_METHODS)}")
    raw_transports = environ.get("WINDNS_TEST_TRANSPORT", "").strip().lower()
    transports = tuple(t.strip() for t in raw_transports.split(",") if t.strip()) or TRANSPORTS
    if raw_transports == "both":
        transports = TRANSPORTS
    bad = [t for t in transports if t not in TRANSPORTS]
    if bad:
        raise TargetError(f"WINDNS_TEST_TRANSPORT: {', '.join(bad)}: use psrp, winrm or psrp,winrm")
    port: int | None = None
    if environ.get("WINDNS_TEST_PORT", "").strip():
        try:
            port = int(environ["WINDNS_TEST_PORT"])
        except ValueError:
            raise TargetError(f"WINDNS_TEST_PORT={environ['WINDNS_TEST_PORT']!r} is not a number") from None
    zone = environ.get("WINDNS_TEST_ZONE", "").strip() or None
    if zone is not None and (problem := zone_name_problem(zone)):
        raise TargetError(f"WINDNS_TEST_ZONE={zone!r}: {problem}")
    writes = _flag(environ, "WINDNS_TEST_WRITES", False)
    if writes and zone is None:
        raise TargetError("WINDNS_TEST_WRITES=1 needs WINDNS_TEST_ZONE, the throw-away zone to write to")
    target = Target(
        host=host,
        username=environ.get("WINDNS_TEST_USERNAME") or None,
        password=environ.get("WINDNS_TEST_PASSWORD") or None,
        auth=auth,
        ssl=_flag(environ, "WINDNS_TEST_SSL", True),
        port=port,
        cert_validation=_flag(environ, "WINDNS_TEST_CERT_VALIDATION", True),
        ca_bundle=environ.get("WINDNS_TEST_CA_BUNDLE") or None,
        allow_basic_over_http=_flag(environ, "WINDNS_TEST_ALLOW_BASIC_OVER_HTTP", False),
        configuration_name=environ.get("WINDNS_TEST_CONFIGURATION_NAME") or "Microsoft.PowerShell",
        transports=transports,
        zone=zone,
        writes=writes,
        signed_zone=environ.get("WINDNS_TEST_SIGNED_ZONE") or None,
        demo_zones=_demo_zones(environ.get("WINDNS_TEST_DEMO_ZONES", "")),
    )
    try:
        target.options()  # the toolkit's own checks (port range, Basic over HTTP...)
    except Exception as exc:
        raise TargetError(f"WINDNS_TEST_* variables: {exc}") from None
    return target


#: the server under test, read once at import (a bad value fails the collection, loudly)
TARGET: Target | None = from_env(os.environ)
requires_server = pytest.mark.skipif(TARGET is None, reason=SKIP_NO_HOST)
requires_writes = pytest.mark.skipif(TARGET is None or not TARGET.may_write, reason=SKIP_NO_WRITES)


def read_zone(options: ConnectionOptions, transport: str, name: str) -> Zone | None:
    """The zone as the inventory reads it over ``transport``, None when the server does not hold
    it (the inventory answers 9601 for it)."""
    from toolkit.services.audit import collect

    with connect(options, transport) as remote:
        zone = collect(remote, [name]).zone(name)
    if zone is None or any(e.code == 9601 for e in zone.errors):
        return None
    return zone


# -- the tests' own PowerShell, run over PSRP ---------------------------------------------------------
def run_fixed(opts: ConnectionOptions, script: str, params: Mapping[str, str] | None = None) -> list[str]:
    """Run one of the fixed snippets below on the server over PSRP and return its output lines.

    Values travel only as PSRP parameters (``add_parameters``), never in the script text."""
    from pypsrp.powershell import PowerShell, RunspacePool

    from toolkit.remote.psrp import default_wsman

    with (
        default_wsman(opts) as wsman,
        RunspacePool(wsman, configuration_name=opts.configuration_name) as pool,
    ):
        ps = PowerShell(pool)
        ps.add_script(script)
        if params:
            ps.add_parameters(dict(params))
        output = ps.invoke()
        if ps.had_errors:
            errors = "; ".join(str(e) for e in ps.streams.error) or "no error record"
            raise RuntimeError(f"{opts.host}: the test's own PowerShell failed: {errors}")
    return [str(line) for line in output]


#: every zone the server holds, one name a line (Get-DnsServerZone without -Name lists them all)
LIST_ZONES = """
$ErrorActionPreference = 'Stop'
@(Get-DnsServerZone) | ForEach-Object { [string]$_.ZoneName }
"""

#: "zone<TAB>keyid" for every key of every zone the inventory reads keys of (primary, not
#: auto-created, not TrustAnchors); "zone<TAB>!" when a zone's keys cannot be read
LIST_KEYS = """
$ErrorActionPreference = 'Stop'
foreach ($zone in @(Get-DnsServerZone)) {
    if (($zone.ZoneType -ne 'Primary') -or $zone.IsAutoCreated -or ($zone.ZoneName -eq 'TrustAnchors')) {
        continue
    }
    try { $keys = @(Get-DnsServerSigningKey -ZoneName $zone.ZoneName) }
    catch { "{0}`t!" -f $zone.ZoneName; continue }
    foreach ($key in $keys) {
        "{0}`t{1}" -f $zone.ZoneName, ([string]$key.KeyId).Trim('{}').ToLowerInvariant()
    }
}
"""

#: Add-DnsServerPrimaryZone, parameter set FileForwardLookupZone: -Name with -ZoneFile makes a
#: file-backed primary zone (docset/winserver2022-ps/DnsServer/Add-DnsServerPrimaryZone.md, example 2)
CREATE_ZONE = """
param([string]$ZoneName, [string]$ZoneFile)
$ErrorActionPreference = 'Stop'
Add-DnsServerPrimaryZone -Name $ZoneName -ZoneFile $ZoneFile
"""

#: Remove-DnsServerZone -Force: "Removes a zone without prompting you for confirmation"
#: (docset/winserver2022-ps/DnsServer/Remove-DnsServerZone.md)
REMOVE_ZONE = """
param([string]$ZoneName)
$ErrorActionPreference = 'Stop'
Remove-DnsServerZone -Name $ZoneName -Force
"""


def held_zones(opts: ConnectionOptions) -> set[str]:
    """The names of the zones the server holds, lower case, as Get-DnsServerZone lists them."""
    return {name.lower().rstrip(".") for name in run_fixed(opts, LIST_ZONES) if name.strip()}


def held_keys(opts: ConnectionOptions) -> dict[str, set[str] | None]:
    """Each zone's key ids as Get-DnsServerSigningKey lists them; None where it failed."""
    keys: dict[str, set[str] | None] = {}
    for line in run_fixed(opts, LIST_KEYS):
        zone, _, key_id = line.partition("\t")
        zone = zone.lower().rstrip(".")
        if key_id == "!":
            keys[zone] = None
            continue
        ids = keys.setdefault(zone, set())
        if ids is not None:
            ids.add(key_id)
    return keys


# -- only the throw-away zone may change -----------------------------------------------------------
class RefusedWrite(RuntimeError):
    """A change aimed at a zone other than the throw-away zone (nothing was sent)."""


def _same_zone(a: object, b: str) -> bool:
    return isinstance(a, str) and a.lower().rstrip(".") == b.lower().rstrip(".")


class LockedRemote:
    """A Remote that sends reads anywhere and changes only to ``zone``; any other change raises
    ``RefusedWrite`` before it reaches the server, and is kept in ``refused``."""

    def __init__(self, inner: Remote, zone: str) -> None:
        self.inner = inner
        self.host = inner.host
        self.zone = zone
        self.refused: list[tuple[str, dict[str, Any]]] = []

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        values = dict(params or {})
        if script not in READ_SCRIPTS and not _same_zone(values.get("ZoneName"), self.zone):
            self.refused.append((script, values))
            raise RefusedWrite(
                f"refusing {script} on zone {values.get('ZoneName')!r}: these tests change only "
                f"the throw-away zone {self.zone}"
            )
        return self.inner.run(script, values)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def lock_cli(monkeypatch: pytest.MonkeyPatch, zone: str) -> list[LockedRemote]:
    """Make every Remote the `windns` CLI opens a ``LockedRemote`` for ``zone``; the list that is
    returned collects them, so a test can check that nothing was refused."""
    import toolkit.cli.app as cli_app

    opened: list[LockedRemote] = []
    real_connect = cli_app.connect

    def connect_locked(*args: Any, **kwargs: Any) -> LockedRemote:
        opened.append(LockedRemote(real_connect(*args, **kwargs), zone))
        return opened[-1]

    monkeypatch.setattr(cli_app, "connect", connect_locked)
    return opened
