"""What a rule is: declared metadata plus a small pure check over descriptors.

A rule is either *zone-scoped* (called once per zone with a ``ZoneContext``) or
*server-scoped* (called once per server with a ``ServerContext``). A check yields ``Hit``s; the
engine (``toolkit.rules.engine``) turns each hit into a ``Finding`` with the rule's id, the
effective severity (hit, rule default, then the policy's override) and the target.

Ids follow ``^[A-Z]{2,4}[0-9]{3}$``, grouped by area (see ``docs/rules.md``); an id never changes
meaning once released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from toolkit import catalogue
from toolkit.catalogue import Win32Error
from toolkit.findings import Severity
from toolkit.model import ServerInventory, SigningKey, Zone
from toolkit.model.enums import ZoneType

if TYPE_CHECKING:
    from toolkit.policy import Thresholds

__all__ = [
    "AREAS",
    "Hit",
    "Rule",
    "ServerContext",
    "ZoneContext",
    "describe_win32",
    "fmt_td",
    "win32_entry",
]

#: id prefix -> area, in the order ``rules list`` shows them
AREAS: dict[str, str] = {
    "KEY": "signing keys present and usable (the 9104 family)",
    "ALG": "signing algorithms (RFC 8624 / RFC 9905)",
    "ROLL": "automatic key rollover",
    "SIG": "signature validity periods",
    "NSEC": "authenticated denial of existence (RFC 9276)",
    "DS": "DS record generation (RFC 8624 section 3.3)",
    "KM": "key master",
    "TA": "trust anchors and trust points",
    "SRV": "server settings",
    "ZONE": "zones and what the inventory could read",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """One problem a check found. ``severity`` overrides the rule's default for this hit only."""

    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    key_id: str | None = None
    severity: Severity | None = None
    zone: str | None = None  # server-scoped rules may still name a zone (a trust anchor's name)


@dataclass(frozen=True, slots=True)
class ZoneContext:
    server: str
    inventory: ServerInventory
    zone: Zone
    t: Thresholds
    now: datetime

    @property
    def is_primary(self) -> bool:
        return self.zone.zone_type is ZoneType.PRIMARY

    @property
    def keys_readable(self) -> bool:
        """False when the inventory failed to read this zone's keys (then ``zone.keys`` means nothing)."""
        return not any("signingkey" in e.stage.lower() for e in self.zone.errors)

    @property
    def dnssec_in_use(self) -> bool:
        """A primary zone that is signed or holds keys: the zones DNSSEC rules look at."""
        return self.is_primary and (self.zone.signed or bool(self.zone.keys))

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return self.zone.keys if self.keys_readable else ()


@dataclass(frozen=True, slots=True)
class ServerContext:
    server: str
    inventory: ServerInventory
    t: Thresholds
    now: datetime


ZoneCheck = Callable[[ZoneContext], Iterable[Hit]]
ServerCheck = Callable[[ServerContext], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata (what ``rules list``/``explain``, SARIF and the docs show) and its check.

    ``checks``, ``why`` and ``remediation`` are prose in ruff's doc sections (What it checks / Why
    it matters / Remediation); ``remediation`` is PowerShell with ``<Zone>``/``<KeyId>``
    placeholders. ``win32`` is the Win32 error the condition predicts (its catalogue entry feeds
    ``explain``); ``stig`` the DISA Vuln/STIG ids.
    """

    id: str
    title: str
    severity: Severity
    scope: Literal["zone", "server"]
    checks: str
    why: str
    remediation: str
    references: tuple[str, ...]
    zone_check: ZoneCheck | None = None
    server_check: ServerCheck | None = None
    win32: int | None = None
    stig: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.scope == "zone") != (self.zone_check is not None) or (self.scope == "server") != (
            self.server_check is not None
        ):
            raise ValueError(f"rule {self.id}: scope {self.scope!r} needs exactly its own check")

    @property
    def area(self) -> str:
        return self.id.rstrip("0123456789")

    def all_references(self) -> tuple[str, ...]:
        refs = list(self.references)
        refs.extend(f"DISA STIG {s}" for s in self.stig)
        if self.win32 is not None:
            refs.append(f"Win32 {describe_win32(self.win32)}")
        return tuple(refs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.label,
            "scope": self.scope,
            "area": AREAS.get(self.area, self.area),
            "checks": self.checks,
            "why": self.why,
            "remediation": self.remediation,
            "references": list(self.all_references()),
            "stig": list(self.stig),
            "win32": self.win32,
        }


# -- the Win32 catalogue (toolkit.catalogue owns the data) --------------------------------------
def win32_entry(code: int) -> Win32Error | None:
    """The catalogue's entry for ``code``, or None for a code it does not know."""
    return catalogue.get(code)


def describe_win32(code: int) -> str:
    """``DNS_ERROR_X (9104, 0x2390)`` when the catalogue knows the code, else ``1460 (0x05B4)``."""
    entry = catalogue.get(code)
    if entry is not None:
        return f"{entry.name} ({code}, 0x{code:04X})"
    return f"{code} (0x{code:04X})"


def fmt_td(value: timedelta | None) -> str | None:
    """A timedelta as the shortest exact ``Nd``/``Nh``/``Nm``/``Ns`` text (``None`` stays None)."""
    if value is None:
        return None
    secs = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"
