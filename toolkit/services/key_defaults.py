"""Defaults for a new signing key from the policy in effect, so the toolkit's own audit passes it.

Windows fills what ``Add-DnsServerSigningKey`` is not given with its own defaults (RsaSha256, a
2048-bit KSK rolled every 755 days, a 1024-bit ZSK every 90 days, signatures valid 168/168/240
hours), and some of them break the stricter profiles: the rfc and stig profiles want 2048-bit
ZSKs (KEY005), rfc a KSK rolled within 730 days (ROLL002). ``key_defaults`` completes a new key's
parameters from the policy instead, and says where each value comes from:

- algorithm: the zone's own (a new key pairs with the other key type, KEY003) when the policy
  recommends it; else a recommended one of the same family (RSA, ECDSA), else the first
  recommended (ALG001, ALG002), compatible with the zone's denial of existence (ALG003);
- length: for RSA at least the policy's minimum for the key type (KEY005) and Windows's default,
  in Windows's steps of 64 bits; an ECDSA key's length is its curve's;
- rollover period: Windows's default brought into the policy's range (ROLL002);
- signature validity (DNSKEY, DS, zone): Windows's defaults brought into the policy's ranges
  (SIG001-SIG003) and up to what re-signing and propagation need (SIG004).

Algorithm and length are always sent (the plan shows exactly what the key gets); a rollover
period or validity is sent only when it differs from Windows's default. What the caller gives
is kept as given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from toolkit import dnssec_limits as lim
from toolkit.model import ServerInventory, Zone

if TYPE_CHECKING:
    from toolkit.policy import Policy, Thresholds

__all__ = ["KeyDefaults", "key_defaults", "policy_label", "rollover_period"]

_KSK, _ZSK = "KeySigningKey", "ZoneSigningKey"
#: the key's validity parameters: (script parameter, Windows default key, policy field, rule, label)
_VALIDITIES = (
    ("DnsKeySignatureValidityPeriodSeconds", "DnsKey", "dnskey_validity", "SIG001", "DNSKEY"),
    ("DSSignatureValidityPeriodSeconds", "DS", "ds_validity", "SIG002", "DS"),
    ("ZoneSignatureValidityPeriodSeconds", "Zone", "zone_validity", "SIG003", "zone"),
)


@dataclass(frozen=True, slots=True)
class KeyDefaults:
    """The parameters to add to the key's change, and one note per value chosen."""

    params: dict[str, Any]
    notes: tuple[str, ...]


def policy_label(policy: Policy) -> str:
    """``profile rfc`` for a built-in profile, ``policy corp`` for a policy file."""
    return f"{'profile' if policy.source is None else 'policy'} {policy.name}"


def _span(seconds: float) -> str:
    if seconds % lim.DAY == 0:
        return f"{int(seconds // lim.DAY)}d"
    return f"{math.ceil(seconds / lim.HOUR)}h"


def _hours(seconds: float) -> str:
    return f"{math.ceil(seconds / lim.HOUR)}h"


def _zone_algorithm(zone: Zone | None, key_type: str) -> str | None:
    """The algorithm a new key pairs with: the other key type's first, else any key's."""
    if zone is None or not zone.keys:
        return None
    others = [k for k in zone.keys if k.key_type.value != key_type] or list(zone.keys)
    return others[0].algorithm.value


def _algorithm(zone: Zone | None, key_type: str, policy: Policy) -> tuple[str, str]:
    t = policy.thresholds
    recommended = [c for a in t.recommended_algorithms if (c := lim.canonical(a, lim.ALGORITHMS))]
    own = _zone_algorithm(zone, key_type)
    where = policy_label(policy)
    if own is not None and own in recommended:
        return own, f"algorithm {own}: the zone's algorithm"
    denial = zone.dnssec.denial_of_existence if zone is not None and zone.dnssec is not None else None
    fits = [
        a for a in recommended if lim.check_denial_compatible(denial.value if denial else None, [a]) is None
    ]
    if not fits:
        chosen = own or "RsaSha256"
        return chosen, f"algorithm {chosen}: {where} recommends none that fits the zone"
    family = ("ECDsa" if own.startswith("ECDsa") else "Rsa") if own else None
    chosen = next((a for a in fits if family and a.startswith(family)), fits[0])
    if own is None:
        return chosen, f"algorithm {chosen} from {where} (recommended)"
    forbidden = {a.lower() for a in t.forbidden_algorithms}
    why = "forbidden: ALG001" if own.lower() in forbidden else "not recommended: ALG002"
    return (
        chosen,
        f"algorithm {chosen} from {where} (recommended; the zone's {own} is {why}); the zone then "
        f"needs a KSK and a ZSK of {chosen} (KEY003)",
    )


def _length(alg: str, key_type: str, policy: Policy) -> tuple[int, str]:
    windows = lim.default_key_length(alg, key_type)
    if not alg.lower().startswith("rsa"):
        return windows, f"length {windows}: fixed by {alg}"
    t = policy.thresholds
    minimum = t.ksk_min_rsa_bits if key_type == _KSK else t.zsk_min_rsa_bits
    low, high, step = lim.RSA_LENGTHS
    wanted = min(high, max(windows, low, math.ceil(minimum / step) * step))
    if wanted > windows:
        return wanted, f"length {wanted} from {policy_label(policy)} (KEY005 minimum)"
    return windows, f"length {windows}: Windows default ({policy_label(policy)} minimum {minimum})"


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _rollover(key_type: str, t: Thresholds) -> tuple[float, float, tuple[float, float]]:
    """(Windows default, policy-fitted period, policy range), in seconds."""
    windows = float(lim.DEFAULT_ROLLOVER_DAYS[key_type] * lim.DAY)
    lo, hi = (
        (t.ksk_rollover_min, t.ksk_rollover_max)
        if key_type == _KSK
        else (t.zsk_rollover_min, t.zsk_rollover_max)
    )
    limits = lim.ROLLOVER_DAYS[key_type]
    low = max(lo.total_seconds(), limits[0] * lim.DAY)
    high = min(hi.total_seconds(), limits[1] * lim.DAY)
    fitted = _clamp(windows, low, high) if low <= high else windows
    return windows, fitted, (lo.total_seconds(), hi.total_seconds())


def rollover_period(key_type: str, policy: Policy, current: timedelta | None = None) -> tuple[int, str]:
    """The rollover period (seconds) to enable on a key that has ``current`` (None: Windows's
    default), brought into the policy's range, and a note saying where it came from."""
    windows, _, (lo, hi) = _rollover(key_type, policy.thresholds)
    have = current.total_seconds() if current else windows
    limits = lim.ROLLOVER_DAYS[key_type]
    low, high = max(lo, limits[0] * lim.DAY), min(hi, limits[1] * lim.DAY)
    fitted = _clamp(have, low, high) if low <= high else have
    where = policy_label(policy)
    if fitted != have:
        return int(fitted), (
            f"every {_span(fitted)} from {where} (ROLL002 range {_span(lo)}..{_span(hi)}; was {_span(have)})"
        )
    return int(fitted), f"every {_span(fitted)}, within {where}"


def _needed(zone: Zone | None, inventory: ServerInventory | None, t: Thresholds) -> float:
    """SIG004's shortest validity, in seconds: the longer of propagation x factor and scan period +
    propagation + the longer of the DNSKEY and DS TTLs."""
    s = zone.dnssec if zone is not None else None
    if s is None:
        return 0.0
    prop = (s.propagation_time or timedelta(0)).total_seconds()
    ttl = max(
        (s.dnskey_record_set_ttl or timedelta(0)).total_seconds(),
        (s.ds_record_set_ttl or timedelta(0)).total_seconds(),
    )
    scan_td = inventory.server.settings.maximum_signature_scan_period if inventory is not None else None
    scan = scan_td.total_seconds() if scan_td is not None else 0.0
    return max(prop * t.validity_propagation_factor, scan + prop + ttl)


def key_defaults(
    zone: Zone | None,
    key_type: str,
    given: Mapping[str, Any],
    policy: Policy,
    inventory: ServerInventory | None = None,
) -> KeyDefaults:
    """What a new ``key_type`` key of ``zone`` gets beyond ``given`` (the parameters the caller
    set, ``key_add`` names), and why (see the module docstring)."""
    t = policy.thresholds
    where = policy_label(policy)
    params: dict[str, Any] = {}
    notes: list[str] = []
    alg = given.get("CryptoAlgorithm")
    if alg is None:
        alg, note = _algorithm(zone, key_type, policy)
        params["CryptoAlgorithm"] = alg
        notes.append(note)
    alg = lim.canonical(str(alg), lim.ALGORITHMS) or str(alg)
    if given.get("KeyLength") is None:
        length, note = _length(alg, key_type, policy)
        params["KeyLength"] = length
        notes.append(note)
    kept: list[str] = []
    if given.get("RolloverPeriodSeconds") is None:
        windows, period, (lo, hi) = _rollover(key_type, t)
        if period != windows:
            params["RolloverPeriodSeconds"] = int(period)
            notes.append(
                f"rollover period {_span(period)} from {where} (ROLL002 range {_span(lo)}..{_span(hi)}; "
                f"Windows default {_span(windows)})"
            )
        else:
            kept.append(f"rollover period {_span(windows)}")
    need = _needed(zone, inventory, t)
    shown: list[str] = []
    for param, default_key, field, rule, label in _VALIDITIES:
        if given.get(param) is not None:
            continue
        windows = float(lim.DEFAULT_VALIDITY_HOURS[default_key] * lim.HOUR)
        lo = getattr(t, f"{field}_min").total_seconds()
        hi = getattr(t, f"{field}_max").total_seconds()
        low = max(lo, need, lim.VALIDITY_HOURS[0] * lim.HOUR)
        high = min(hi, lim.VALIDITY_HOURS[1] * lim.HOUR)
        value = _clamp(windows, min(low, high), high)  # SIG004 beyond the policy's maximum: the maximum
        value = float(math.ceil(value / lim.HOUR) * lim.HOUR)
        if value != windows:
            params[param] = int(value)
            why = f"{rule} range {_hours(lo)}..{_hours(hi)}" + (
                f", SIG004 needs {_hours(need)}" if need > lo else ""
            )
            notes.append(
                f"{label} signature validity {_hours(value)} from {where} ({why}; "
                f"Windows default {_hours(windows)})"
            )
        else:
            shown.append(f"{label} {_hours(windows)}")
    if shown:
        kept.append("signature validity " + ", ".join(shown))
    if kept:
        notes.append(f"Windows defaults kept, within {where}: {'; '.join(kept)}")
    return KeyDefaults(params, tuple(notes))
