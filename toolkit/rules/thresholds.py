"""The numbers and lists the rules compare against: one frozen ``Thresholds`` in every policy.

A rule reads them from its context (``ctx.t``); ``toolkit.rules.policy`` fills them from a
profile or a policy file's ``[thresholds]`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Thresholds"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Numbers and lists the rules compare against. Defaults = the baseline profile."""

    ksk_min_rsa_bits: int = 2048
    zsk_min_rsa_bits: int = 1024
    max_keys_per_algorithm_and_type: int = 3
    forbidden_algorithms: tuple[str, ...] = ("RsaSha1", "RsaSha1NSec3")
    recommended_algorithms: tuple[str, ...] = ("RsaSha256", "ECDsaP256Sha256")
    allowed_algorithms: tuple[str, ...] = ("RsaSha512", "ECDsaP384Sha384")
    ksk_rollover_min: timedelta = timedelta(days=7)
    ksk_rollover_max: timedelta = timedelta(days=1095)
    zsk_rollover_min: timedelta = timedelta(days=7)
    zsk_rollover_max: timedelta = timedelta(days=365)
    rollover_required_for: tuple[str, ...] = ("KSK", "ZSK")
    rollover_overdue_grace: timedelta = timedelta(days=1)
    ksk_ds_wait_max: timedelta = timedelta(days=7)
    ksk_rollover_type: str = "DoubleSignature"
    zsk_rollover_type: str = "Prepublish"
    dnskey_validity_min: timedelta = timedelta(hours=24)
    dnskey_validity_max: timedelta = timedelta(hours=720)
    ds_validity_min: timedelta = timedelta(hours=24)
    ds_validity_max: timedelta = timedelta(hours=720)
    zone_validity_min: timedelta = timedelta(hours=24)
    zone_validity_max: timedelta = timedelta(hours=720)
    validity_propagation_factor: float = 2.0
    nsec3_max_iterations: int = 0
    nsec3_validator_limit: int = 50
    nsec3_salt_allowed: bool = False
    nsec3_opt_out_allowed: bool = False
    denial_of_existence: str = "any"  # any | NSec | NSec3
    ds_required_digests: tuple[str, ...] = ("Sha256",)
    ds_forbidden_digests: tuple[str, ...] = ("Sha1",)
    #: DNS008: a served RRSIG expiring within this window (measured at query time) is reported
    rrsig_expiry_window: timedelta = timedelta(hours=48)

    def __post_init__(self) -> None:
        if self.denial_of_existence.lower() not in ("any", "nsec", "nsec3"):
            raise ValueError("must be one of any, NSec, NSec3")
        for lo, hi in (
            ("ksk_rollover_min", "ksk_rollover_max"),
            ("zsk_rollover_min", "zsk_rollover_max"),
            ("dnskey_validity_min", "dnskey_validity_max"),
            ("ds_validity_min", "ds_validity_max"),
            ("zone_validity_min", "zone_validity_max"),
        ):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo.replace('_', '-')} is above {hi.replace('_', '-')}")
        for name in ("rollover_required_for",):
            bad = [v for v in getattr(self, name) if v not in ("KSK", "ZSK")]
            if bad:
                raise ValueError(f"{name.replace('_', '-')}: {bad[0]!r} is not KSK or ZSK")
