"""Pre-flight guard: predict what Windows would refuse, and what would leave a zone broken.

``preflight(inventory, script, params)`` takes the zone's current state (an inventory of that
zone), applies the change to a model of it (descriptors + ``dataclasses.replace``) and returns a
``Preflight`` with the zone before and after and the refusals found. ``check`` raises the first
refusal as ``GuardError`` (code = the Win32 code the change would cause, ``None`` for our own
safety rules), with the catalogue name and how to proceed.

The limits themselves live in ``toolkit.dnssec_limits``, shared with the simulated server, so
the guard and the simulator cannot disagree. On top of Windows's own checks the guard refuses
changes Windows accepts but that break validation: unsigning, or re-signing with new keys, a
zone whose parent holds a DS for it.

Not predicted: whether a key storage provider exists on the server (HSM providers vary from
server to server), so an unknown one is left to the server, which answers 9112.

The parent's DS is not in the inventory: ``ksk_changes`` says which KSKs a change steps, rolls,
retires or removes, and ``parent_ds_refusal`` decides, from the DS the parent publishes matched
against the zone's KSK DNSKEYs (``ParentDs``, asked over DNS by ``toolkit.services.parent_ds``),
whether the zone keeps a KSK whose DS the parent publishes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit import dnssec_limits as lim
from toolkit.dnsview.descriptors import DsRecord, PublishedKey
from toolkit.errors import GuardError
from toolkit.model import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyState,
    KeyType,
    RolloverStatus,
    ServerInventory,
    SigningKey,
    Zone,
)
from toolkit.model.enums import ZoneType

__all__ = [
    "HINTS",
    "KskChange",
    "ParentDs",
    "Preflight",
    "Refusal",
    "check",
    "explain",
    "ksk_changes",
    "parent_ds_note",
    "parent_ds_refusal",
    "parent_ds_unknown",
    "preflight",
]

_KSK, _ZSK = "KeySigningKey", "ZoneSigningKey"

#: how to proceed, per Win32 code the guard predicts
HINTS: dict[int, str] = {
    9101: "run the change on the zone's key master{master} (--server), or move the role with "
    "Reset-DnsServerZoneKeyMasterRole",
    9102: "re-signing a zone that already has keys needs --resign (with --defaults it drops the keys)",
    9103: "use NSEC (windns zones dnssec set {zone} --nsec) or a non-SHA-1 algorithm such as RsaSha256",
    9104: "add the missing key first (windns keys add --zone {zone} --type KSK|ZSK), then retry",
    9106: "use an RSA length of 1024-4096 in steps of 64, 256 for ECDsaP256Sha256, 384 for ECDsaP384Sha384",
    9113: "remove a key of that algorithm and type first (at most 3 per zone)",
    9114: "choose a rollover period of 7-7300 days for a KSK, 7-1825 days for a ZSK",
    9115: "choose an initial rollover offset of 0-30 days",
    9116: "wait for the rollover in progress to finish (windns keys list shows its status)",
    9117: "the key has no standby key to revoke; keep NextRolloverAction Normal",
    9118: "RevokeStandby applies to key signing keys only",
    9119: "a signed zone's active keys stay: roll the key over and remove it once retired, "
    "or unsign the zone",
    9120: "the key is already queued for rollover; nothing more to do",
    9121: "sign the zone first (windns zones sign {zone})",
    9123: "choose a signature validity of 6-720 hours",
    9124: "lower the NSEC3 iterations (RFC 9276: use 0)",
    9128: "step only applies to a KSK waiting for the parent's DS update (KskWaitingForDSUpdate)",
    9130: "use NSEC3 with RsaSha1NSec3 keys (windns zones dnssec set {zone} --nsec3)",
    9601: "check the zone name (windns zones list)",
    9611: "DNSSEC changes apply to primary zones; change the zone on its primary server",
}
_NO_SALT_HINT = (
    "give a random salt length of 1-255 bytes, or no salt at all with NSec3UserSalt '-' "
    "(windns zones dnssec set {zone} --nsec3-salt -)"
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason to refuse: the Win32 code prevented (None for our own rules), why, and what to do."""

    code: int | None
    reason: str
    hint: str

    def summary(self) -> str:
        """The reason and the Win32 code it prevents, without advice."""
        if self.code is None:
            return self.reason
        return f"{self.reason}; Windows would answer {_describe(self.code)}"

    def message(self) -> str:
        return f"refused: {self.summary()}. To proceed: {self.hint}. Nothing was sent."

    def error(self) -> GuardError:
        return GuardError(self.message(), code=self.code)


@dataclass(frozen=True, slots=True)
class Preflight:
    """The zone before and after the change (as modelled) and every refusal found."""

    zone_name: str
    before: Zone | None
    after: Zone | None
    refusals: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refusals


def _describe(code: int) -> str:
    from toolkit.catalogue import describe_code

    return describe_code(code)


def explain(code: int) -> str:
    """The catalogue's one-line explanation of ``code`` (name, numbers, message)."""
    from toolkit.catalogue import get

    err = get(code)
    return f"{_describe(code)}: {err.message}" if err is not None else _describe(code)


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


class _Model:
    """Collects refusals while one change is applied to the zone model."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.refusals: list[Refusal] = []
        master = zone.dnssec.key_master_server if zone.dnssec else None
        self.fmt = {"zone": zone.name, "master": f" {master}" if master else ""}

    def refuse(self, code: int | None, reason: str, hint: str | None = None, *, fatal: bool = False) -> None:
        text = hint if hint is not None else HINTS.get(code or 0, "fix the cause above, or use --force")
        r = Refusal(code, reason, text.format(**self.fmt))
        self.refusals.append(r)
        if fatal:
            raise _Refused(r)

    def violation(self, v: lim.Violation | None) -> None:
        if v is not None:
            self.refuse(v.code, v.reason)


# -- helpers on descriptors ---------------------------------------------------------------------
def _state(k: SigningKey) -> str:
    return k.current_state.value if k.current_state is not None else "Active"


def _pairs(keys: Sequence[SigningKey]) -> list[tuple[str, str | None]]:
    return [(k.key_type.value, _state(k)) for k in keys]


def _norm_id(text: Any) -> str:
    return str(text).strip().strip("{}").lower()


def _find(m: _Model, key_id: Any) -> SigningKey:
    want = _norm_id(key_id)
    for k in m.zone.keys:
        if k.key_id.lower() == want:
            return k
    m.refuse(
        None,
        f"zone {m.zone.name} has no signing key {want}",
        f"list the zone's keys with windns keys list --zone {m.zone.name}",
        fatal=True,
    )
    raise AssertionError("unreachable")


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _seconds(params: Mapping[str, Any], name: str) -> float | None:
    v = params.get(name)
    return None if v is None else float(v)


def _validities(m: _Model, params: Mapping[str, Any]) -> None:
    for what, name in (
        ("DNSKEY", "DnsKeySignatureValidityPeriodSeconds"),
        ("DS", "DSSignatureValidityPeriodSeconds"),
        ("zone", "ZoneSignatureValidityPeriodSeconds"),
    ):
        v = _seconds(params, name)
        if v is not None:
            m.violation(lim.check_signature_validity(what, v))


def _denial(zone: Zone) -> str | None:
    d = zone.dnssec.denial_of_existence if zone.dnssec else None
    return d.value if d is not None else None


def _iterations_check(m: _Model, zone: Zone) -> None:
    s = zone.dnssec
    if s is None or s.denial_of_existence is not DenialOfExistence.NSEC3:
        return
    m.violation(lim.check_nsec3_iterations(s.nsec3_iterations or 0, [k.key_length or 0 for k in zone.keys]))


def _secure_parent(zone: Zone) -> bool:
    return bool(zone.dnssec and zone.dnssec.parent_has_secure_delegation)


# -- per script: apply to the model, collect refusals ------------------------------------------
def _key_add(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    key_type = lim.canonical(str(params.get("KeyType") or _KSK), (_KSK, _ZSK)) or _KSK
    alg = lim.canonical(str(params.get("CryptoAlgorithm") or "RsaSha256"), lim.ALGORITHMS)
    if alg is None:
        m.refuse(
            9105,
            f"unknown algorithm {params.get('CryptoAlgorithm')!r}",
            f"choose one of {', '.join(lim.ALGORITHMS)}",
            fatal=True,
        )
        raise AssertionError("unreachable")
    raw_length = params.get("KeyLength")
    length = lim.default_key_length(alg, key_type) if raw_length is None else int(raw_length)
    bad_length = lim.check_key_length(alg, length)
    if bad_length is not None:  # fatal: the modelled key below cannot hold a length Windows refuses
        m.refuse(bad_length.code, bad_length.reason, fatal=True)
    m.violation(
        lim.check_key_count([(k.key_type.value, k.algorithm.value) for k in zone.keys], key_type, alg)
    )
    period = _seconds(params, "RolloverPeriodSeconds")
    if period is not None:
        m.violation(lim.check_rollover_period(key_type, period))
    offset = _seconds(params, "InitialRolloverOffsetSeconds")
    if offset is not None:
        m.violation(lim.check_initial_rollover_offset(offset))
    _validities(m, params)
    m.violation(lim.check_denial_compatible(_denial(zone), [alg]))
    new = SigningKey(
        zone=zone.name,
        key_id="00000000-0000-0000-0000-000000000000",
        key_type=KeyType(key_type),
        algorithm=CryptoAlgorithm(alg),
        key_length=length,
        current_state=KeyState.ACTIVE,
        current_rollover_status=RolloverStatus.NOT_ROLLING,
        is_rollover_enabled=True,
    )
    after = dataclasses.replace(zone, keys=(*zone.keys, new))
    _iterations_check(m, after)
    return after


def _key_remove(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    doomed = [_find(m, i) for i in _ids(params.get("KeyId"))]
    gone = {k.key_id for k in doomed}
    after = dataclasses.replace(zone, keys=tuple(k for k in zone.keys if k.key_id not in gone))
    if zone.signed:
        m.violation(lim.check_signing_keys(_pairs(after.keys)))
        for k in doomed:
            if _state(k).lower() != "retired":
                m.refuse(9119, f"key {k.key_id} ({k.key_type.short}) is active in signed zone {zone.name}")
    return after


def _key_set(m: _Model, params: Mapping[str, Any]) -> Zone:
    key = _find(m, params.get("KeyId"))
    changes: dict[str, Any] = {}
    period = _seconds(params, "RolloverPeriodSeconds")
    if period is not None:
        m.violation(lim.check_rollover_period(key.key_type.value, period))
    _validities(m, params)
    action = params.get("NextRolloverAction")
    if action is not None:
        canon = lim.canonical(str(action), lim.NEXT_ROLLOVER_ACTIONS)
        if canon == "RevokeStandby":
            if key.is_zsk:
                m.refuse(9118, f"key {key.key_id} is a ZSK")
            elif not key.standby_key:
                m.refuse(9117, f"key {key.key_id} has no standby key")
    return _replace_key(m.zone, key, **changes)


def _replace_key(zone: Zone, key: SigningKey, **changes: Any) -> Zone:
    new = dataclasses.replace(key, **changes)
    return dataclasses.replace(zone, keys=tuple(new if k is key else k for k in zone.keys))


def _key_rollover(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    action = str(params.get("Action") or "").lower()
    key = _find(m, params.get("KeyId"))
    status = key.current_rollover_status or RolloverStatus.NOT_ROLLING
    if action == "enable":
        period = _seconds(params, "RolloverPeriodSeconds")
        if period is not None:
            m.violation(lim.check_rollover_period(key.key_type.value, period))
        offset = _seconds(params, "InitialRolloverOffsetSeconds")
        if offset is not None:
            m.violation(lim.check_initial_rollover_offset(offset))
        return _replace_key(zone, key, is_rollover_enabled=True)
    if action == "disable":
        return _replace_key(zone, key, is_rollover_enabled=False)
    if not zone.signed:
        m.refuse(9121, f"zone {zone.name} is not signed", fatal=True)
    if action == "step":
        if status is not RolloverStatus.KSK_WAITING_FOR_DS_UPDATE:
            m.refuse(9128, f"key {key.key_id} is {status.value}, not waiting for a DS update")
        return _replace_key(zone, key, current_rollover_status=RolloverStatus.NOT_ROLLING)
    if status is RolloverStatus.QUEUED:
        m.refuse(9120, f"key {key.key_id} is already queued for rollover")
    elif status is not RolloverStatus.NOT_ROLLING:
        m.refuse(9116, f"key {key.key_id} is rolling over ({status.value})")
    return _replace_key(zone, key, current_rollover_status=RolloverStatus.QUEUED)


def _zone_sign(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    defaults, resign = bool(params.get("SignWithDefault")), bool(params.get("DoResign"))
    if defaults:
        if (zone.signed or zone.keys) and not resign:
            m.refuse(9102, f"zone {zone.name} already has signing keys", fatal=True)
        if zone.signed and _secure_parent(zone):
            m.refuse(
                None,
                f"re-signing {zone.name} with defaults replaces its KSK while the parent holds a DS "
                "for the current one: validating resolvers would see the zone as bogus",
                "add a new KSK and roll over (windns keys rollover now), or remove the DS at the parent "
                "first; --force to do it anyway",
            )
        return dataclasses.replace(zone, is_signed=True)
    if zone.signed and not resign:
        m.refuse(9102, f"zone {zone.name} is already signed", "use --resign to re-sign it", fatal=True)
    after = dataclasses.replace(zone, is_signed=True)
    m.violation(lim.check_signing_keys(_pairs(after.keys)))
    m.violation(lim.check_denial_compatible(_denial(zone) or "NSec3", [k.algorithm.value for k in zone.keys]))
    _iterations_check(m, after)
    return after


def _zone_unsign(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    if not zone.signed:
        m.refuse(9121, f"zone {zone.name} is not signed", "nothing to unsign", fatal=True)
    if _secure_parent(zone):
        m.refuse(
            None,
            f"the parent of {zone.name} holds a DS for it: unsigned, the zone would be bogus for "
            "validating resolvers",
            "remove the DS record at the parent, wait for its TTL to expire, then unsign; --force to do "
            "it anyway",
        )
    return dataclasses.replace(zone, is_signed=False)


def _zone_dnssec_set(m: _Model, params: Mapping[str, Any]) -> Zone:
    zone = m.zone
    from toolkit.model import ZoneDnssecSettings

    s = zone.dnssec or ZoneDnssecSettings(
        zone=zone.name,
        denial_of_existence=DenialOfExistence(str(lim.DEFAULT_DNSSEC_SETTING["DenialOfExistence"])),
        nsec3_iterations=int(str(lim.DEFAULT_DNSSEC_SETTING["NSec3Iterations"])),
    )
    changes: dict[str, Any] = {}
    if params.get("DenialOfExistence") is not None:
        changes["denial_of_existence"] = DenialOfExistence(str(params["DenialOfExistence"]))
    if params.get("NSec3Iterations") is not None:
        changes["nsec3_iterations"] = int(params["NSec3Iterations"])
    if params.get("NSec3RandomSaltLength") is not None:
        length = int(params["NSec3RandomSaltLength"])
        problem = lim.nsec3_salt_length_problem(length)
        if problem is not None:
            m.refuse(None, problem, _NO_SALT_HINT, fatal=True)
        changes.update(nsec3_random_salt_length=length, nsec3_user_salt=None)
    if params.get("NSec3UserSalt") is not None:
        salt = str(params["NSec3UserSalt"])
        changes.update(nsec3_user_salt=None if salt in ("", "-") else salt, nsec3_random_salt_length=0)
    if params.get("NSec3OptOut") is not None:
        changes["nsec3_opt_out"] = bool(params["NSec3OptOut"])
    if params.get("DSRecordGenerationAlgorithm") is not None:
        changes["ds_record_generation_algorithm"] = tuple(
            DsDigest(str(v)) for v in _ids(params["DSRecordGenerationAlgorithm"])
        )
    if params.get("DistributeTrustAnchor") is not None:
        changes["distribute_trust_anchor"] = tuple(_ids(params["DistributeTrustAnchor"]))
    try:
        new = dataclasses.replace(s, **changes)
    except ValueError as exc:
        m.refuse(
            None, str(exc), "use values Windows accepts (see windns zones dnssec set --help)", fatal=True
        )
        raise AssertionError("unreachable") from None
    after = dataclasses.replace(zone, dnssec=new)
    m.violation(lim.check_denial_compatible(_denial(after), [k.algorithm.value for k in zone.keys]))
    _iterations_check(m, after)
    return after


def _zone_export_keys(m: _Model, params: Mapping[str, Any]) -> Zone:
    if not m.zone.signed:
        m.refuse(9121, f"zone {m.zone.name} is not signed")
    return m.zone


_APPLY = {
    "key_add": _key_add,
    "key_remove": _key_remove,
    "key_set": _key_set,
    "key_rollover": _key_rollover,
    "zone_sign": _zone_sign,
    "zone_unsign": _zone_unsign,
    "zone_dnssec_set": _zone_dnssec_set,
    "zone_export_keys": _zone_export_keys,
}
#: scripts that only read (no key master needed)
_READ_ONLY = frozenset({"zone_export_keys"})


def preflight(inventory: ServerInventory, script: str, params: Mapping[str, Any]) -> Preflight:
    """Model ``script`` with ``params`` on the zone's current state; collect every refusal."""
    if script not in _APPLY:
        raise ValueError(f"no guard for script {script!r}")
    name = str(params.get("ZoneName") or "")
    zone = inventory.zone(name)
    if zone is None:
        missing = Refusal(9601, f"zone {name} was not found on {inventory.server.name}", HINTS[9601])
        return Preflight(name, zone, None, (missing,))
    m = _Model(zone)
    try:
        for err in zone.errors:
            if err.code == 9601:
                m.refuse(9601, f"zone {name} was not found on {inventory.server.name}", fatal=True)
            m.refuse(
                err.code,
                f"the current state of {zone.name} could not be read ({err.stage}: {err.message})",
                "fix that first (windns audit shows it), or use --force",
                fatal=True,
            )
        if zone.zone_type is not ZoneType.PRIMARY or zone.is_auto_created:
            m.refuse(9611, f"{zone.name} is a {zone.zone_type.value} zone", fatal=True)
        if script not in _READ_ONLY and zone.dnssec is not None and zone.dnssec.is_key_master_server is False:
            m.refuse(9101, f"{inventory.server.name} is not the key master of {zone.name}", fatal=True)
        after: Zone | None = _APPLY[script](m, params)
    except _Refused:
        after = None
    return Preflight(zone.name, zone, after, tuple(m.refusals))


def check(inventory: ServerInventory, script: str, params: Mapping[str, Any]) -> Preflight:
    """Like ``preflight`` but raise the first refusal as ``GuardError``."""
    result = preflight(inventory, script, params)
    if result.refusals:
        raise result.refusals[0].error()
    return result


# -- the parent's DS: the chain of trust a KSK change must keep -------------------------------
#: what each action does to the KSK, for messages
_KSK_VERBS = {
    "step": "stepping the rollover of",
    "now": "rolling over",
    "retire": "retiring (NextRolloverAction Retire)",
    "remove": "removing",
}
_DS_OPTIONS = (
    "--ds-from ADDR asks another server (the parent zone's, or a resolver); --ds-confirmed if you "
    "have checked the parent yourself"
)


@dataclass(frozen=True, slots=True)
class KskChange:
    """One KSK of a signed zone that a change steps (``step``), rolls over now (``now``), retires
    (``retire``: NextRolloverAction Retire) or removes (``remove``).

    A step withdraws the old key of a rollover waiting for the parent's DS and keeps the new one;
    the others withdraw the key the KSK has now (a rollover moves the KSK to a new key, whose DS
    the parent cannot hold yet)."""

    key: SigningKey
    action: str

    @property
    def verb(self) -> str:
        return _KSK_VERBS[self.action]


@dataclass(frozen=True, slots=True)
class ParentDs:
    """The DS the parent publishes for a zone, matched against the zone's KSK DNSKEYs.

    ``keys``: the zone's KSK DNSKEYs as Windows exports them (Export-DnsServerDnsSecPublicKey, the
    records its administrator hands the parent); ``ds``: the parent's DS RRset as asked at
    ``server``, each record matched against ``keys`` (key tag, algorithm and digest)."""

    zone: str
    server: str
    keys: tuple[PublishedKey, ...]
    ds: tuple[DsRecord, ...]

    def anchored(self, key: PublishedKey) -> bool:
        """A DS at the parent matches ``key`` (its digest recomputed from the key)."""
        return any(d.matched_key_tag == key.key_tag and d.algorithm == key.algorithm for d in self.ds)

    def ds_text(self) -> str:
        if not self.ds:
            return "it publishes no DS for the zone"
        tags = ", ".join(str(d.key_tag) for d in self.ds)
        return f"its DS (key tag {tags}) matches no other KSK of the zone"


Group = tuple[int, int | None]


def _key_group(k: SigningKey) -> Group:
    number = k.algorithm.number
    length = k.key_length or lim.default_key_length(k.algorithm.value, k.key_type.value)
    return (int(number) if number is not None else -1, length)


def _dnskey_group(p: PublishedKey) -> Group:
    return (p.algorithm, p.key_length)


def _describe_key(k: SigningKey) -> str:
    return f"KSK {k.key_id} ({k.algorithm.value}, {k.key_length or '?'} bits)"


def _tags(keys: Sequence[PublishedKey]) -> str:
    return ", ".join(str(p.key_tag) for p in keys)


def ksk_changes(zone: Zone, script: str, params: Mapping[str, Any]) -> tuple[KskChange, ...]:
    """The KSKs of ``zone`` whose DS the change puts at stake (empty: none, or the zone is not
    signed, so no chain of trust runs through its KSKs)."""
    if not zone.signed:
        return ()
    by_id = {k.key_id.lower(): k for k in zone.keys}

    def ksk(key_id: Any) -> SigningKey | None:
        k = by_id.get(_norm_id(key_id))
        return k if k is not None and k.is_ksk else None

    if script == "key_rollover":
        action = str(params.get("Action") or "").lower()
        key = ksk(params.get("KeyId"))
        return (KskChange(key, action),) if key is not None and action in ("step", "now") else ()
    if script == "key_set":
        next_action = lim.canonical(str(params.get("NextRolloverAction") or ""), lim.NEXT_ROLLOVER_ACTIONS)
        key = ksk(params.get("KeyId"))
        return (KskChange(key, "retire"),) if key is not None and next_action == "Retire" else ()
    if script == "key_remove":
        doomed = [ksk(i) for i in _ids(params.get("KeyId"))]
        return tuple(KskChange(k, "remove") for k in doomed if k is not None and k.is_active)
    return ()


def _refusal(reason: str, hint: str) -> Refusal:
    return Refusal(None, reason, hint)


def parent_ds_unknown(zone: Zone, changes: Sequence[KskChange], server: str, why: str) -> Refusal:
    """The refusal when the parent's DS could not be asked (``why``) at ``server``."""
    first = changes[0]
    which = "the new KSK" if first.action == "step" else "a KSK that stays"
    return _refusal(
        f"could not ask the DS of {zone.name} at {server} ({why}), so nothing shows that the parent "
        f"publishes a DS for {which}: {first.verb} {_describe_key(first.key)} could break the chain "
        "of trust",
        f"{_DS_OPTIONS}; --dns-timeout to wait longer",
    )


def parent_ds_refusal(zone: Zone, changes: Sequence[KskChange], parent: ParentDs) -> Refusal | None:
    """Refuse unless the zone keeps, after the changes, a KSK whose DS the parent publishes.

    A step needs the parent's DS for the new KSK: every exported DNSKEY of the stepped KSK's
    algorithm and length. The export is taken to list the new key of a rollover waiting for the
    DS (the simulated server's does); should it list the old key too, the step needs a DS for
    both, which errs on the safe side. A change that
    withdraws a KSK's key needs another exported KSK with a DS to stay; where other KSKs share the
    withdrawn one's algorithm and length (so the export cannot tell their DNSKEYs apart), the
    count is the worst case: every key the changed KSKs may own is taken to be one with a DS.
    A zone whose parent publishes no DS and whose settings claim no secure delegation has no chain
    of trust to keep, except for a step, which waits for exactly that DS.
    """
    if not changes:
        return None
    where = f"asked at {parent.server}"
    for c in changes:
        if c.action != "step":
            continue
        new = [p for p in parent.keys if _dnskey_group(p) == _key_group(c.key)]
        if not new:
            return _refusal(
                f"Windows exports no DNSKEY for {_describe_key(c.key)} of {zone.name}: the parent's DS "
                "cannot be checked against the new KSK",
                f"check the key with windns zones export-keys {zone.name}; {_DS_OPTIONS}",
            )
        missing = [p for p in new if not parent.anchored(p)]
        if missing:
            return _refusal(
                f"the parent ({where}) publishes no DS for the new KSK of {zone.name} (key tag "
                f"{_tags(missing)}): {parent.ds_text()}; {c.verb} {_describe_key(c.key)} withdraws the "
                "old KSK and breaks the chain of trust",
                f"give the parent the new DS (windns zones export-keys {zone.name} --ds), wait until it "
                f"is published, then step; {_DS_OPTIONS}",
            )
    withdrawn = [c for c in changes if c.action != "step"]
    if not withdrawn:
        return None
    if not parent.ds and not _secure_parent(zone):
        return None
    gone = {c.key.key_id for c in withdrawn}
    inside = [k for k in zone.ksks if k.is_active]
    survivors = 0
    for g in {_dnskey_group(p) for p in parent.keys}:
        keys = [p for p in parent.keys if _dnskey_group(p) == g]
        anchored = sum(1 for p in keys if parent.anchored(p))
        owners = [k for k in inside if _key_group(k) == g]
        staying = [k for k in owners if k.key_id not in gone]
        if len(staying) == len(owners):
            survivors += anchored
        elif staying:  # the withdrawn KSKs own at most the keys the staying ones cannot
            survivors += max(0, anchored - (len(keys) - len(staying)))
    if survivors:
        return None
    first = withdrawn[0]
    anchored_now = [p for p in parent.keys if parent.anchored(p)]
    if anchored_now:
        reason = (
            f"{_describe_key(first.key)} is the only KSK of {zone.name} whose DS the parent publishes "
            f"(key tag {_tags(anchored_now)}, {where}): {first.verb} it leaves the zone without one, "
            "and validating resolvers would see the zone as bogus"
        )
    else:
        reason = (
            f"the parent ({where}) publishes no DS matching a KSK of {zone.name} ({parent.ds_text()}): "
            f"{first.verb} {_describe_key(first.key)} leaves the zone without a KSK whose DS the "
            "parent publishes"
        )
    return _refusal(
        reason,
        "add a KSK and give the parent its DS first (windns keys add --type KSK, windns zone "
        f"export-keys {zone.name} --ds); {_DS_OPTIONS}",
    )


def parent_ds_note(zone: Zone, changes: Sequence[KskChange], parent: ParentDs) -> str:
    """What the check found when it lets the change through (for the plan and the output)."""
    anchored = [p for p in parent.keys if parent.anchored(p)]
    if any(c.action == "step" for c in changes):
        return (
            f"the parent publishes a DS for the new KSK of {zone.name} (key tag {_tags(anchored)}; "
            f"asked at {parent.server})"
        )
    if not anchored:
        return (
            f"the parent publishes no DS for {zone.name} (asked at {parent.server}): no chain of trust "
            "to keep"
        )
    return (
        f"the parent publishes a DS for a KSK of {zone.name} that stays (key tag {_tags(anchored)}; "
        f"asked at {parent.server})"
    )
