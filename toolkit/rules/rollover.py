"""ROLL and SIG rules: automatic key rollover and signature validity periods."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta

from toolkit.findings import Severity
from toolkit.model.enums import KeyType, RolloverStatus
from toolkit.rules.base import Hit, Rule, ZoneContext, fmt_td

__all__ = ["RULES"]

NIST_CP = "NIST SP 800-81-2 section 11.2 (crypto periods: KSK 1-2 years, ZSK 1-3 months)"
SP80057 = "NIST SP 800-57 Part 1 section 5.3.6 (signature key cryptoperiod 1-3 years)"
RFC7583 = "RFC 7583 section 3 (rollover timing)"
STIG_ROLL = ("V-259384 / WDNS-22-000056", "V-215621 / WDNS-SC-000013")
STIG_DNSKEY = ("V-259345 / WDNS-22-000014", "V-215578 / WDNS-CM-000008")
STIG_DS = ("V-259339 / WDNS-22-000007", "V-215661 / WDNS-CM-000001")


def rollover_disabled(ctx: ZoneContext) -> Sequence[Hit]:
    required = ctx.t.rollover_required_for
    hits: list[Hit] = []
    for k in ctx.signing_keys:
        if not k.rollover_enabled and k.key_type.short in required:
            hits.append(
                Hit(
                    f"automatic rollover is disabled on the {k.key_type.short}",
                    {"key_type": k.key_type.short, "is_rollover_enabled": k.is_rollover_enabled},
                    key_id=k.key_id,
                )
            )
    return hits


def rollover_period(ctx: ZoneContext) -> Sequence[Hit]:
    keys = ctx.signing_keys
    if not keys:
        return ()
    t = ctx.t
    ksk_range, zsk_range = (t.ksk_rollover_min, t.ksk_rollover_max), (t.zsk_rollover_min, t.zsk_rollover_max)
    hits: list[Hit] = []
    for k in keys:
        period = k.rollover_period
        if not period or not k.rollover_enabled:
            continue
        lo, hi = ksk_range if k.key_type is _KSK else zsk_range
        if not lo <= period <= hi:
            hits.append(
                Hit(
                    f"{k.key_type.short} rolls over every {fmt_td(k.rollover_period)}, "
                    f"outside the policy range {fmt_td(lo)}..{fmt_td(hi)}",
                    {"rollover_period": fmt_td(k.rollover_period), "min": fmt_td(lo), "max": fmt_td(hi)},
                    key_id=k.key_id,
                )
            )
    return hits


def rollover_overdue(ctx: ZoneContext) -> Sequence[Hit]:
    keys = ctx.signing_keys
    if not keys:
        return ()
    due = _due_before(ctx.now, ctx.t.rollover_overdue_grace)
    hits: list[Hit] = []
    for k in keys:
        when = k.next_rollover_time
        if when is None or (due is not None and when >= due):
            continue  # the usual case: not late by more than the grace (same test as below)
        status = k.current_rollover_status
        if not k.rollover_enabled:
            continue
        if status is not None and status.is_rolling:
            continue  # ROLL004/ROLL005 speak for keys that are mid-rollover
        late = ctx.now - when
        if late > ctx.t.rollover_overdue_grace:
            evidence: dict[str, object] = {
                "next_rollover_time": when.isoformat(),
                "overdue": fmt_td(_days(late)),
            }
            if status is not None and not status.is_known:
                # not taken for a rollover in progress: what the status means is unknown
                evidence["current_rollover_status"] = status.value
                msg = (
                    f"{k.key_type.short} rollover was due {fmt_td(_days(late))} ago; its rollover status "
                    f"{status.value!r} is unknown to this toolkit, so whether it started is unknown"
                )
            else:
                msg = f"{k.key_type.short} rollover was due {fmt_td(_days(late))} ago and has not started"
            hits.append(Hit(msg, evidence, key_id=k.key_id))
    return hits


_WAITING_FOR_DS = RolloverStatus.KSK_WAITING_FOR_DS_UPDATE
_ROLL_ERROR = RolloverStatus.ROLL_ERROR
_KSK = KeyType.KSK


def roll_error(ctx: ZoneContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for k in ctx.signing_keys:
        if k.current_rollover_status is _ROLL_ERROR:
            hits.append(
                Hit(
                    f"{k.key_type.short} rollover is in RollError",
                    {
                        "current_rollover_status": "RollError",
                        "next_rollover_time": k.next_rollover_time.isoformat()
                        if k.next_rollover_time
                        else None,
                    },
                    key_id=k.key_id,
                )
            )
    return hits


def ksk_waiting_for_ds(ctx: ZoneContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for k in ctx.signing_keys:
        if k.current_rollover_status is not _WAITING_FOR_DS or not k.is_ksk:
            continue
        started = k.next_rollover_time or k.last_rollover_time
        evidence: dict[str, object] = {
            "current_rollover_status": "KskWaitingForDSUpdate",
            "limit": fmt_td(ctx.t.ksk_ds_wait_max),
            "parent_has_secure_delegation": ctx.zone.dnssec.parent_has_secure_delegation
            if ctx.zone.dnssec
            else None,
        }
        if started is None:
            hits.append(
                Hit(
                    "KSK rollover waits for the parent's DS update (since when is unknown)",
                    evidence,
                    key_id=k.key_id,
                    severity=Severity.LOW,
                )
            )
            continue
        waited = ctx.now - started
        if waited > ctx.t.ksk_ds_wait_max:
            evidence.update(since=started.isoformat(), waiting=fmt_td(_days(waited)))
            hits.append(
                Hit(
                    f"KSK rollover has waited {fmt_td(_days(waited))} for the parent's DS update "
                    f"(policy allows {fmt_td(ctx.t.ksk_ds_wait_max)})",
                    evidence,
                    key_id=k.key_id,
                )
            )
    return hits


def rollover_type(ctx: ZoneContext) -> Sequence[Hit]:
    keys = ctx.signing_keys
    if not keys:
        return ()
    t = ctx.t
    ksk_expected, zsk_expected = t.ksk_rollover_type, t.zsk_rollover_type
    hits: list[Hit] = []
    for k in keys:
        if k.rollover_type is None:
            continue
        expected = ksk_expected if k.key_type is _KSK else zsk_expected
        value: str = k.rollover_type._value_  # ``.value`` without the enum property call
        if value != expected and value.lower() != expected.lower():
            hits.append(
                Hit(
                    f"{k.key_type.short} rolls over by {k.rollover_type.value}, expected {expected}",
                    {"rollover_type": k.rollover_type.value, "expected": expected},
                    key_id=k.key_id,
                )
            )
    return hits


@functools.lru_cache(maxsize=16)
def _due_before(now: datetime, grace: timedelta) -> datetime | None:
    """``now - grace``: a time at or after it is not ``> grace`` late. None when it does not fit a
    datetime (then no time is skipped and the exact test decides)."""
    try:
        return now - grace
    except OverflowError:
        return None


_ZERO = timedelta(0)


@functools.lru_cache(maxsize=64)
def _needed(
    prop: timedelta,
    dnskey_ttl: timedelta | None,
    ds_ttl: timedelta | None,
    scan: timedelta | None,
    factor: float,
) -> timedelta:
    """SIG004's shortest acceptable validity: the longer of propagation x factor and scan period +
    propagation + the longer TTL. Kept per argument tuple: a server's zones repeat a few values."""
    ttl = max(dnskey_ttl or _ZERO, ds_ttl or _ZERO)
    try:
        return max(prop * factor, (scan or _ZERO) + prop + ttl)
    except OverflowError:  # a factor (policy) or spans past what a timedelta holds: none is long enough
        return timedelta.max


def _days(td: timedelta) -> timedelta:
    """Round down to whole days past one day, whole hours below (readable evidence)."""
    unit = timedelta(days=1) if td >= timedelta(days=1) else timedelta(hours=1)
    return (td // unit) * unit


def _validity(ctx: ZoneContext, attr: str, lo: timedelta, hi: timedelta, label: str) -> Sequence[Hit]:
    keys = ctx.signing_keys
    if not keys:
        return ()
    hits: list[Hit] = []
    for k in keys:
        value: timedelta | None = getattr(k, attr)
        if value is not None and not lo <= value <= hi:
            hits.append(
                Hit(
                    f"{label} signature validity {fmt_td(value)} on the {k.key_type.short} is outside "
                    f"the policy range {fmt_td(lo)}..{fmt_td(hi)}",
                    {attr: fmt_td(value), "min": fmt_td(lo), "max": fmt_td(hi)},
                    key_id=k.key_id,
                )
            )
    return hits


def dnskey_validity(ctx: ZoneContext) -> Sequence[Hit]:
    return _validity(
        ctx, "dnskey_signature_validity", ctx.t.dnskey_validity_min, ctx.t.dnskey_validity_max, "DNSKEY"
    )


def ds_validity(ctx: ZoneContext) -> Sequence[Hit]:
    return _validity(ctx, "ds_signature_validity", ctx.t.ds_validity_min, ctx.t.ds_validity_max, "DS")


def zone_validity(ctx: ZoneContext) -> Sequence[Hit]:
    return _validity(ctx, "zone_signature_validity", ctx.t.zone_validity_min, ctx.t.zone_validity_max, "zone")


def validity_vs_propagation(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.zone.dnssec
    if s is None or not ctx.signing_keys:
        return ()
    scan = ctx.inventory.server.settings.maximum_signature_scan_period
    prop = s.propagation_time or _ZERO
    factor = ctx.t.validity_propagation_factor
    need = _needed(prop, s.dnskey_record_set_ttl, s.ds_record_set_ttl, scan, factor)
    if need <= _ZERO:
        return ()
    hits: list[Hit] = []
    for k in ctx.signing_keys:
        dnskey, ds, zone = k.dnskey_signature_validity, k.ds_signature_validity, k.zone_signature_validity
        if (
            (dnskey is None or dnskey >= need)
            and (ds is None or ds >= need)
            and (zone is None or zone >= need)
        ):
            continue  # the usual case: every period long enough (the test below, for all three)
        for attr, label in (
            ("dnskey_signature_validity", "DNSKEY"),
            ("ds_signature_validity", "DS"),
            ("zone_signature_validity", "zone"),
        ):
            value: timedelta | None = getattr(k, attr)
            if value is not None and value < need:
                hits.append(
                    Hit(
                        f"{label} signature validity {fmt_td(value)} on the {k.key_type.short} is shorter "
                        f"than the {fmt_td(need)} needed to re-sign and propagate in time",
                        {
                            attr: fmt_td(value),
                            "needed": fmt_td(need),
                            "propagation_time": fmt_td(prop),
                            "maximum_signature_scan_period": fmt_td(scan),
                            "factor": ctx.t.validity_propagation_factor,
                        },
                        key_id=k.key_id,
                    )
                )
    return hits


_SET_VALIDITY = "Set-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -{param} (New-TimeSpan -Hours 168)"

RULES: tuple[Rule, ...] = (
    Rule(
        id="ROLL001",
        title="Automatic key rollover disabled",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="Every active key of a type in rollover-required-for (KSK and ZSK; the STIG profile: "
        "KSK) of a signed zone has automatic rollover enabled.",
        why="Without automatic rollover a key outlives its crypto period and nobody notices until "
        "it is compromised or its algorithm is retired; the DISA STIG requires it on every KSK.",
        remediation="Enable-DnsServerSigningKeyRollover -ZoneName '<Zone>' -KeyId <KeyId> "
        "-RolloverPeriod (New-TimeSpan -Days <755|90>)",
        references=(NIST_CP, "RFC 6781 section 4.1"),
        zone_check=rollover_disabled,
        stig=STIG_ROLL,
    ),
    Rule(
        id="ROLL002",
        title="Rollover period outside policy",
        severity=Severity.LOW,
        scope="zone",
        checks="RolloverPeriod lies within ksk-rollover-min..max / zsk-rollover-min..max (baseline: "
        "Windows range up to 3 years KSK, 1 year ZSK; rfc: NIST SP 800-81-2 KSK 1-2 years, ZSK "
        "1-3 months).",
        why="Crypto periods bound how long a key is exposed; too short a period means needless "
        "rollovers (and DS updates for KSKs).",
        remediation="Set-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -RolloverPeriod "
        "(New-TimeSpan -Days <Days>)",
        references=(NIST_CP, SP80057),
        zone_check=rollover_period,
    ),
    Rule(
        id="ROLL003",
        title="Scheduled rollover overdue",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="A key with automatic rollover whose NextRolloverTime is more than "
        "rollover-overdue-grace in the past and that is not rolling. A rollover status this toolkit "
        "does not know is not taken for a rollover in progress: the key is reported, its status "
        "named as unknown (KEY006 reports the value itself).",
        why="The rollover scheduler is stuck or the key master is not running it: the key is past its "
        "planned lifetime. MS-DNSP 2.2.6.2.3 says a server MUST report one of the statuses it lists; "
        "a value outside them tells nothing about a rollover, so it does not excuse the key.",
        remediation="Get-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> | Format-List *\n"
        "Invoke-DnsServerSigningKeyRollover -ZoneName '<Zone>' -KeyId <KeyId> -Force",
        references=(RFC7583, "MS-DNSP section 2.2.6.2.3 (DNS_RPC_SKD_STATE: dwCurrentRolloverStatus)"),
        zone_check=rollover_overdue,
    ),
    Rule(
        id="ROLL004",
        title="Key rollover in RollError",
        severity=Severity.HIGH,
        scope="zone",
        checks="CurrentRolloverStatus is RollError.",
        why="Windows gave up on the rollover: the old key keeps signing past its period and the zone "
        "may be left with a half-published key set.",
        remediation="Get-WinEvent -LogName 'DNS Server' -MaxEvents 50   # find the cause\n"
        "Invoke-DnsServerSigningKeyRollover -ZoneName '<Zone>' -KeyId <KeyId> -Force",
        references=(RFC7583,),
        zone_check=roll_error,
    ),
    Rule(
        id="ROLL005",
        title="KSK rollover stuck waiting for the parent DS update",
        severity=Severity.HIGH,
        scope="zone",
        checks="A KSK in KskWaitingForDSUpdate for longer than ksk-ds-wait-max (default 7 days), "
        "counted from its NextRolloverTime.",
        why="The new KSK's DS never reached the parent zone: the rollover cannot finish, and removing "
        "the old KSK now would break the chain of trust.",
        remediation="Export-DnsServerDnsSecPublicKey -ZoneName '<Zone>' -DigestType Sha256   # give the DS "
        "to the parent\n# once the parent publishes it:\nStep-DnsServerSigningKeyRollover -ZoneName "
        "'<Zone>' -KeyId <KeyId>",
        references=("RFC 7583 section 3.3 (KSK double-signature rollover)", "RFC 6781 section 4.1.2"),
        zone_check=ksk_waiting_for_ds,
    ),
    Rule(
        id="ROLL006",
        title="Unexpected rollover type",
        severity=Severity.LOW,
        scope="zone",
        checks="KSKs roll by ksk-rollover-type (DoubleSignature), ZSKs by zsk-rollover-type "
        "(Prepublish), as RFC 6781 recommends and Windows sets by default.",
        why="Pre-publication for KSKs or double signatures for ZSKs work, but enlarge responses or "
        "lengthen rollovers; an unusual type hints at hand-made keys.",
        remediation="# re-create the key with the Windows defaults:\n"
        "Add-DnsServerSigningKey -ZoneName '<Zone>' "
        "-Type <KeySigningKey|ZoneSigningKey>",
        references=("RFC 6781 section 4.1.1 / 4.1.2",),
        zone_check=rollover_type,
    ),
    Rule(
        id="SIG001",
        title="DNSKEY signature validity outside policy",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="DnsKeySignatureValidityPeriod of every active key within dnskey-validity-min..max "
        "(stig and rfc: 48-168 hours).",
        why="Long validity widens the replay window for a withdrawn key; short validity risks expired "
        "signatures after an outage.",
        remediation=_SET_VALIDITY.format(param="DnsKeySignatureValidityPeriod"),
        references=("RFC 6781 section 4.4.2", "NIST SP 800-81-2 section 11.4"),
        zone_check=dnskey_validity,
        stig=STIG_DNSKEY,
    ),
    Rule(
        id="SIG002",
        title="DS signature validity outside policy",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="DSSignatureValidityPeriod of every active key within ds-validity-min..max "
        "(stig and rfc: 48-168 hours).",
        why="Same trade-off as SIG001 for the signatures over child DS records.",
        remediation=_SET_VALIDITY.format(param="DSSignatureValidityPeriod"),
        references=("RFC 6781 section 4.4.2",),
        zone_check=ds_validity,
        stig=STIG_DS,
    ),
    Rule(
        id="SIG003",
        title="Zone signature validity outside policy",
        severity=Severity.LOW,
        scope="zone",
        checks="ZoneSignatureValidityPeriod of every active key within zone-validity-min..max "
        "(Windows default 240 hours).",
        why="Same trade-off as SIG001 for the signatures over zone data.",
        remediation="Set-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -ZoneSignatureValidityPeriod "
        "(New-TimeSpan -Hours 240)",
        references=("RFC 6781 section 4.4.2",),
        zone_check=zone_validity,
    ),
    Rule(
        id="SIG004",
        title="Signature validity too short for propagation",
        severity=Severity.HIGH,
        scope="zone",
        checks="Every validity period is at least validity-propagation-factor x PropagationTime, and "
        "longer than the server's MaximumSignatureScanPeriod + PropagationTime + the DNSKEY/DS TTL.",
        why="Signatures must be refreshed and propagated to every secondary before they expire; "
        "otherwise validating resolvers see expired RRSIGs and answer SERVFAIL.",
        remediation=_SET_VALIDITY.format(param="<DnsKey|DS|Zone>SignatureValidityPeriod")
        + "\n# or shorten: Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' -PropagationTime <TimeSpan>",
        references=(RFC7583, "RFC 6781 section 4.4.2"),
        zone_check=validity_vs_propagation,
    ),
)
