"""What a rule is: declared metadata plus a small pure check over descriptors.

A rule is either *zone-scoped* (called once per zone with a ``ZoneContext``) or
*server-scoped* (called once per server with a ``ServerContext``). A check returns its ``Hit``s
(any iterable; the rules here return a list, or ``()`` when a guard rules the zone out: a
generator would cost an object and a frame on each of some 30 calls a zone, most of them finding
nothing); the engine (``toolkit.rules.engine``) turns each hit into a ``Finding`` with the
rule's id, the effective severity (hit, rule default, then the policy's override) and the target.

Ids follow ``^[A-Z]{2,4}[0-9]{3}$``, grouped by area (see ``docs/rules.md``); an id never changes
meaning once released.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from toolkit import catalogue
from toolkit.catalogue import Win32Error, describe_win32
from toolkit.findings import Severity, fmt_td
from toolkit.model import ServerInventory, SigningKey, Zone, ZoneDnssecSettings
from toolkit.model.enums import DenialOfExistence, DsDigest, KeyState, KeyType, ZoneType

if TYPE_CHECKING:
    from toolkit.rules.thresholds import Thresholds

__all__ = [
    "AREAS",
    "Hit",
    "Rule",
    "ServerContext",
    "ZoneContext",
    "describe_win32",
    "fact",
    "fmt_td",
    "key_line",
    "lowered",
    "not_yet_signing",
    "win32_entry",
]

_T = TypeVar("_T")

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
    "DNS": "the DNS view joined with the server's own view (audit/scan --dns)",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """One problem a check found. ``severity`` overrides the rule's default for this hit only."""

    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    key_id: str | None = None
    severity: Severity | None = None
    zone: str | None = None  # server-scoped rules may still name a zone (a trust anchor's name)


class fact(Generic[_T]):  # noqa: N801 - used like ``property``
    """A per-zone fact on ``ZoneContext``: its decorated function is the fact's definition.

    Rules ask the context for what many of them need (the readable keys, the active keys, the
    keys that sign, counts per algorithm and type) instead of each recomputing it from
    ``zone.keys``. A computed value is stored in the instance ``__dict__`` under the fact's own
    name, so a second read never reaches the descriptor again; ``ZoneContext`` also fills the
    key-derived facts up front in one pass over the keys (``_key_facts``). With
    ``cache_facts=False`` nothing is stored and every read runs the definition again: the
    reference that ``tests/test_rules_cache.py`` and ``benchmarks/bench_rules.py`` compare the
    cached evaluation against.

    A fact must be immutable (tuples, scalars, frozen descriptors): every rule sees the same object.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> fact[_T]: ...

    @overload
    def __get__(self, obj: ZoneContext, owner: type | None = None) -> _T: ...

    def __get__(self, obj: ZoneContext | None, owner: type | None = None) -> _T | fact[_T]:
        if obj is None:
            return self
        value = self.func(obj)
        if obj.cache_facts:
            obj.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class ZoneContext:
    """What a zone-scoped check sees: the zone, its server's inventory, thresholds and the time.

    The ``fact`` members are derived from the zone once per evaluation (see ``fact``); the
    context is built per zone and per evaluation, so a fact never outlives the zone it describes.
    """

    server: str
    inventory: ServerInventory
    zone: Zone
    t: Thresholds
    now: datetime
    cache_facts: bool = field(default=True, kw_only=True)

    def __post_init__(self) -> None:
        if self.cache_facts:
            self.__dict__.update(_key_facts(self.zone))

    @classmethod
    def judging(
        cls, server: str, inventory: ServerInventory, zone: Zone, t: Thresholds, now: datetime
    ) -> ZoneContext:
        """``ZoneContext(server, inventory, zone, t, now)`` with cached facts, built the way the
        engine needs it per zone: one dictionary of fields and key facts, without the frozen
        dataclass's one ``object.__setattr__`` per field; of the subclass ``_Judging``, whose
        facts read as plain attributes."""
        ctx = object.__new__(_Judging)
        ctx.__dict__.update(
            _key_facts(zone), server=server, inventory=inventory, zone=zone, t=t, now=now, cache_facts=True
        )
        return ctx

    @fact
    def is_primary(self) -> bool:
        return self.zone.zone_type is ZoneType.PRIMARY

    @fact
    def signed(self) -> bool:
        """``Zone.signed`` (IsSigned, else the DNSSEC setting's IsSigned)."""
        return self.zone.signed

    @fact
    def keys_readable(self) -> bool:
        """False when the inventory failed to read this zone's keys (then ``zone.keys`` means nothing)."""
        return not any("signingkey" in e.stage.lower() for e in self.zone.errors)

    @fact
    def dnssec_in_use(self) -> bool:
        """A primary zone that is signed or holds keys: the zones DNSSEC rules look at."""
        return self.is_primary and (self.signed or bool(self.zone.keys))

    @fact
    def keys(self) -> tuple[SigningKey, ...]:
        """The zone's keys, or none when they could not be read."""
        return self.zone.keys if self.keys_readable else ()

    @fact
    def ksks(self) -> tuple[SigningKey, ...]:
        """The readable KSKs (``keys`` of type KeySigningKey)."""
        return tuple(k for k in self.keys if k.is_ksk)

    @fact
    def zsks(self) -> tuple[SigningKey, ...]:
        """The readable ZSKs."""
        return tuple(k for k in self.keys if k.is_zsk)

    @fact
    def active_keys(self) -> tuple[SigningKey, ...]:
        """The readable keys that are not retired."""
        return tuple(k for k in self.keys if k.is_active)

    @fact
    def pending_keys(self) -> tuple[SigningKey, ...]:
        """The readable keys that are not retired but sign nothing yet (``not_yet_signing``).

        Not filled by ``_key_facts``: computed on first read."""
        return tuple(k for k in self.keys if not_yet_signing(k))

    @fact
    def signing_keys(self) -> tuple[SigningKey, ...]:
        """The active keys of a signed zone DNSSEC rules look at (none otherwise): what ROLL/SIG judge."""
        return self.active_keys if self.dnssec_in_use and self.signed else ()

    @fact
    def key_counts(self) -> tuple[tuple[str, str, int], ...]:
        """``(algorithm, KSK|ZSK, count)`` over the readable keys, sorted by algorithm then type."""
        counts = Counter((k.algorithm.value, k.key_type.short) for k in self.keys)
        return tuple((alg, kind, n) for (alg, kind), n in sorted(counts.items()))

    @fact
    def min_key_length(self) -> int | None:
        """The shortest reported key length among the readable keys (None when none reports one)."""
        lengths = [k.key_length for k in self.keys if k.key_length]
        return min(lengths) if lengths else None

    @fact
    def algorithms(self) -> tuple[str, ...]:
        """The lower-case algorithm names of the readable keys, each once, sorted."""
        return tuple(sorted({k.algorithm.value.lower() for k in self.keys}))

    @fact
    def odd_keys(self) -> tuple[SigningKey, ...]:
        """The readable keys reporting a value this toolkit does not know (type, algorithm, state,
        rollover type or status): what KEY006 reports."""
        return tuple(k for k in self.keys if not _all_known(k))

    @fact
    def nsec3(self) -> ZoneDnssecSettings | None:
        """The zone's DNSSEC settings when it uses NSEC3 and DNSSEC rules look at it, else None."""
        s = self.zone.dnssec
        if self.dnssec_in_use and s is not None and s.denial_of_existence is DenialOfExistence.NSEC3:
            return s
        return None

    @fact
    def ds_digests(self) -> tuple[str, ...]:
        """The DS digest algorithms the zone generates (``None`` entries left out)."""
        s = self.zone.dnssec
        if s is None:
            return ()
        return tuple(d.value for d in s.ds_record_generation_algorithm if d.value.lower() != "none")

    @fact
    def keys_present(self) -> tuple[str, ...]:
        """Evidence: the zone's keys, one line each (type, algorithm, length, state, id), sorted."""
        return tuple(
            key_line(k)
            for k in sorted(self.zone.keys, key=lambda k: (k.key_type.value, k.algorithm.value, k.key_id))
        )


def key_line(k: SigningKey) -> str:
    """One key as evidence: type, algorithm, length, state and id (``keys_present``)."""
    return (
        f"{k.key_type.short} {k.algorithm.value} {k.key_length or '?'} bits "
        f"{(k.current_state.value if k.current_state else 'Active')} {k.key_id}"
    )


def not_yet_signing(k: SigningKey) -> bool:
    """A key descriptor that is not retired but has no active key: ActiveKey blank while a
    StandbyKey or NextKey is set, as Add-DnsServerSigningKey can leave it.

    MS-DNSP 2.2.6.2.3 (DNS_RPC_SKD_STATE) gives each signing key descriptor three signing key
    pointer strings, pwszActiveKey, pwszStandbyKey and pwszNextKey; the DnsServerSigningKey class
    calls ActiveKey "A pointer string for the active key". Without it, the descriptor has no key
    that signs. A key reporting none of the three pointers (an inventory that does not carry
    them) is taken to sign: nothing says otherwise."""
    return k.current_state is not _RETIRED and not k.active_key and bool(k.standby_key or k.next_key)


def _all_known(k: SigningKey) -> bool:
    status, kind, state = k.current_rollover_status, k.rollover_type, k.current_state
    return (
        k.key_type.is_known
        and k.algorithm.is_known
        and (status is None or status.is_known)
        and (kind is None or kind.is_known)
        and (state is None or state.is_known)
    )


_KSK, _ZSK, _RETIRED = KeyType.KSK, KeyType.ZSK, KeyState.RETIRED
_PRIMARY, _NSEC3 = ZoneType.PRIMARY, DenialOfExistence.NSEC3
_UNKNOWN = "UNKNOWN"  # the ``_name_`` of a WinEnum pseudo-member (a value this toolkit does not know)


@functools.lru_cache(maxsize=256)
def _layout(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[tuple[str, str, int], ...], tuple[str, ...]]:
    """``key_counts`` and ``algorithms`` of a zone whose keys are ``(algorithm, KSK|ZSK)``
    ``pairs``, in key order. Kept per tuple: zones repeat a few layouts (a KSK and a ZSK of one
    algorithm), and counting, lowering and sorting cost more than the lookup."""
    counts = Counter(pairs)
    return (
        tuple((alg, kind, n) for (alg, kind), n in sorted(counts.items())),
        tuple(sorted({alg.lower() for alg, _ in pairs})),
    )


@functools.lru_cache(maxsize=64)
def _digest_names(digests: tuple[DsDigest, ...]) -> tuple[str, ...]:
    """``ds_digests`` of a zone generating ``digests`` (kept per tuple, as ``_layout``)."""
    return tuple(d.value for d in digests if d.value.lower() != "none")


def _key_facts(zone: Zone) -> dict[str, object]:
    """The key-derived facts of ``ZoneContext``, and ``nsec3``/``ds_digests``, in one pass over
    the keys (same values as their definitions there, which ``tests/test_rules_cache.py`` checks
    on random zones).

    The hot path of rule evaluation: it reads enum members' ``_name_``/``_value_`` directly (what
    ``is_known``/``value`` return, without the property calls)."""
    readable = True
    for e in zone.errors:
        if "signingkey" in e.stage.lower():
            readable = False
            break
    zone_keys = zone.keys
    keys = zone_keys if readable else ()
    is_primary = zone.zone_type is _PRIMARY
    signed = zone.signed
    dnssec_in_use = is_primary and (signed or bool(zone_keys))
    ksks: list[SigningKey] = []
    zsks: list[SigningKey] = []
    active: list[SigningKey] = []
    odd: list[SigningKey] = []
    pairs: list[tuple[str, str]] = []
    shortest: int | None = None
    for k in keys:
        key_type = k.key_type
        if key_type is _KSK:
            ksks.append(k)
            kind = "KSK"
        elif key_type is _ZSK:
            zsks.append(k)
            kind = "ZSK"
        else:
            kind = key_type.short
        state = k.current_state
        if state is not _RETIRED:
            active.append(k)
        algorithm = k.algorithm
        pairs.append((algorithm._value_, kind))
        length = k.key_length
        if length and (shortest is None or length < shortest):
            shortest = length
        status, rollover = k.current_rollover_status, k.rollover_type
        if (
            key_type._name_ == _UNKNOWN
            or algorithm._name_ == _UNKNOWN
            or (state is not None and state._name_ == _UNKNOWN)
            or (status is not None and status._name_ == _UNKNOWN)
            or (rollover is not None and rollover._name_ == _UNKNOWN)
        ):
            odd.append(k)
    active_keys = tuple(active)
    key_counts, algorithms = _layout(tuple(pairs))
    s = zone.dnssec
    return {
        "is_primary": is_primary,
        "signed": signed,
        "keys_readable": readable,
        "dnssec_in_use": dnssec_in_use,
        "keys": keys,
        "ksks": tuple(ksks),
        "zsks": tuple(zsks),
        "active_keys": active_keys,
        "signing_keys": active_keys if dnssec_in_use and signed else (),
        "key_counts": key_counts,
        "min_key_length": shortest,
        "algorithms": algorithms,
        "odd_keys": tuple(odd),
        "nsec3": s if dnssec_in_use and s is not None and s.denial_of_existence is _NSEC3 else None,
        "ds_digests": _digest_names(s.ds_record_generation_algorithm) if s is not None else (),
    }


class _Judging(ZoneContext):
    """The engine's ZoneContext (``ZoneContext.judging``). Every fact ``_key_facts`` fills is an
    instance attribute, and its name is shadowed here by a plain class attribute. With a
    ``fact`` descriptor in the class, Python reads the instance attribute by its slow generic
    path (34 against 15 ns a read, and the rules read facts about 150 times a zone); with a
    plain class attribute, the instance attribute wins and the read is specialised. Facts it
    does not fill (``keys_present``) stay descriptors, computed on first read."""


#: The facts ``_key_facts`` fills (the same names for every zone).
_FILLED: tuple[str, ...] = tuple(_key_facts(Zone(name="-", zone_type=ZoneType.PRIMARY)))
for _name in _FILLED:
    setattr(_Judging, _name, None)  # never read: every _Judging has the fact in its __dict__
del _name


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


@functools.lru_cache(maxsize=64)
def lowered(names: tuple[str, ...]) -> frozenset[str]:
    """A thresholds list as a set of lower-case names (kept: the same few tuples every zone)."""
    return frozenset(n.lower() for n in names)


# -- the Win32 catalogue (toolkit.catalogue owns the data) --------------------------------------
def win32_entry(code: int) -> Win32Error | None:
    """The catalogue's entry for ``code``, or None for a code it does not know."""
    return catalogue.get(code)
