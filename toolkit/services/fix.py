"""Remediation plans: from an audit, the safe automatic fixes and what must be done by hand.

``plan_fixes(inventory, findings)`` proposes candidate changes that are always safe to make
(add a missing KSK or ZSK matching the zone's algorithm, with the policy's defaults for its
length, rollover period and signature validity (``toolkit.services.key_defaults``), enable
automatic rollover, NSEC3 with 0 iterations and no salt (``NSec3UserSalt '-'``, which the script
sends with a random salt length of 0), SHA-256 DS generation), models each on
the inventory with the pre-flight guard, re-runs the rules on the modelled result and keeps a
candidate only when the guard accepts it and it clears findings without raising new ones. So a
plan claims exactly the findings its changes make disappear, whatever the rule ids are. Every
other finding is listed with the manual remediation its rule documents.

A fix is every step its change needs: NSEC3 settings of a signed zone are followed by a re-sign
with the zone's own keys (``Invoke-DnsServerZoneSign -DoResign`` without ``-SignWithDefault``,
which with both switches would drop the keys), else the zone keeps serving the old chain (DNS014).

``apply_plan`` makes the steps in order through ``admin.apply_change`` (guard, audit log and
all) and stops at the first that fails, then re-audits; ``PlanResult`` says which steps were
made, which claimed findings are gone, which remain, which are new, what the DNS side serves
after an NSEC3 fix (or that the check was skipped), and the DS records of each KSK added.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from toolkit import dnssec_limits as lim
from toolkit.errors import WindnsError
from toolkit.findings import Finding, HostReport
from toolkit.guard import preflight
from toolkit.model import DenialOfExistence, DsDigest, ServerInventory, Zone, zone_key
from toolkit.model.enums import ZoneType
from toolkit.remote.base import Remote
from toolkit.services.admin import Change, Options, Outcome, apply_change, fill_placeholders, indented

if TYPE_CHECKING:
    from toolkit.policy import Policy
    from toolkit.services.audit import DnsViewOptions

__all__ = [
    "plan_lines",
    "result_lines",
    "FixItem",
    "ManualItem",
    "Plan",
    "PlanResult",
    "Verification",
    "apply_plan",
    "finding_key",
    "plan_fixes",
    "plan_server",
]

FindingKey = tuple[str, str, str, str]


def finding_key(f: Finding) -> FindingKey:
    """What identifies a finding across audits (messages may change, targets do not)."""
    t = f.target
    return (f.rule_id, t.server.lower(), zone_key(t.zone or ""), (t.key_id or "").lower())


@dataclass(frozen=True, slots=True)
class FixItem:
    """One fix: its ``change``, then the steps that change needs (``then``: a re-sign after
    NSEC3 settings), why, and the findings it clears."""

    change: Change
    reason: str
    claims: tuple[Finding, ...]
    then: tuple[Change, ...] = ()

    @property
    def steps(self) -> tuple[Change, ...]:
        """Every change of the fix, in the order they are made."""
        return (self.change, *self.then)


@dataclass(frozen=True, slots=True)
class ManualItem:
    finding: Finding
    remediation: str


@dataclass(frozen=True, slots=True)
class Plan:
    server: str
    fixes: tuple[FixItem, ...] = ()
    manual: tuple[ManualItem, ...] = ()
    error: str | None = None  # the server could not be audited

    @property
    def claimed(self) -> set[FindingKey]:
        return {finding_key(f) for item in self.fixes for f in item.claims}


@dataclass(frozen=True, slots=True)
class Verification:
    """What the DNS side showed after a fix: ``ok`` True (served as changed), False (not yet, or
    not at all), None (not checked: ``message`` says why)."""

    zone: str
    what: str  # "NSEC3PARAM"
    ok: bool | None
    message: str
    server: str | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Plan
    outcomes: tuple[Outcome, ...] = ()  # the steps made, in order
    fixed: tuple[Finding, ...] = ()
    still_open: tuple[Finding, ...] = ()  # claimed by the plan but still reported
    new: tuple[Finding, ...] = ()
    failures: tuple[str, ...] = ()  # the step that failed (applying stops there)
    after: HostReport | None = None
    not_done: tuple[str, ...] = ()  # the steps after the failure, not attempted
    verifications: tuple[Verification, ...] = ()
    #: (zone, DS records in zone-file form) for each KSK a fix added: to hand to the parent
    ds_for_parent: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Every step made, every claim cleared, nothing seen over DNS contradicts the fix."""
        return not (self.failures or self.still_open or any(v.ok is False for v in self.verifications))


# -- candidates ---------------------------------------------------------------------------------
def _eligible(zone: Zone) -> bool:
    return (
        zone.zone_type is ZoneType.PRIMARY
        and not zone.is_auto_created
        and not zone.errors
        and not (zone.dnssec is not None and zone.dnssec.is_key_master_server is False)
    )


def _active(zone: Zone, key_type: str) -> list[Any]:
    return [k for k in zone.keys if k.key_type.value == key_type and k.is_active]


#: Invoke-DnsServerZoneSign -DoResign without -SignWithDefault re-signs with the zone's own keys;
#: "Both switches on a signed zone = drop keys and re-sign with defaults" (reference, section 1)
_RESIGN_REASON = (
    "then re-sign so the zone serves the new NSEC3 chain (Invoke-DnsServerZoneSign -DoResign: the "
    "zone's own keys; with -SignWithDefault too Windows would drop them and sign with defaults)"
)


def _resign(zone: str) -> Change:
    return Change("zone sign", "zone_sign", {"ZoneName": zone, "DoResign": True}, destructive=True)


Candidate = tuple[Change, str, tuple[Change, ...]]


def _candidates(zone: Zone, inventory: ServerInventory, policy: Policy) -> Iterable[Candidate]:
    from toolkit.services.key_defaults import key_defaults, rollover_period

    name = zone.name
    if zone.keys:
        for key_type, other, short in (
            ("ZoneSigningKey", "KeySigningKey", "ZSK"),
            ("KeySigningKey", "ZoneSigningKey", "KSK"),
        ):
            if not _active(zone, key_type) and _active(zone, other):
                alg = _active(zone, other)[0].algorithm.value  # the pair of the key that is there
                given = {"ZoneName": name, "KeyType": key_type, "CryptoAlgorithm": alg}
                found = key_defaults(zone, key_type, given, policy, inventory)
                yield (
                    Change("keys add", "key_add", {**given, **found.params}),
                    f"add the missing {short} ({alg}, the algorithm of the zone's "
                    f"{'KSK' if short == 'ZSK' else 'ZSK'}; " + "; ".join(found.notes) + ")",
                    (),
                )
    if zone.signed:
        for key in zone.keys:
            if key.is_active and not key.rollover_enabled:
                seconds, note = rollover_period(key.key_type.value, policy, key.rollover_period)
                params: dict[str, Any] = {"Action": "enable", "ZoneName": name, "KeyId": key.key_id}
                windows = key.rollover_period or timedelta(days=lim.DEFAULT_ROLLOVER_DAYS[key.key_type.value])
                if seconds != int(windows.total_seconds()):
                    params["RolloverPeriodSeconds"] = seconds
                yield (
                    Change("keys rollover enable", "key_rollover", params),
                    f"enable automatic rollover of {key.key_type.short} {key.key_id} "
                    f"({key.algorithm.value}; {note})",
                    (),
                )
    s = zone.dnssec
    if s is not None and (zone.signed or zone.keys):
        if s.denial_of_existence is DenialOfExistence.NSEC3 and (s.nsec3_iterations or s.salt_in_use):
            yield (
                Change(
                    "zone dnssec set",
                    "zone_dnssec_set",
                    {"ZoneName": name, "NSec3Iterations": 0, "NSec3UserSalt": lim.NO_SALT},
                ),
                "NSEC3 with 0 extra iterations and no salt (RFC 9276)"
                + (f"; {_RESIGN_REASON}" if zone.signed else ""),
                (_resign(name),) if zone.signed else (),
            )
        if tuple(s.ds_record_generation_algorithm) != (DsDigest.SHA256,):
            yield (
                Change(
                    "zone dnssec set",
                    "zone_dnssec_set",
                    {"ZoneName": name, "DSRecordGenerationAlgorithm": ["Sha256"]},
                ),
                "generate SHA-256 DS records only (RFC 8624: SHA-1 DS MUST NOT be used)",
                (),
            )


def _remediation(finding: Finding) -> str:
    """The manual remediation the finding's rule documents, with its zone and key filled in."""
    from toolkit.rules import get_rule

    text = _rule_text(get_rule(finding.rule_id))
    if text is None:
        return f"see windns explain {finding.rule_id}"
    t = finding.target
    return fill_placeholders(text, Zone=t.zone.rstrip(".") if t.zone else None, KeyId=t.key_id)


def _rule_text(rule: Any) -> str | None:
    """The rule's remediation as written: several lines kept, common indentation removed."""
    value = getattr(rule, "remediation", None) if rule is not None else None
    if not isinstance(value, str) or not value.strip():
        return None
    return textwrap.dedent(value).strip("\n")


def plan_fixes(
    inventory: ServerInventory,
    findings: Sequence[Finding],
    evaluate: Callable[[ServerInventory], Sequence[Finding]],
    policy: Policy | None = None,
) -> Plan:
    """Build the plan for one server. ``evaluate`` runs the rules (with the audit's policy);
    ``policy`` gives new keys their defaults (None: the baseline profile)."""
    from toolkit.policy import default_policy

    chosen = policy or default_policy()
    current = inventory
    open_keys = {finding_key(f): f for f in findings}
    fixes: list[FixItem] = []
    for zone in inventory.zones:
        if not _eligible(zone):
            continue
        for change, reason, then in _candidates(zone, inventory, chosen):
            modelled = _model(current, zone.name, (change, *then))
            if modelled is None:
                continue
            after = {finding_key(f) for f in evaluate(modelled)}
            cleared = [f for k, f in open_keys.items() if k not in after]
            introduced = after - set(open_keys)
            if not cleared or introduced:
                continue
            fixes.append(FixItem(change, reason, tuple(cleared), then))
            for f in cleared:
                open_keys.pop(finding_key(f))
            current = modelled
    manual = tuple(ManualItem(f, _remediation(f)) for f in open_keys.values())
    return Plan(inventory.server.name, tuple(fixes), manual)


def _model(inventory: ServerInventory, zone: str, steps: Sequence[Change]) -> ServerInventory | None:
    """The inventory after ``steps``, each modelled by the guard on the state the previous left
    (None: the guard refuses one of them)."""
    current = inventory
    for step in steps:
        check = preflight(current, step.script, step.params)
        if not check.ok or check.after is None:
            return None
        after_zone = _settle(check.after, step)
        current = current.replace(
            zones=tuple(after_zone if z.name == after_zone.name else z for z in current.zones)
        )
    return current if current.zone(zone) is not None else None


def _settle(zone: Zone, change: Change) -> Zone:
    """Complete the guard's model with what Windows fills in (defaults, schedules, salt)."""
    now = datetime.now(UTC)
    if change.script == "key_add":
        new = zone.keys[-1]
        kt = new.key_type.value
        hours = lim.DEFAULT_VALIDITY_HOURS

        def given(name: str, default: float) -> timedelta:
            value = change.params.get(name)
            return timedelta(seconds=float(value if value is not None else default))

        period = given("RolloverPeriodSeconds", lim.DEFAULT_ROLLOVER_DAYS[kt] * lim.DAY)
        from toolkit.model import NextRolloverAction, RolloverType

        settled = dataclasses.replace(
            new,
            rollover_period=period,
            next_rollover_time=now + period,
            initial_rollover_offset=timedelta(0),
            dnskey_signature_validity=given(
                "DnsKeySignatureValidityPeriodSeconds", hours["DnsKey"] * lim.HOUR
            ),
            ds_signature_validity=given("DSSignatureValidityPeriodSeconds", hours["DS"] * lim.HOUR),
            zone_signature_validity=given("ZoneSignatureValidityPeriodSeconds", hours["Zone"] * lim.HOUR),
            rollover_type=RolloverType.DOUBLE_SIGNATURE if new.is_ksk else RolloverType.PREPUBLISH,
            next_rollover_action=NextRolloverAction.NORMAL,
            key_storage_provider=lim.KEY_STORAGE_PROVIDERS[0],
            store_keys_in_ad=zone.is_ds_integrated,
        )
        return dataclasses.replace(zone, keys=(*zone.keys[:-1], settled))
    if change.script == "key_rollover" and change.params.get("Action") == "enable":
        key_id = str(change.params["KeyId"]).lower()
        keys = []
        for k in zone.keys:
            if k.key_id == key_id:
                asked = change.params.get("RolloverPeriodSeconds")
                period = (
                    timedelta(seconds=float(asked))
                    if asked is not None
                    else k.rollover_period or timedelta(days=lim.DEFAULT_ROLLOVER_DAYS[k.key_type.value])
                )
                k = dataclasses.replace(
                    k, is_rollover_enabled=True, rollover_period=period, next_rollover_time=now + period
                )
            keys.append(k)
        return dataclasses.replace(zone, keys=tuple(keys))
    if change.script == "zone_dnssec_set" and zone.dnssec is not None:
        s = zone.dnssec
        if not s.nsec3_random_salt_length and not s.nsec3_user_salt:
            return dataclasses.replace(zone, dnssec=dataclasses.replace(s, nsec3_current_salt=None))
    return zone


def plan_server(report: HostReport, policy: Policy | None = None, *, now: datetime | None = None) -> Plan:
    """The plan for one audited server (``report`` from ``audit_server``)."""
    if report.error is not None or report.inventory is None:
        message = report.error.message if report.error is not None else "no inventory"
        return Plan(report.server, error=message)
    from toolkit.rules import evaluate

    def run_rules(inv: ServerInventory) -> Sequence[Finding]:
        return evaluate(inv, policy, now=now)[0]

    return plan_fixes(report.inventory, report.findings, run_rules, policy)


def apply_plan(
    remote: Remote,
    plan: Plan,
    options: Options,
    policy: Policy | None = None,
    *,
    now: datetime | None = None,
    dns: DnsViewOptions | None = None,
) -> PlanResult:
    """Make every step of ``plan`` in order (each through the guard and the audit log), stop at
    the first that fails, then re-audit. Each KSK added gets its DS records exported (to hand to
    the parent); with ``dns`` the NSEC3 fixes are checked over DNS (the served NSEC3PARAM), and
    without it the check is reported as skipped."""
    from toolkit.services.audit import audit_server

    steps = [step for item in plan.fixes for step in item.steps]
    outcomes: list[Outcome] = []
    failures: list[str] = []
    not_done: list[str] = []
    for n, step in enumerate(steps):
        try:
            outcomes.append(apply_change(remote, step, options))
        except WindnsError as exc:
            failures.append(f"{_step_name(step)}: {exc}")
            not_done = [_step_name(s) for s in steps[n + 1 :]]
            break
    ds_for_parent = _ds_for_parent(remote, outcomes)
    verifications = _verify(remote, plan, outcomes, dns)
    after = audit_server(remote, policy, now=now)
    before_claimed = {finding_key(f): f for item in plan.fixes for f in item.claims}
    after_keys = {finding_key(f): f for f in after.findings}
    known = before_claimed.keys() | {finding_key(m.finding) for m in plan.manual}
    return PlanResult(
        plan=plan,
        outcomes=tuple(outcomes),
        fixed=tuple(f for k, f in before_claimed.items() if k not in after_keys),
        still_open=tuple(after_keys[k] for k in before_claimed if k in after_keys),
        new=tuple(f for k, f in after_keys.items() if k not in known),
        failures=tuple(failures),
        after=after,
        not_done=tuple(not_done),
        verifications=tuple(verifications),
        ds_for_parent=tuple(ds_for_parent),
    )


def _step_name(step: Change) -> str:
    return f"{step.action} on {step.zone}"


def _ds_for_parent(remote: Remote, outcomes: Sequence[Outcome]) -> list[tuple[str, str]]:
    """The DS records of each signed zone a fix gave a new KSK (Export-DnsServerDnsSecPublicKey)."""
    from toolkit.services.admin import export_keys

    out: list[tuple[str, str]] = []
    for o in outcomes:
        c = o.change
        if c.script != "key_add" or c.params.get("KeyType") != "KeySigningKey" or o.dry_run:
            continue
        try:
            data = export_keys(remote, c.zone, digests=["Sha256"]).data or {}
        except WindnsError as exc:
            out.append((c.zone, f"; the DS records could not be exported: {exc}"))
            continue
        text = str(data.get("File") or "").strip() if isinstance(data, dict) else ""
        if text:
            out.append((c.zone, text))
    return out


def _expected_nsec3(step: Change) -> tuple[int, str] | None:
    """(iterations, salt hex or "") a zone_dnssec_set step asks for; None when it sets neither."""
    p = step.params
    if p.get("NSec3Iterations") is None or p.get("NSec3UserSalt") is None:
        return None
    salt = str(p["NSec3UserSalt"])
    return int(p["NSec3Iterations"]), "" if salt in ("", lim.NO_SALT) else salt.upper()


def _verify(
    remote: Remote, plan: Plan, outcomes: Sequence[Outcome], dns: DnsViewOptions | None
) -> list[Verification]:
    """The NSEC3PARAM each zone serves after its NSEC3 fix and re-sign were made."""
    made = [o.change for o in outcomes]
    wanted: list[tuple[str, tuple[int, str]]] = []
    for item in plan.fixes:
        expected = _expected_nsec3(item.change) if item.change.script == "zone_dnssec_set" else None
        if expected is not None and all(step in made for step in item.steps):
            wanted.append((item.change.zone, expected))
    if not wanted:
        return []
    if dns is None or not dns.enabled:
        return [
            Verification(z, "NSEC3PARAM", None, "no DNS server given (--dns or --dns-server)")
            for z, _ in wanted
        ]
    from toolkit.dnsview.query import parse_target, zone_view
    from toolkit.errors import ConfigError

    where = dns.server or remote.host
    try:
        target = parse_target(where)
    except ConfigError as exc:
        return [Verification(z, "NSEC3PARAM", None, exc.message, where) for z, _ in wanted]
    out: list[Verification] = []
    for zone, (iterations, salt) in wanted:
        view = zone_view(zone, target, parent=None, opts=dns.query)
        at = str(target)
        if not view.reachable:
            p = view.problems[0] if view.problems else None
            why = f"{p.kind}: {p.message}" if p else "no answer"
            out.append(Verification(zone, "NSEC3PARAM", None, f"{at} gave no answer ({why})", at))
            continue
        served = view.nsec3param
        want = f"{iterations} iterations, " + (f"salt {salt}" if salt else "no salt")
        if served is None:
            out.append(Verification(zone, "NSEC3PARAM", False, f"serves no NSEC3PARAM (expected {want})", at))
        elif (served.iterations, served.salt.upper()) == (iterations, salt):
            out.append(Verification(zone, "NSEC3PARAM", True, want, at))
        else:
            got = f"{served.iterations} iterations, " + (f"salt {served.salt}" if served.salt else "no salt")
            out.append(
                Verification(
                    zone, "NSEC3PARAM", False, f"serves {got}, not {want} (the re-sign not seen yet?)", at
                )
            )
    return out


def _key(f: Finding) -> str:
    """`` (KSK tag 40112, RsaSha256, id ...)`` for a finding that names a key, else nothing."""
    from toolkit.render.common import key_label

    label = key_label(f)
    return f" ({label})" if label else ""


def plan_lines(plan: Plan) -> list[str]:
    """The plan as printed by ``windns fix``: safe fixes with their cmdlet, then manual items."""
    lines = [f"{plan.server}:"]
    if plan.error:
        return [*lines, f"  could not be audited: {plan.error}"]
    if not plan.fixes and not plan.manual:
        lines.append("  nothing to fix")
    if plan.fixes:
        lines.append("  Safe fixes:")
    for i, item in enumerate(plan.fixes, 1):
        lines.append(f"  {i}. {item.change.zone}: {item.reason}")
        lines.append(f"     {item.change.command_line()}")
        lines.extend(f"     then {step.command_line()}" for step in item.then)
        lines.extend(f"     fixes {f.rule_id}{_key(f)}: {f.message}" for f in item.claims)
    if plan.manual:
        lines.append("  Needs a person:")
    for m in plan.manual:
        where = m.finding.target.zone or m.finding.target.server
        lines.append(f"  - {m.finding.rule_id} {where}{_key(m.finding)}: {m.finding.message}")
        lines.append("    remediation:")
        lines.extend(indented(m.remediation, "      "))
    return lines


def result_lines(result: PlanResult) -> list[str]:
    """What ``windns fix --apply`` reports: the steps made (stopping at the first failure), the
    re-audit, the DNS check, and the DS records of any KSK added, with what to do next."""
    p = result.plan
    total = sum(len(item.steps) for item in p.fixes)
    lines = [f"{p.server}: applied {len(result.outcomes)} of {total} step(s); re-audited:"]
    lines.extend(f"  done     {_step_name(o.change)}" for o in result.outcomes)
    lines.extend(f"  failed   {line}" for line in result.failures)
    lines.extend(f"  not done {line} (stopped at the failure above)" for line in result.not_done)
    lines.extend(f"  fixed    {f.rule_id} {f.target.zone or ''}".rstrip() for f in result.fixed)
    lines.extend(f"  open     {f.rule_id} {f.target.zone or ''}: {f.message}" for f in result.still_open)
    lines.extend(f"  new      {f.rule_id} {f.target.zone or ''}: {f.message}" for f in result.new)
    for v in result.verifications:
        if v.ok is None:
            lines.append(f"  skipped  DNS check of {v.zone}: {v.message}")
        else:
            word = "verified  " if v.ok else "unverified"
            lines.append(f"  {word.strip()} {v.what} of {v.zone} at {v.server}: {v.message}")
    for zone, text in result.ds_for_parent:
        lines.append(f"  DS records for the parent of {zone} (a new KSK):")
        lines.extend(f"    {line}" for line in text.splitlines())
        lines.append(
            "  next: hand them to the parent zone's administrator (again any time: windns zone "
            f"export-keys {zone} --ds); once the parent publishes them, check the chain of trust:"
        )
        lines.append(f"    windns dns check {zone} --dns-server <DNS server> --ds-from <parent's server>")
    return lines
