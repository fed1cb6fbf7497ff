"""Admin changes: one library function per operation, one engine that makes any change safely.

Every operation (``add_key``, ``remove_keys``, ``set_key``, ``rollover``, ``sign_zone``,
``unsign_zone``, ``set_zone_dnssec``, ``export_keys``) builds a ``Change`` (one script in
``ps_scripts/`` with typed parameters) and hands it to ``apply_change``, which:

1. reads the zone's current state (one inventory run for that zone);
2. completes unset parameters from it and the policy (a new key gets the zone's algorithm and
   the policy's length, rollover period and signature validity: ``toolkit.services.key_defaults``),
   so the plan shows exactly what will be sent, and notes where each default came from;
3. runs the pre-flight guard (``toolkit.guard``) and refuses with ``GuardError`` before anything
   is sent, unless ``force`` (which skips our guard, never the server's, and says so); a change
   that steps, rolls, retires or removes a KSK of a signed zone also needs the parent to publish
   a DS for a KSK that stays, asked over DNS (``toolkit.services.parent_ds``), unless
   ``ds_confirmed``;
4. with ``dry_run`` stops there: nothing is sent;
5. asks for confirmation of destructive changes (remove, unsign, re-sign) unless ``assume_yes``;
6. runs the script; a server refusal comes back as ``CmdletError`` with its Win32 code.

Every attempt, refused or done, is appended to the audit log (``toolkit.audit_log``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from toolkit import dnssec_limits as lim
from toolkit.audit_log import AuditLog, Operator
from toolkit.errors import CmdletError, GuardError, WindnsError
from toolkit.guard import Preflight, preflight
from toolkit.model import ServerInventory, SigningKey, Zone
from toolkit.remote.base import Remote

if TYPE_CHECKING:
    from toolkit.policy import Policy
    from toolkit.services.audit import DnsViewOptions

__all__ = [
    "Cancelled",
    "Change",
    "ConfirmationRequired",
    "Options",
    "Outcome",
    "add_key",
    "apply_change",
    "describe_failure",
    "export_keys",
    "fill_placeholders",
    "indented",
    "record_attempt",
    "remove_keys",
    "rollover",
    "set_key",
    "set_zone_dnssec",
    "sign_zone",
    "unsign_zone",
]

ROLLOVER_ACTIONS = ("enable", "disable", "step", "now")


class ConfirmationRequired(GuardError):
    """A destructive change with nobody to confirm it (no terminal, no --yes)."""


class Cancelled(GuardError):
    """The operator answered no."""


@dataclass(frozen=True, slots=True)
class Change:
    """One admin operation: a script of ``ps_scripts/`` and the typed parameters it gets."""

    action: str  # what the operator asked for: "keys remove"
    script: str  # ps_scripts/<script>.ps1
    params: Mapping[str, Any]
    destructive: bool = False
    read_only: bool = False

    @property
    def zone(self) -> str:
        return str(self.params.get("ZoneName") or "")

    @property
    def cmdlet(self) -> str:
        if self.script == "key_rollover":
            return lim.CMDLETS[f"key_rollover:{self.params.get('Action')}"]
        return lim.CMDLETS[self.script]

    def with_params(self, **params: Any) -> Change:
        merged = {**self.params, **{k: v for k, v in params.items() if v is not None}}
        return Change(self.action, self.script, merged, self.destructive, self.read_only)

    def command_line(self) -> str:
        """The cmdlet call this change makes, as PowerShell would show it (display only)."""
        parts = [self.cmdlet]
        for name, value in self.params.items():
            if name == "Action":
                continue
            if name.endswith("Seconds"):
                parts.append(f"-{name[: -len('Seconds')]} ([TimeSpan]::FromSeconds({_num(value)}))")
            elif isinstance(value, bool):
                parts.append(
                    f"-{_cmdlet_param(name)}"
                    if value and name in _SWITCHES
                    else f"-{_cmdlet_param(name)} ${str(value).lower()}"
                )
            elif isinstance(value, list | tuple):
                parts.append(f"-{_cmdlet_param(name)} " + ",".join(_ps(v) for v in value))
            else:
                parts.append(f"-{_cmdlet_param(name)} {_ps(value)}")
        return " ".join(parts)


_SWITCHES = frozenset({"SignWithDefault", "DoResign"})


def _cmdlet_param(name: str) -> str:
    return {"KeyType": "Type"}.get(name, name)


def _num(v: Any) -> str:
    return f"{float(v):g}" if not isinstance(v, int) else str(v)


def _ps(v: Any) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return _num(v)
    return "'" + str(v).replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Options:
    """How to make a change. ``confirm`` is None when nobody can be asked (no terminal).

    ``dns``: where to ask the parent's DS before a KSK change (``ds_from``, else ``server``, else
    the Windows server itself on port 53); ``ds_confirmed``: the operator has checked the parent,
    do not ask. ``policy``: where a new key's defaults come from (None: the baseline profile).
    """

    dry_run: bool = False
    force: bool = False
    assume_yes: bool = False
    confirm: Callable[[Change], bool] | None = None
    warn: Callable[[str], None] = field(default=lambda _msg: None)
    audit_log: AuditLog | None = None
    operator: Operator | None = None
    dns: DnsViewOptions | None = None
    ds_confirmed: bool = False
    policy: Policy | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened: the change as sent (or planned), the guard's view, the script's output."""

    server: str
    change: Change
    preflight: Preflight | None
    dry_run: bool
    forced: bool
    data: Any = None
    #: what the change found or chose on its way (the parent's DS, defaults and where they came from)
    notes: tuple[str, ...] = ()

    @property
    def plan_line(self) -> str:
        return f"{self.server}: {self.change.command_line()}"

    def signing_keys(self) -> list[SigningKey]:
        """The signing keys the change's script printed (add, set, rollover), as descriptors;
        ``NormaliseError`` (one line) when the output is not keys."""
        from toolkit.normalise import signing_key_from_json

        records = self.data if isinstance(self.data, list) else [] if self.data is None else [self.data]
        return [signing_key_from_json(r, f"$[{i}]") for i, r in enumerate(records)]


# -- the engine ---------------------------------------------------------------------------------
def _complete(change: Change, inventory: ServerInventory, policy: Policy | None) -> tuple[Change, list[str]]:
    """Fill what Windows would default with the policy's defaults (``key_defaults``), so the plan
    is exact and the new key passes the toolkit's own audit; the notes say where each came from."""
    if change.script != "key_add":
        return change, []
    from toolkit.policy import default_policy
    from toolkit.services.key_defaults import key_defaults

    found = key_defaults(
        inventory.zone(change.zone),
        str(change.params.get("KeyType")),
        change.params,
        policy or default_policy(),
        inventory,
    )
    completed = change.with_params(**found.params)
    alg = completed.params.get("CryptoAlgorithm")
    canon = lim.canonical(str(alg), lim.ALGORITHMS)
    if canon is not None and canon != alg:
        completed = completed.with_params(CryptoAlgorithm=canon)
    return completed, list(found.notes)


def _error_record(exc: WindnsError) -> dict[str, Any]:
    code = getattr(exc, "code", None)
    name = None
    if code is not None:
        from toolkit.catalogue import get

        err = get(code)
        name = err.name if err is not None else None
    return {"kind": exc.kind, "code": code, "name": name, "message": exc.message}


def record_attempt(
    options: Options, server: str, change: Change, result: str, error: WindnsError | None = None
) -> None:
    """Append one audit-log entry for ``change`` (``result``: done, planned, refused, failed,
    cancelled); nothing when ``options`` has no audit log or the change only reads."""
    log = options.audit_log
    if log is None or change.read_only:
        return
    operator = options.operator or Operator.current()
    entry: dict[str, Any] = {
        "operator": {"local": operator.local, "remote": operator.remote},
        "server": server,
        "zone": change.zone,
        "action": change.action,
        "cmdlet": change.cmdlet,
        "parameters": dict(change.params),
        "dry_run": options.dry_run,
        "forced": options.force,
        "result": result,
    }
    if options.ds_confirmed:
        entry["ds_confirmed"] = True
    if error is not None:
        entry["error"] = _error_record(error)
    log.append(entry)


def apply_change(remote: Remote, change: Change, options: Options | None = None) -> Outcome:
    """Make ``change`` on the server behind ``remote`` safely (see the module docstring)."""
    from toolkit.services.audit import collect

    opts = options or Options()
    log = opts.audit_log if not change.read_only else None

    def record(result: str, sent: Change, error: WindnsError | None = None) -> None:
        record_attempt(opts, remote.host, sent, result, error)

    if log is not None:
        log.ensure_writable()
    check: Preflight | None = None
    inventory: ServerInventory | None = None
    try:
        inventory = collect(remote, [change.zone])
    except WindnsError as exc:
        if not opts.force:
            record("refused", change, exc)
            raise
        opts.warn(f"--force: could not read the current state ({exc}); sending without a pre-flight check")
    notes: list[str] = []
    if inventory is not None:
        change, notes = _complete(change, inventory, opts.policy)
        check = preflight(inventory, change.script, change.params)
    if opts.force:
        opts.warn("--force: our pre-flight guard is skipped (the server still validates the change)")
        for r in check.refusals if check else ():
            opts.warn(f"--force: the guard would have refused: {r.summary()}")
    elif check is not None and check.refusals:
        err = check.refusals[0].error()
        record("refused", change, err)
        raise err
    if not opts.force and check is not None and check.before is not None:
        notes += _parent_ds(remote, check.before, change, opts, record)
    outcome = Outcome(remote.host, change, check, opts.dry_run, opts.force, notes=tuple(notes))
    if opts.dry_run:
        record("planned", change)
        return outcome
    if change.destructive and not opts.assume_yes:
        if opts.confirm is None:
            err = ConfirmationRequired(
                f"{change.action} on {change.zone} is destructive: confirm it on a terminal or pass --yes. "
                "Nothing was sent."
            )
            record("refused", change, err)
            raise err
        if not opts.confirm(change):
            cancelled = Cancelled(f"{change.action} on {change.zone} cancelled. Nothing was sent.")
            record("cancelled", change, cancelled)
            raise cancelled
    try:
        result = remote.run(change.script, change.params)
    except WindnsError as exc:
        record("failed", change, exc)
        raise
    record("done", change)
    return Outcome(remote.host, change, check, False, opts.force, result.data, tuple(notes))


def _parent_ds(
    remote: Remote, zone: Zone, change: Change, opts: Options, record: Callable[..., None]
) -> list[str]:
    """The parent-DS check of a KSK change: raise its refusal, or return what it found."""
    from toolkit.services import parent_ds

    try:
        found = parent_ds.check(
            remote, zone, change.script, change.params, opts.dns, confirmed=opts.ds_confirmed
        )
    except WindnsError as exc:
        record("refused", change, exc)
        raise
    if found.refusal is not None:
        err = found.refusal.error()
        record("refused", change, err)
        raise err
    if found.warning:
        opts.warn(found.warning)
    return [found.note] if found.note else []


# -- one function per operation -----------------------------------------------------------------
def _secs(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def add_key(
    remote: Remote,
    zone: str,
    key_type: str,
    *,
    algorithm: str | None = None,
    length: int | None = None,
    rollover_period: timedelta | None = None,
    initial_rollover_offset: timedelta | None = None,
    dnskey_validity: timedelta | None = None,
    ds_validity: timedelta | None = None,
    zone_validity: timedelta | None = None,
    store_in_ad: bool | None = None,
    key_storage_provider: str | None = None,
    options: Options | None = None,
) -> Outcome:
    """Add-DnsServerSigningKey. ``key_type``: KSK/ZSK or KeySigningKey/ZoneSigningKey."""
    canon_type = lim.canonical(
        {"ksk": "KeySigningKey", "zsk": "ZoneSigningKey"}.get(key_type.lower(), key_type),
        ("KeySigningKey", "ZoneSigningKey"),
    )
    if canon_type is None:
        raise ValueError(f"key type must be KSK or ZSK, not {key_type!r}")
    change = Change(
        "keys add",
        "key_add",
        _params(
            ZoneName=zone,
            KeyType=canon_type,
            CryptoAlgorithm=algorithm,
            KeyLength=length,
            RolloverPeriodSeconds=_secs(rollover_period),
            InitialRolloverOffsetSeconds=_secs(initial_rollover_offset),
            DnsKeySignatureValidityPeriodSeconds=_secs(dnskey_validity),
            DSSignatureValidityPeriodSeconds=_secs(ds_validity),
            ZoneSignatureValidityPeriodSeconds=_secs(zone_validity),
            StoreKeysInAD=store_in_ad,
            KeyStorageProvider=key_storage_provider,
        ),
    )
    return apply_change(remote, change, options)


def remove_keys(
    remote: Remote, zone: str, key_ids: Sequence[str], *, options: Options | None = None
) -> Outcome:
    """Remove-DnsServerSigningKey (destructive)."""
    if not key_ids:
        raise ValueError("at least one key id is required")
    change = Change(
        "keys remove", "key_remove", {"ZoneName": zone, "KeyId": [str(k) for k in key_ids]}, destructive=True
    )
    return apply_change(remote, change, options)


def set_key(
    remote: Remote,
    zone: str,
    key_id: str,
    *,
    rollover_period: timedelta | None = None,
    dnskey_validity: timedelta | None = None,
    ds_validity: timedelta | None = None,
    zone_validity: timedelta | None = None,
    next_action: str | None = None,
    options: Options | None = None,
) -> Outcome:
    """Set-DnsServerSigningKey."""
    params = _params(
        ZoneName=zone,
        KeyId=str(key_id),
        RolloverPeriodSeconds=_secs(rollover_period),
        DnsKeySignatureValidityPeriodSeconds=_secs(dnskey_validity),
        DSSignatureValidityPeriodSeconds=_secs(ds_validity),
        ZoneSignatureValidityPeriodSeconds=_secs(zone_validity),
        NextRolloverAction=next_action,
    )
    if len(params) == 2:
        raise ValueError("nothing to change: give at least one setting")
    return apply_change(remote, Change("keys set", "key_set", params), options)


def rollover(
    remote: Remote,
    zone: str,
    key_id: str,
    action: str,
    *,
    rollover_period: timedelta | None = None,
    initial_rollover_offset: timedelta | None = None,
    options: Options | None = None,
) -> Outcome:
    """Enable-/Disable-/Step-/Invoke-DnsServerSigningKeyRollover (``action`` enable|disable|step|now)."""
    act = action.lower()
    if act not in ROLLOVER_ACTIONS:
        raise ValueError(f"rollover action must be one of {', '.join(ROLLOVER_ACTIONS)}")
    if act != "enable" and (rollover_period is not None or initial_rollover_offset is not None):
        raise ValueError("a rollover period or initial offset only goes with 'enable'")
    params = _params(
        Action=act,
        ZoneName=zone,
        KeyId=str(key_id),
        RolloverPeriodSeconds=_secs(rollover_period),
        InitialRolloverOffsetSeconds=_secs(initial_rollover_offset),
    )
    return apply_change(remote, Change(f"keys rollover {act}", "key_rollover", params), options)


def sign_zone(
    remote: Remote, zone: str, *, defaults: bool = False, resign: bool = False, options: Options | None = None
) -> Outcome:
    """Invoke-DnsServerZoneSign. Re-signing (``resign``) is destructive."""
    params: dict[str, Any] = {"ZoneName": zone}
    if defaults:
        params["SignWithDefault"] = True
    if resign:
        params["DoResign"] = True
    return apply_change(remote, Change("zone sign", "zone_sign", params, destructive=resign), options)


def unsign_zone(remote: Remote, zone: str, *, options: Options | None = None) -> Outcome:
    """Invoke-DnsServerZoneUnsign (destructive)."""
    return apply_change(
        remote, Change("zone unsign", "zone_unsign", {"ZoneName": zone}, destructive=True), options
    )


def set_zone_dnssec(
    remote: Remote,
    zone: str,
    *,
    denial: str | None = None,
    nsec3_iterations: int | None = None,
    nsec3_salt_length: int | None = None,
    nsec3_salt: str | None = None,
    opt_out: bool | None = None,
    ds_digests: Sequence[str] | None = None,
    distribute_trust_anchor: Sequence[str] | None = None,
    options: Options | None = None,
) -> Outcome:
    """Set-DnsServerDnsSecZoneSetting."""
    if nsec3_salt_length is not None and nsec3_salt is not None:
        raise ValueError("give a random salt length or a salt, not both")
    params = _params(
        ZoneName=zone,
        DenialOfExistence=denial,
        NSec3Iterations=nsec3_iterations,
        NSec3RandomSaltLength=nsec3_salt_length,
        NSec3UserSalt=nsec3_salt,
        NSec3OptOut=opt_out,
        DSRecordGenerationAlgorithm=list(ds_digests) if ds_digests is not None else None,
        DistributeTrustAnchor=list(distribute_trust_anchor) if distribute_trust_anchor is not None else None,
    )
    if len(params) == 1:
        raise ValueError("nothing to change: give at least one setting")
    return apply_change(remote, Change("zone dnssec set", "zone_dnssec_set", params), options)


def export_keys(
    remote: Remote, zone: str, *, digests: Sequence[str] | None = None, options: Options | None = None
) -> Outcome:
    """Export-DnsServerDnsSecPublicKey: the zone's DNSKEY records, or DS records for ``digests``."""
    params: dict[str, Any] = {"ZoneName": zone}
    if digests:
        params["DigestType"] = list(digests)
    return apply_change(
        remote, Change("zone export-keys", "zone_export_keys", params, read_only=True), options
    )


def fill_placeholders(text: str, **values: str | None) -> str:
    """``text`` with ``<Zone>``-style placeholders replaced by the known ``values`` (``Zone=...``).

    A placeholder inside single quotes (``'<Zone>'``) gets the value quoted as PowerShell quotes it;
    placeholders without a value stay, for the reader to fill.
    """
    for name, value in values.items():
        if value is None:
            continue
        text = text.replace(f"'<{name}>'", "'" + value.replace("'", "''") + "'")
        text = text.replace(f"<{name}>", value)
    return text


def indented(text: str, indent: str = "    ") -> list[str]:
    """``text`` as lines, each indented, blank lines and common indentation dropped."""
    return [indent + line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines() if line.strip()]


def describe_failure(exc: CmdletError, *, zone: str | None = None, key_id: str | None = None) -> str | None:
    """The catalogue's explanation of a server refusal, over several lines: ``NAME (code): message``,
    then how to resolve it (indented, with the zone and key filled in)."""
    if exc.code is None:
        return None
    from toolkit.catalogue import get

    err = get(exc.code)
    if err is None:
        return None
    lines = [f"{err.name} ({err.code}): {err.message}"]
    if err.resolve:
        filled = fill_placeholders(err.resolve, Zone=zone, KeyId=key_id, Cmdlet=exc.cmdlet)
        lines += ["  Resolve:", *indented(filled)]
    return "\n".join(lines)
