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

``apply_plan`` makes the changes through ``admin.apply_change`` (guard, audit log and all),
then re-audits; ``PlanResult`` says which claimed findings are gone, which remain, which are new.
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
from toolkit.model import DenialOfExistence, DsDigest, ServerInventory, Zone
from toolkit.model.enums import ZoneType
from toolkit.remote.base import Remote
from toolkit.services.admin import Change, Options, Outcome, apply_change, fill_placeholders, indented

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = [
    "plan_lines",
    "result_lines",
    "FixItem",
    "ManualItem",
    "Plan",
    "PlanResult",
    "apply_plan",
    "finding_key",
    "plan_fixes",
    "plan_server",
]

FindingKey = tuple[str, str, str, str]


def finding_key(f: Finding) -> FindingKey:
    """What identifies a finding across audits (messages may change, targets do not)."""
    t = f.target
    return (f.rule_id, t.server.lower(), (t.zone or "").lower().rstrip("."), (t.key_id or "").lower())


@dataclass(frozen=True, slots=True)
class FixItem:
    change: Change
    reason: str
    claims: tuple[Finding, ...]


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
class PlanResult:
    plan: Plan
    outcomes: tuple[Outcome, ...] = ()
    fixed: tuple[Finding, ...] = ()
    still_open: tuple[Finding, ...] = ()  # claimed by the plan but still reported
    new: tuple[Finding, ...] = ()
    failures: tuple[str, ...] = ()
    after: HostReport | None = None


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


def _candidates(zone: Zone, inventory: ServerInventory, policy: Policy) -> Iterable[tuple[Change, str]]:
    from toolkit.services.key_defaults import key_defaults

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
                )
    if zone.signed:
        for key in zone.keys:
            if key.is_active and not key.rollover_enabled:
                yield (
                    Change(
                        "keys rollover enable",
                        "key_rollover",
                        {"Action": "enable", "ZoneName": name, "KeyId": key.key_id},
                    ),
                    f"enable automatic rollover of {key.key_type.short} {key.key_id} "
                    f"(every {lim.DEFAULT_ROLLOVER_DAYS[key.key_type.value]} days)",
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
                "NSEC3 with 0 extra iterations and no salt (RFC 9276)",
            )
        if tuple(s.ds_record_generation_algorithm) != (DsDigest.SHA256,):
            yield (
                Change(
                    "zone dnssec set",
                    "zone_dnssec_set",
                    {"ZoneName": name, "DSRecordGenerationAlgorithm": ["Sha256"]},
                ),
                "generate SHA-256 DS records only (RFC 8624: SHA-1 DS MUST NOT be used)",
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
        for change, reason in _candidates(zone, inventory, chosen):
            zone_now = current.zone(zone.name)
            assert zone_now is not None
            check = preflight(current, change.script, change.params)
            if not check.ok or check.after is None:
                continue
            after_zone = _settle(check.after, change)
            modelled = current.replace(
                zones=tuple(after_zone if z.name == zone_now.name else z for z in current.zones)
            )
            after = {finding_key(f) for f in evaluate(modelled)}
            cleared = [f for k, f in open_keys.items() if k not in after]
            introduced = after - set(open_keys)
            if not cleared or introduced:
                continue
            fixes.append(FixItem(change, reason, tuple(cleared)))
            for f in cleared:
                open_keys.pop(finding_key(f))
            current = modelled
    manual = tuple(ManualItem(f, _remediation(f)) for f in open_keys.values())
    return Plan(inventory.server.name, tuple(fixes), manual)


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
                period = k.rollover_period or timedelta(days=lim.DEFAULT_ROLLOVER_DAYS[k.key_type.value])
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
) -> PlanResult:
    """Make every change of ``plan`` (each through the guard and the audit log), then re-audit."""
    from toolkit.services.audit import audit_server

    outcomes: list[Outcome] = []
    failures: list[str] = []
    for item in plan.fixes:
        try:
            outcomes.append(apply_change(remote, item.change, options))
        except WindnsError as exc:
            failures.append(f"{item.change.action} on {item.change.zone}: {exc}")
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
    )


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
        lines.extend(f"     fixes {f.rule_id}: {f.message}" for f in item.claims)
    if plan.manual:
        lines.append("  Needs a person:")
    for m in plan.manual:
        where = m.finding.target.zone or m.finding.target.server
        lines.append(f"  - {m.finding.rule_id} {where}: {m.finding.message}")
        lines.append("    remediation:")
        lines.extend(indented(m.remediation, "      "))
    return lines


def result_lines(result: PlanResult) -> list[str]:
    """What ``windns fix --apply`` reports after re-auditing."""
    p = result.plan
    lines = [f"{p.server}: applied {len(result.outcomes)} of {len(p.fixes)} change(s); re-audited:"]
    lines.extend(f"  fixed    {f.rule_id} {f.target.zone or ''}".rstrip() for f in result.fixed)
    lines.extend(f"  open     {f.rule_id} {f.target.zone or ''}: {f.message}" for f in result.still_open)
    lines.extend(f"  new      {f.rule_id} {f.target.zone or ''}: {f.message}" for f in result.new)
    lines.extend(f"  failed   {line}" for line in result.failures)
    return lines
