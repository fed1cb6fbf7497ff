"""Write operations of the simulated server: the admin scripts, with Windows's validation.

One handler per write script in ``ps_scripts/`` (``key_add`` ... ``zone_dnssec_set``; the
read-only ``zone_export_keys`` is in ``export``), taking the
same parameters the script declares and printing what the script prints (the resulting keys,
zone or records, projected like ``inventory.ps1``). A refused change raises ``CmdletError``
with the Win32 code and message Windows gives (reference section 3), checked with the rules in
``toolkit.dnssec_limits`` that the pre-flight guard uses too. Writes change ``server.state``;
the next inventory read shows them.

Simplifications (a model, not Windows): a rollover completes at once (a KSK stops in
``KskWaitingForDSUpdate`` until stepped), the clock is the simulator's ``now``, and public key
material is derived deterministically from the key pointer.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from toolkit import dnssec_limits as lim
from toolkit.errors import CmdletError
from toolkit.simulator.reads import public_record, zone_record

if TYPE_CHECKING:
    from toolkit.simulator.server import SimulatedServer

__all__ = ["CMDLETS", "HANDLERS"]

CMDLETS = lim.CMDLETS

# Win32 messages (reference section 3): what error_WindowsErrorMessage carries.
_MESSAGES = {
    9101: "Only the DNS server acting as the key master for the zone may perform this operation.",
    9102: "This operation is not allowed on a zone that is signed or has signing keys.",
    9103: "NSEC3 is not compatible with the RSA-SHA-1 algorithm. Choose a different algorithm or use NSEC.",
    9104: "The zone does not have enough signing keys. There must be at least one key signing key (KSK) "
    "and at least one zone signing key (ZSK).",
    9106: "The specified key size is not supported.",
    9112: "The specified key service provider cannot be opened by the DNS server.",
    9113: "The DNS server cannot accept any more signing keys with the specified algorithm and KSK flag "
    "value for this zone.",
    9114: "The specified rollover period is invalid.",
    9115: "The specified initial rollover offset is invalid.",
    9116: "The specified signing key is already in process of rolling over keys.",
    9117: "The specified signing key does not have a standby key to revoke.",
    9118: "This operation is not allowed on a zone signing key (ZSK).",
    9119: "This operation is not allowed on an active signing key.",
    9120: "The specified signing key is already queued for rollover.",
    9121: "This operation is not allowed on an unsigned zone.",
    9123: "The specified signature validity period is invalid.",
    9124: "The specified NSEC3 iteration count is higher than allowed by the minimum key length used in "
    "the zone.",
    9128: "The specified signing key is not waiting for parental DS update.",
    9130: "NSEC is not compatible with the NSEC3-RSA-SHA-1 algorithm. Choose a different algorithm or use "
    "NSEC3.",
    9611: "Invalid DNS zone type.",
}

KSK_TYPE, ZSK_TYPE = "KeySigningKey", "ZoneSigningKey"


# -- helpers ----------------------------------------------------------------------------------
def _fail(code: int, cmdlet: str, detail: str | None = None) -> CmdletError:
    """The error Windows raises: its own message only; ``detail`` documents the cause in code."""
    del detail
    return CmdletError(
        _MESSAGES[code], code=code, cmdlet=cmdlet, fully_qualified_error_id=f"WIN32 {code},{cmdlet}"
    )


def _check(v: lim.Violation | None, cmdlet: str) -> None:
    if v is not None:
        raise _fail(v.code, cmdlet, v.reason)


def _invalid(cmdlet: str, parameter: str, detail: str) -> CmdletError:
    """PowerShell's parameter validation error (no Win32 code: the cmdlet never ran)."""
    return CmdletError(
        f"Cannot validate argument on parameter '{parameter}'. {detail}",
        cmdlet=cmdlet,
        fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
    )


def _pointer() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def _norm_id(text: Any) -> str:
    return str(text).strip().strip("{}").lower()


def primary_zone(server: SimulatedServer, params: Mapping[str, Any], cmdlet: str) -> dict[str, Any]:
    z = server.zone_or_error(str(params.get("ZoneName") or ""), cmdlet)
    if str(z.get("ZoneType", "")).lower() != "primary" or z.get("IsAutoCreated"):
        raise _fail(
            9611, cmdlet, f"{z['ZoneName']} is a {z.get('ZoneType')} zone; DNSSEC needs a primary zone"
        )
    return z


def _require_key_master(z: Mapping[str, Any], cmdlet: str) -> None:
    setting = z.get("DnsSecSetting")
    if isinstance(setting, dict) and setting.get("IsKeyMasterServer") is False:
        raise _fail(9101, cmdlet, f"the key master of {z['ZoneName']} is {setting.get('KeyMasterServer')}")


def require_signed(z: Mapping[str, Any], cmdlet: str) -> None:
    if not z.get("IsSigned"):
        raise _fail(9121, cmdlet, f"{z['ZoneName']} is not signed")


def _setting(server: SimulatedServer, z: dict[str, Any]) -> dict[str, Any]:
    """The zone's DnsSecSetting, created with Windows defaults the first time it is needed."""
    s = z.get("DnsSecSetting")
    if not isinstance(s, dict):
        s = {"ZoneName": z["ZoneName"], **copy.deepcopy(lim.DEFAULT_DNSSEC_SETTING)}
        s.update(
            NSec3CurrentSalt="-",
            IsKeyMasterServer=True,
            KeyMasterServer=server.name,
            KeyMasterStatus="Online",
            IsSigned=bool(z.get("IsSigned")),
        )
        _refresh_salt(s)
        z["DnsSecSetting"] = s
    return s


def _refresh_salt(s: dict[str, Any]) -> None:
    user = s.get("NSec3UserSalt")
    if user and user != "-":
        s["NSec3CurrentSalt"] = user
    elif int(s.get("NSec3RandomSaltLength") or 0) > 0:
        s["NSec3CurrentSalt"] = uuid.uuid4().hex.upper()[: 2 * int(s["NSec3RandomSaltLength"])]
    else:
        s["NSec3CurrentSalt"] = "-"


def _find_key(server: SimulatedServer, z: Mapping[str, Any], key_id: Any, cmdlet: str) -> dict[str, Any]:
    want = _norm_id(key_id)
    for k in z.get("SigningKeys") or []:
        if _norm_id(k.get("KeyId")) == want:
            return k  # type: ignore[no-any-return]
    raise CmdletError(
        f"The signing key {want} was not found in zone {z['ZoneName']} on server {server.name}.",
        cmdlet=cmdlet,
        fully_qualified_error_id=f"MiClientApiError_NotFound,{cmdlet}",
    )


def _pairs(keys: Any) -> list[tuple[str, str | None]]:
    return [(str(k.get("KeyType")), k.get("CurrentState")) for k in keys or []]


def _seconds(params: Mapping[str, Any], name: str) -> float | None:
    v = params.get(name)
    return None if v is None else float(v)


def _validities(params: Mapping[str, Any], cmdlet: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for what, param, field in (
        ("DNSKEY", "DnsKeySignatureValidityPeriodSeconds", "DnsKeySignatureValidityPeriod"),
        ("DS", "DSSignatureValidityPeriodSeconds", "DSSignatureValidityPeriod"),
        ("zone", "ZoneSignatureValidityPeriodSeconds", "ZoneSignatureValidityPeriod"),
    ):
        v = _seconds(params, param)
        if v is not None:
            _check(lim.check_signature_validity(what, v), cmdlet)
            out[field] = v
    return out


def _schedule(server: SimulatedServer, key: dict[str, Any], offset: float = 0.0) -> None:
    from toolkit.simulator.server import iso

    period = key.get("RolloverPeriod")
    if key.get("IsRolloverEnabled") and period:
        key["NextRolloverTime"] = iso(server.now + timedelta(seconds=offset or float(period)))
    else:
        key["NextRolloverTime"] = None


# -- keys -------------------------------------------------------------------------------------
def key_add(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["key_add"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    key_type = lim.canonical(str(params.get("KeyType") or KSK_TYPE), (KSK_TYPE, ZSK_TYPE))
    if key_type is None:
        raise CmdletError(
            f"Cannot validate argument on parameter 'Type': {params.get('KeyType')!r} is not "
            "KeySigningKey or ZoneSigningKey.",
            cmdlet=cmdlet,
            fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
        )
    alg = lim.canonical(str(params.get("CryptoAlgorithm") or "RsaSha256"), lim.ALGORITHMS)
    if alg is None:
        raise CmdletError(
            f"Cannot validate argument on parameter 'CryptoAlgorithm': "
            f"{params.get('CryptoAlgorithm')!r} is not one of {', '.join(lim.ALGORITHMS)}.",
            cmdlet=cmdlet,
            fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
        )
    raw_length = params.get("KeyLength")
    length = lim.default_key_length(alg, key_type) if raw_length is None else int(raw_length)
    _check(lim.check_key_length(alg, length), cmdlet)
    provider = lim.KEY_STORAGE_PROVIDERS[0]
    if params.get("KeyStorageProvider") is not None:
        _check(lim.check_key_storage_provider(str(params["KeyStorageProvider"])), cmdlet)
        provider = lim.canonical(str(params["KeyStorageProvider"]), lim.KEY_STORAGE_PROVIDERS) or provider
    keys: list[dict[str, Any]] = z.setdefault("SigningKeys", [])
    _check(
        lim.check_key_count(
            [(str(k.get("KeyType")), str(k.get("CryptoAlgorithm"))) for k in keys], key_type, alg
        ),
        cmdlet,
    )
    period = _seconds(params, "RolloverPeriodSeconds")
    if period is None:
        period = float(lim.DEFAULT_ROLLOVER_DAYS[key_type] * lim.DAY)
    _check(lim.check_rollover_period(key_type, period), cmdlet)
    offset = _seconds(params, "InitialRolloverOffsetSeconds") or 0.0
    _check(lim.check_initial_rollover_offset(offset), cmdlet)
    validity = _validities(params, cmdlet)
    setting = z.get("DnsSecSetting")
    denial = setting.get("DenialOfExistence") if isinstance(setting, dict) else None
    _check(lim.check_denial_compatible(denial, [alg]), cmdlet)
    if isinstance(setting, dict) and denial and str(denial).lower() == "nsec3":
        lengths = [int(k.get("KeyLength") or 0) for k in keys] + [length]
        _check(lim.check_nsec3_iterations(int(setting.get("NSec3Iterations") or 0), lengths), cmdlet)
    store = params.get("StoreKeysInAD")
    key: dict[str, Any] = {
        "ZoneName": z["ZoneName"],
        "KeyId": str(uuid.uuid4()),
        "KeyType": key_type,
        "CurrentState": "Active",
        "KeyStorageProvider": provider,
        "StoreKeysInAD": bool(z.get("IsDsIntegrated")) if store is None else bool(store),
        "CryptoAlgorithm": alg,
        "KeyLength": length,
        "DnsKeySignatureValidityPeriod": validity.get(
            "DnsKeySignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["DnsKey"] * 3600.0
        ),
        "DSSignatureValidityPeriod": validity.get(
            "DSSignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["DS"] * 3600.0
        ),
        "ZoneSignatureValidityPeriod": validity.get(
            "ZoneSignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["Zone"] * 3600.0
        ),
        "InitialRolloverOffset": offset,
        "RolloverPeriod": period,
        "RolloverType": "DoubleSignature" if key_type == KSK_TYPE else "PrePublish",
        "NextRolloverAction": "Normal",
        "LastRolloverTime": None,
        "NextRolloverTime": None,
        "CurrentRolloverStatus": "NotRolling",
        "ActiveKey": _pointer(),
        "StandbyKey": _pointer() if key_type == ZSK_TYPE else None,
        "NextKey": None,
        "IsRolloverEnabled": True,
    }
    _schedule(server, key, offset)
    keys.append(key)
    _setting(server, z)
    return public_record(key)


def key_remove(server: SimulatedServer, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    cmdlet = CMDLETS["key_remove"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    ids = params.get("KeyId") or []
    if isinstance(ids, str):
        ids = [ids]
    doomed = [_find_key(server, z, i, cmdlet) for i in ids]
    keys: list[dict[str, Any]] = z["SigningKeys"]
    if z.get("IsSigned"):
        remaining = [k for k in keys if all(k is not d for d in doomed)]
        _check(lim.check_signing_keys(_pairs(remaining)), cmdlet)
        for k in doomed:
            if str(k.get("CurrentState") or "Active").lower() != "retired":
                raise _fail(9119, cmdlet, f"key {k['KeyId']} is active in signed zone {z['ZoneName']}")
    z["SigningKeys"] = [k for k in keys if all(k is not d for d in doomed)]
    if not z["SigningKeys"] and not z.get("IsSigned"):
        z["DnsSecSetting"] = None  # an unsigned zone without keys has no DNSSEC setting to show
    return [public_record(k) for k in doomed]


def key_set(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["key_set"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    key = _find_key(server, z, params.get("KeyId"), cmdlet)
    changes: dict[str, Any] = {}
    period = _seconds(params, "RolloverPeriodSeconds")
    if period is not None:
        _check(lim.check_rollover_period(str(key.get("KeyType")), period), cmdlet)
        changes["RolloverPeriod"] = period
    changes.update(_validities(params, cmdlet))
    action = params.get("NextRolloverAction")
    if action is not None:
        canon = lim.canonical(str(action), lim.NEXT_ROLLOVER_ACTIONS)
        if canon is None:
            raise CmdletError(
                f"Cannot validate argument on parameter 'NextRolloverAction': {action!r}.",
                cmdlet=cmdlet,
                fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
            )
        if canon == "RevokeStandby":
            if key.get("KeyType") == ZSK_TYPE:
                raise _fail(9118, cmdlet, "RevokeStandby applies to KSKs (RFC 5011)")
            if not key.get("StandbyKey"):
                raise _fail(9117, cmdlet)
        changes["NextRolloverAction"] = canon
    key.update(changes)
    if "RolloverPeriod" in changes:
        _schedule(server, key)
    return public_record(key)


def key_rollover(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    action = str(params.get("Action") or "").lower()
    cmdlet = CMDLETS.get(f"key_rollover:{action}")
    if cmdlet is None:
        raise CmdletError(
            f"Cannot validate argument on parameter 'Action': {params.get('Action')!r} is not "
            "enable, disable, step or now.",
            cmdlet="key_rollover",
            fully_qualified_error_id="ParameterArgumentValidationError,key_rollover",
        )
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    key = _find_key(server, z, params.get("KeyId"), cmdlet)
    status = str(key.get("CurrentRolloverStatus") or "NotRolling")
    from toolkit.simulator.server import iso

    if action == "enable":
        period = _seconds(params, "RolloverPeriodSeconds")
        if period is None:
            period = float(
                key.get("RolloverPeriod") or lim.DEFAULT_ROLLOVER_DAYS[str(key["KeyType"])] * lim.DAY
            )
        _check(lim.check_rollover_period(str(key["KeyType"]), period), cmdlet)
        offset = _seconds(params, "InitialRolloverOffsetSeconds") or 0.0
        _check(lim.check_initial_rollover_offset(offset), cmdlet)
        key.update(IsRolloverEnabled=True, RolloverPeriod=period, InitialRolloverOffset=offset)
        _schedule(server, key, offset)
    elif action == "disable":
        key.update(IsRolloverEnabled=False, RolloverPeriod=None, NextRolloverTime=None)
    elif action == "step":
        require_signed(z, cmdlet)
        if status.lower() != "kskwaitingfordsupdate":
            raise _fail(9128, cmdlet, f"key {key['KeyId']} is {status}")
        key.update(CurrentRolloverStatus="NotRolling", LastRolloverTime=iso(server.now))
        _schedule(server, key)
    else:  # now
        require_signed(z, cmdlet)
        if status.lower() == "queued":
            raise _fail(9120, cmdlet)
        if status.lower() != "notrolling":
            raise _fail(9116, cmdlet, f"key {key['KeyId']} is {status}")
        key.update(LastRolloverTime=iso(server.now), ActiveKey=_pointer())
        if key.get("KeyType") == KSK_TYPE:
            key["CurrentRolloverStatus"] = "KskWaitingForDSUpdate"
        else:
            key.update(CurrentRolloverStatus="NotRolling", StandbyKey=_pointer())
        _schedule(server, key)
    return public_record(key)


# -- zones ------------------------------------------------------------------------------------
def _validate_zone_signable(z: dict[str, Any], cmdlet: str) -> None:
    keys = z.get("SigningKeys") or []
    _check(lim.check_signing_keys(_pairs(keys)), cmdlet)
    setting = z.get("DnsSecSetting") or {}
    denial = setting.get("DenialOfExistence") or lim.DEFAULT_DNSSEC_SETTING["DenialOfExistence"]
    _check(lim.check_denial_compatible(str(denial), [str(k.get("CryptoAlgorithm")) for k in keys]), cmdlet)
    if str(denial).lower() == "nsec3":
        iterations = int(setting.get("NSec3Iterations", lim.DEFAULT_DNSSEC_SETTING["NSec3Iterations"]) or 0)
        _check(lim.check_nsec3_iterations(iterations, [int(k.get("KeyLength") or 0) for k in keys]), cmdlet)


def zone_sign(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["zone_sign"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    defaults, resign = bool(params.get("SignWithDefault")), bool(params.get("DoResign"))
    has_keys = bool(z.get("SigningKeys"))
    if defaults:
        if (z.get("IsSigned") or has_keys) and not resign:
            raise _fail(9102, cmdlet, f"{z['ZoneName']} already has keys; -SignWithDefault needs -DoResign")
        master = z.get("DnsSecSetting") or {}
        z["SigningKeys"] = []
        z["DnsSecSetting"] = None
        setting = _setting(server, z)
        for name in ("IsKeyMasterServer", "KeyMasterServer", "KeyMasterStatus"):
            if name in master:
                setting[name] = master[name]
        for key_type in (KSK_TYPE, ZSK_TYPE):
            key_add(server, {"ZoneName": z["ZoneName"], "KeyType": key_type, "CryptoAlgorithm": "RsaSha256"})
    else:
        if z.get("IsSigned") and not resign:
            raise _fail(9102, cmdlet, f"{z['ZoneName']} is already signed; use -DoResign to re-sign it")
        _validate_zone_signable(z, cmdlet)
    z["IsSigned"] = True
    _setting(server, z)["IsSigned"] = True
    return zone_record(z)


def zone_unsign(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["zone_unsign"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    require_signed(z, cmdlet)
    z["IsSigned"] = False
    if isinstance(z.get("DnsSecSetting"), dict):
        z["DnsSecSetting"]["IsSigned"] = False
    return zone_record(z)


def zone_dnssec_set(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["zone_dnssec_set"]
    z = primary_zone(server, params, cmdlet)
    _require_key_master(z, cmdlet)
    current = _setting(server, z)
    s = copy.deepcopy(current)
    invalid = f"ParameterArgumentValidationError,{cmdlet}"
    if params.get("DenialOfExistence") is not None:
        d = lim.canonical(str(params["DenialOfExistence"]), lim.DENIAL_VALUES)
        if d is None:
            raise CmdletError(
                f"Cannot validate argument on parameter 'DenialOfExistence': "
                f"{params['DenialOfExistence']!r}.",
                cmdlet=cmdlet,
                fully_qualified_error_id=invalid,
            )
        s["DenialOfExistence"] = d
    if params.get("NSec3Iterations") is not None:
        s["NSec3Iterations"] = int(params["NSec3Iterations"])
    if params.get("NSec3OptOut") is not None:
        s["NSec3OptOut"] = bool(params["NSec3OptOut"])
    if params.get("NSec3RandomSaltLength") is not None:
        length = int(params["NSec3RandomSaltLength"])
        problem = lim.nsec3_salt_length_problem(length)
        if problem is not None:
            low, high = lim.NSEC3_SALT_LENGTHS
            raise _invalid(
                cmdlet,
                "NSec3RandomSaltLength",
                f"The {length} argument is outside the allowed range of {low} to {high}. Supply an "
                "argument in that range and then try the command again.",
            )
        s["NSec3RandomSaltLength"] = length
        s["NSec3UserSalt"] = lim.NO_SALT
    if params.get("NSec3UserSalt") is not None:
        s["NSec3UserSalt"] = str(params["NSec3UserSalt"]) or lim.NO_SALT
        s["NSec3RandomSaltLength"] = 0
    for name, allowed in (
        ("DSRecordGenerationAlgorithm", lim.DS_DIGESTS),
        ("DistributeTrustAnchor", ("None", "DnsKey")),
    ):
        values = params.get(name)
        if values is not None:
            if isinstance(values, str):
                values = [values]
            canon = [lim.canonical(str(v), allowed) for v in values]
            if not canon or any(c is None for c in canon):
                raise CmdletError(
                    f"Cannot validate argument on parameter '{name}': {values!r}.",
                    cmdlet=cmdlet,
                    fully_qualified_error_id=invalid,
                )
            s[name] = [c for c in canon if c]
    keys = z.get("SigningKeys") or []
    _check(
        lim.check_denial_compatible(
            str(s.get("DenialOfExistence")), [str(k.get("CryptoAlgorithm")) for k in keys]
        ),
        cmdlet,
    )
    if str(s.get("DenialOfExistence")).lower() == "nsec3":
        _check(
            lim.check_nsec3_iterations(
                int(s.get("NSec3Iterations") or 0), [int(k.get("KeyLength") or 0) for k in keys]
            ),
            cmdlet,
        )
    _refresh_salt(s)
    current.clear()
    current.update(s)
    return public_record(current)


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "key_add": key_add,
    "key_remove": key_remove,
    "key_set": key_set,
    "key_rollover": key_rollover,
    "zone_sign": zone_sign,
    "zone_unsign": zone_unsign,
    "zone_dnssec_set": zone_dnssec_set,
}
