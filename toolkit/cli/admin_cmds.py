"""Admin (write) commands: keys add/remove/set/rollover, zones sign/unsign/dnssec set/export-keys.
`windns fix` and `windns demo export` live in ``fix_cmds``; the shared switches in ``changes``.

Each command parses its options, calls one function of ``toolkit.services.admin`` (which reads
the zone, runs the pre-flight guard, asks for confirmation, sends one script and writes the
audit log) and prints the result. Shared switches: ``--dry-run`` (print the plan, send
nothing), ``--force`` (skip our guard, not the server's), ``--yes`` (confirm destructive
changes without a terminal), ``--audit-log PATH``. The commands that can retire a KSK add
``--ds-from``, ``--dns-timeout`` and ``--ds-confirmed`` (the guard asks the parent's DS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from toolkit import dnssec_limits as lim
from toolkit.cli.app import AppContext, pass_app
from toolkit.cli.changes import admin_options, change_options, ds_options, persist_fake_state
from toolkit.cli.output import KEY_TABLE_COLUMNS, emit, format_option, key_row, policy_options
from toolkit.cli.read_cmds import keys_group, zones_group
from toolkit.errors import CmdletError
from toolkit.remote.base import Remote
from toolkit.services import admin

__all__ = ["Duration", "zone_group"]


class Duration(click.ParamType[timedelta]):
    """A TimeSpan on the command line: seconds, or N followed by d, h, m or s (90d, 168h)."""

    name = "duration"
    _RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhms]?)\s*$", re.IGNORECASE)
    _UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}
    #: the longest a .NET TimeSpan holds (TimeSpan.MaxValue is 10675199 days and a bit)
    MAX_DAYS = 10675199

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        m = self._RE.match(str(value))
        if not m:
            self.fail(f"{value!r} is not a duration (use seconds or 90d, 168h, 30m)", param, ctx)
        seconds = float(m.group(1)) * self._UNIT[m.group(2).lower()]
        if seconds > self.MAX_DAYS * 86400:
            self.fail(f"{value!r} is too long a duration (at most {self.MAX_DAYS} days)", param, ctx)
        return timedelta(seconds=seconds)  # no OverflowError: MAX_DAYS is far below timedelta.max


DURATION = Duration()
_UINT32_MAX = 2**32 - 1  # Add-DnsServerSigningKey -KeyLength is a UInt32


@contextmanager
def _remote(
    app: AppContext, zone: str, cmdlet: str, *, what: str = "change", key_id: str | None = None
) -> Iterator[Remote]:
    """The remote for one change of ``zone`` made by ``cmdlet``; a server error is explained."""
    with app.open_remote() as remote:
        try:
            yield remote
        except CmdletError as exc:
            _explain_failure(exc, zone, cmdlet, what, key_id)
            raise


def _explain_failure(exc: CmdletError, zone: str, cmdlet: str, what: str, key_id: str | None) -> None:
    """The server refused the change itself, or a read before it failed and nothing was sent."""
    text = admin.describe_failure(exc, zone=zone, key_id=key_id)
    if (exc.cmdlet or "").lower() == cmdlet.lower():
        if text:
            click.echo(f"windns: the server refused the {what}: {text}", err=True)
        return
    failing = exc.cmdlet or "the read"
    click.echo(
        f"windns: reading the current state of {zone} failed ({failing}); nothing was sent, "
        f"the {what} was not made" + (f": {text}" if text else ""),
        err=True,
    )


def _run(
    app: AppContext,
    opts: admin.Options,
    call: Callable[[Remote], admin.Outcome],
    *,
    zone: str,
    cmdlet: str,
    key_id: str | None = None,
) -> admin.Outcome:
    with _remote(app, zone, cmdlet, key_id=key_id) as remote:
        outcome = call(remote)
        if not outcome.dry_run and not outcome.change.read_only:
            persist_fake_state(app, remote)
    if outcome.dry_run:
        click.echo("Plan (dry run, nothing sent):")
        click.echo(f"  {outcome.plan_line}")
        if outcome.preflight is not None and outcome.preflight.ok:
            click.echo("  pre-flight guard: no objection")
        for note in outcome.notes:
            click.echo(f"  {note}")
    return outcome


def _show_notes(outcome: admin.Outcome, fmt: str) -> None:
    """What the change found or chose (after it was made): on stdout beside a table, on stderr
    beside JSON (which must stay one document)."""
    if outcome.dry_run:
        return
    for note in outcome.notes:
        if fmt == "json":
            click.echo(f"windns: note: {note}", err=True)
        else:
            click.echo(note)


def _show_keys(outcome: admin.Outcome, fmt: str) -> None:
    if outcome.dry_run or outcome.data is None:
        return
    rows = [key_row(outcome.server, k) for k in outcome.signing_keys()]
    emit(rows, fmt, columns=KEY_TABLE_COLUMNS if fmt == "table" else None)


def _show_record(outcome: admin.Outcome, fmt: str) -> None:
    if outcome.dry_run or outcome.data is None:
        return
    if fmt == "json":
        click.echo(json.dumps(outcome.data, indent=2))
        return
    for k, v in outcome.data.items():
        click.echo(f"{k}: {v}")


fmt_option = format_option(("table", "json"))
zone_opt = click.option("--zone", "-z", required=True, metavar="ZONE", help="The zone.")


def _choice(values: tuple[str, ...]) -> click.Choice[str]:
    return click.Choice(values, case_sensitive=False)


# -- keys ---------------------------------------------------------------------------------------
@keys_group.command("add")
@zone_opt
@click.option(
    "--type", "key_type", required=True, type=_choice(("KSK", "ZSK")), help="Key signing or zone signing key."
)
@click.option(
    "--algorithm",
    type=_choice(lim.ALGORITHMS),
    help="Default: the zone's algorithm if the policy recommends it, else one the policy recommends.",
)
@click.option(
    "--length",
    type=click.IntRange(1, _UINT32_MAX),
    help="Key length in bits: RSA 1024-4096 in steps of 64, ECDSA 256 or 384 (default: the policy's "
    "minimum RSA length, at least Windows's default).",
)
@click.option(
    "--rollover-period",
    type=DURATION,
    help="e.g. 755d (KSK 7-7300 days, ZSK 7-1825 days; default: Windows's, within the policy's range).",
)
@click.option("--initial-rollover-offset", type=DURATION, help="Delay of the first rollover (0-30 days).")
@click.option("--store-in-ad/--no-store-in-ad", default=None, help="Replicate the private key through AD.")
@click.option("--ksp", "ksp", metavar="PROVIDER", help="Key storage provider.")
@policy_options(fail_on=False, why=" the defaults come from (default: the baseline profile)")
@change_options
@fmt_option
@pass_app
def keys_add(
    app: AppContext,
    zone: str,
    key_type: str,
    algorithm: str | None,
    length: int | None,
    rollover_period: timedelta | None,
    initial_rollover_offset: timedelta | None,
    store_in_ad: bool | None,
    ksp: str | None,
    policy_file: Path | None,
    profile: str | None,
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    fmt: str,
) -> None:
    """Add a signing key (Add-DnsServerSigningKey).

    What is not given comes from the policy in effect (--policy/--profile, as for audit), so the
    new key passes the audit: the zone's algorithm when the policy recommends it, the policy's
    minimum RSA length (KEY005), a rollover period and signature validity within its ranges.
    The plan and the output say where each default came from.
    """
    from toolkit.policy import load_policy

    policy = load_policy(policy_file, profile or "baseline")
    opts = admin_options(app, dry_run=dry_run, force=force, yes=yes, audit_log=audit_log, policy=policy)
    outcome = _run(
        app,
        opts,
        lambda r: admin.add_key(
            r,
            zone,
            key_type,
            algorithm=algorithm,
            length=length,
            rollover_period=rollover_period,
            initial_rollover_offset=initial_rollover_offset,
            store_in_ad=store_in_ad,
            key_storage_provider=ksp,
            options=opts,
        ),
        zone=zone,
        cmdlet=lim.CMDLETS["key_add"],
    )
    _show_keys(outcome, fmt)
    _show_notes(outcome, fmt)


@keys_group.command("remove")
@zone_opt
@click.argument("key_ids", nargs=-1, required=True, metavar="KEY_ID...")
@change_options
@ds_options
@fmt_option
@pass_app
def keys_remove(
    app: AppContext,
    zone: str,
    key_ids: tuple[str, ...],
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    ds_from: str | None,
    dns_timeout: float,
    ds_confirmed: bool,
    fmt: str,
) -> None:
    """Remove signing keys (Remove-DnsServerSigningKey). Destructive: asks, or needs --yes.

    Removing a KSK of a signed zone needs the parent to publish the DS of a KSK that stays:
    the guard asks it over DNS (--ds-from), or you confirm it (--ds-confirmed).
    """
    opts = admin_options(
        app,
        dry_run=dry_run,
        force=force,
        yes=yes,
        audit_log=audit_log,
        ds_from=ds_from,
        dns_timeout=dns_timeout,
        ds_confirmed=ds_confirmed,
    )
    outcome = _run(
        app,
        opts,
        lambda r: admin.remove_keys(r, zone, list(key_ids), options=opts),
        zone=zone,
        cmdlet=lim.CMDLETS["key_remove"],
        key_id=key_ids[0] if len(key_ids) == 1 else None,
    )
    if not outcome.dry_run:
        click.echo(f"removed {len(key_ids)} key(s) from {zone} on {outcome.server}")
    _show_notes(outcome, fmt)


@keys_group.command("set")
@zone_opt
@click.argument("key_id")
@click.option("--rollover-period", type=DURATION, help="e.g. 90d.")
@click.option("--dnskey-validity", type=DURATION, help="DNSKEY signature validity (6-720 hours), e.g. 168h.")
@click.option("--ds-validity", type=DURATION, help="DS signature validity (6-720 hours).")
@click.option("--zone-validity", type=DURATION, help="Zone signature validity (6-720 hours).")
@click.option("--next-action", type=_choice(lim.NEXT_ROLLOVER_ACTIONS), help="NextRolloverAction.")
@change_options
@ds_options
@fmt_option
@pass_app
def keys_set(
    app: AppContext,
    zone: str,
    key_id: str,
    rollover_period: timedelta | None,
    dnskey_validity: timedelta | None,
    ds_validity: timedelta | None,
    zone_validity: timedelta | None,
    next_action: str | None,
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    ds_from: str | None,
    dns_timeout: float,
    ds_confirmed: bool,
    fmt: str,
) -> None:
    """Change a key's rollover period, signature validity or next action (Set-DnsServerSigningKey).

    --next-action Retire on a KSK of a signed zone needs the parent to publish the DS of a KSK
    that stays: the guard asks it over DNS (--ds-from), or you confirm it (--ds-confirmed).
    """
    if all(v is None for v in (rollover_period, dnskey_validity, ds_validity, zone_validity, next_action)):
        raise click.UsageError("nothing to change: give at least one option")
    canon = lim.canonical(next_action, lim.NEXT_ROLLOVER_ACTIONS) if next_action else None
    opts = admin_options(
        app,
        dry_run=dry_run,
        force=force,
        yes=yes,
        audit_log=audit_log,
        ds_from=ds_from,
        dns_timeout=dns_timeout,
        ds_confirmed=ds_confirmed,
    )
    outcome = _run(
        app,
        opts,
        lambda r: admin.set_key(
            r,
            zone,
            key_id,
            rollover_period=rollover_period,
            dnskey_validity=dnskey_validity,
            ds_validity=ds_validity,
            zone_validity=zone_validity,
            next_action=canon,
            options=opts,
        ),
        zone=zone,
        cmdlet=lim.CMDLETS["key_set"],
        key_id=key_id,
    )
    _show_keys(outcome, fmt)
    _show_notes(outcome, fmt)


@keys_group.group("rollover")
def keys_rollover() -> None:
    """Key rollover: enable, disable, step (after the parent's DS update) or now."""


def _rollover_command(action: str, help_text: str) -> None:
    @click.argument("key_id")
    @zone_opt
    @change_options
    @fmt_option
    @pass_app
    def command(
        app: AppContext,
        zone: str,
        key_id: str,
        dry_run: bool,
        force: bool,
        yes: bool,
        audit_log: Path | None,
        fmt: str,
        rollover_period: timedelta | None = None,
        initial_rollover_offset: timedelta | None = None,
        ds_from: str | None = None,
        dns_timeout: float = 2.0,
        ds_confirmed: bool = False,
    ) -> None:
        opts = admin_options(
            app,
            dry_run=dry_run,
            force=force,
            yes=yes,
            audit_log=audit_log,
            ds_from=ds_from,
            dns_timeout=dns_timeout,
            ds_confirmed=ds_confirmed,
        )
        outcome = _run(
            app,
            opts,
            lambda r: admin.rollover(
                r,
                zone,
                key_id,
                action,
                rollover_period=rollover_period,
                initial_rollover_offset=initial_rollover_offset,
                options=opts,
            ),
            zone=zone,
            cmdlet=lim.CMDLETS[f"key_rollover:{action}"],
            key_id=key_id,
        )
        _show_keys(outcome, fmt)
        _show_notes(outcome, fmt)

    command.__doc__ = help_text
    if action == "enable":
        command = click.option(
            "--initial-rollover-offset", type=DURATION, help="Delay of the first rollover."
        )(command)
        command = click.option("--rollover-period", type=DURATION, help="e.g. 755d for a KSK.")(command)
    if action in ("step", "now"):
        command = ds_options(command)
    keys_rollover.command(action)(command)


_rollover_command("enable", "Enable automatic rollover (Enable-DnsServerSigningKeyRollover).")
_rollover_command("disable", "Disable automatic rollover (Disable-DnsServerSigningKeyRollover).")
_rollover_command(
    "step",
    """Continue a KSK rollover once the parent has the new DS (Step-DnsServerSigningKeyRollover).

    The guard asks the parent's DS over DNS (--ds-from: the parent zone's server or a resolver;
    default the server itself) and refuses unless a DS matches the new KSK's DNSKEY (key tag,
    algorithm, digest), or you confirm it (--ds-confirmed).
    """,
)
_rollover_command(
    "now",
    """Start a rollover now (Invoke-DnsServerSigningKeyRollover).

    On a KSK of a signed zone the key the parent's DS matches is replaced: the guard asks the
    parent (--ds-from) and refuses unless another KSK with a DS stays, or you confirm (--ds-confirmed).
    """,
)


# -- zones: the changes (``zones list`` is in read_cmds; ``zone`` is the old, hidden spelling) ----
zone_group = zones_group


@zone_group.command("sign")
@click.argument("zone")
@click.option("--defaults", is_flag=True, help="Sign with a default KSK and ZSK (-SignWithDefault).")
@click.option(
    "--resign", is_flag=True, help="Re-sign a signed zone (-DoResign); with --defaults, replace its keys."
)
@change_options
@fmt_option
@pass_app
def zone_sign(
    app: AppContext,
    zone: str,
    defaults: bool,
    resign: bool,
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    fmt: str,
) -> None:
    """Sign a zone (Invoke-DnsServerZoneSign). Re-signing is destructive: asks, or needs --yes."""
    opts = admin_options(app, dry_run=dry_run, force=force, yes=yes, audit_log=audit_log)
    outcome = _run(
        app,
        opts,
        lambda r: admin.sign_zone(r, zone, defaults=defaults, resign=resign, options=opts),
        zone=zone,
        cmdlet=lim.CMDLETS["zone_sign"],
    )
    _show_record(outcome, fmt)


@zone_group.command("unsign")
@click.argument("zone")
@change_options
@fmt_option
@pass_app
def zone_unsign(
    app: AppContext, zone: str, dry_run: bool, force: bool, yes: bool, audit_log: Path | None, fmt: str
) -> None:
    """Unsign a zone (Invoke-DnsServerZoneUnsign). Destructive: asks, or needs --yes."""
    opts = admin_options(app, dry_run=dry_run, force=force, yes=yes, audit_log=audit_log)
    outcome = _run(
        app,
        opts,
        lambda r: admin.unsign_zone(r, zone, options=opts),
        zone=zone,
        cmdlet=lim.CMDLETS["zone_unsign"],
    )
    _show_record(outcome, fmt)


@zone_group.group("dnssec")
def zone_dnssec() -> None:
    """A zone's DNSSEC settings."""


def _csv(values: tuple[str, ...], allowed: tuple[str, ...], option: str) -> list[str] | None:
    if not values:
        return None
    out: list[str] = []
    for raw in values:
        for part in raw.split(","):
            canon = lim.canonical(part, allowed)
            if canon is None:
                raise click.BadParameter(f"{part!r}: choose from {', '.join(allowed)}", param_hint=option)
            out.append(canon)
    return out


@zone_dnssec.command("set")
@click.argument("zone")
@click.option("--nsec", "denial", flag_value="NSec", help="Denial of existence with NSEC.")
@click.option("--nsec3", "denial", flag_value="NSec3", help="Denial of existence with NSEC3.")
@click.option(
    "--nsec3-iterations", type=click.IntRange(0, 65535), help="Extra NSEC3 iterations (RFC 9276: 0)."
)
@click.option(
    "--nsec3-salt-length",
    type=click.IntRange(0, lim.NSEC3_SALT_LENGTHS[1]),
    help="A random salt of this many bytes (1-255); for no salt use --nsec3-salt -.",
)
@click.option("--nsec3-salt", metavar="HEX", help="A user salt in hex, or - for no salt (RFC 9276).")
@click.option("--opt-out/--no-opt-out", default=None, help="NSEC3 opt-out.")
@click.option(
    "--ds-digests", multiple=True, metavar="LIST", help="DS generation digests, e.g. Sha256 (comma list)."
)
@click.option("--distribute-trust-anchor", multiple=True, metavar="LIST", help="None or DnsKey.")
@change_options
@fmt_option
@pass_app
def zone_dnssec_set(
    app: AppContext,
    zone: str,
    denial: str | None,
    nsec3_iterations: int | None,
    nsec3_salt_length: int | None,
    nsec3_salt: str | None,
    opt_out: bool | None,
    ds_digests: tuple[str, ...],
    distribute_trust_anchor: tuple[str, ...],
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    fmt: str,
) -> None:
    """Change DNSSEC settings (Set-DnsServerDnsSecZoneSetting)."""
    if nsec3_salt_length is not None and nsec3_salt is not None:
        raise click.UsageError("--nsec3-salt-length and --nsec3-salt are mutually exclusive")
    if nsec3_salt_length is not None and lim.nsec3_salt_length_problem(nsec3_salt_length):
        low, high = lim.NSEC3_SALT_LENGTHS
        raise click.BadParameter(
            f"a random salt is {low}-{high} bytes; for no salt use --nsec3-salt {lim.NO_SALT}",
            param_hint="--nsec3-salt-length",
        )
    if (
        nsec3_salt is not None
        and nsec3_salt != lim.NO_SALT
        and not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){1,255}", nsec3_salt)
    ):
        raise click.BadParameter("a salt is 1-255 bytes of hex, or - for none", param_hint="--nsec3-salt")
    digests = _csv(ds_digests, lim.DS_DIGESTS, "--ds-digests")
    anchors = _csv(distribute_trust_anchor, ("None", "DnsKey"), "--distribute-trust-anchor")
    if all(
        v is None
        for v in (denial, nsec3_iterations, nsec3_salt_length, nsec3_salt, opt_out, digests, anchors)
    ):
        raise click.UsageError("nothing to change: give at least one option")
    opts = admin_options(app, dry_run=dry_run, force=force, yes=yes, audit_log=audit_log)
    outcome = _run(
        app,
        opts,
        lambda r: admin.set_zone_dnssec(
            r,
            zone,
            denial=denial,
            nsec3_iterations=nsec3_iterations,
            nsec3_salt_length=nsec3_salt_length,
            nsec3_salt=nsec3_salt,
            opt_out=opt_out,
            ds_digests=digests,
            distribute_trust_anchor=anchors,
            options=opts,
        ),
        zone=zone,
        cmdlet=lim.CMDLETS["zone_dnssec_set"],
    )
    _show_record(outcome, fmt)


@zone_group.command("export-keys")
@click.argument("zone")
@click.option(
    "--ds", "want_ds", is_flag=True, help="DS records (for the parent zone) instead of DNSKEY records."
)
@click.option(
    "--digest",
    "digests",
    multiple=True,
    type=_choice(("Sha1", "Sha256", "Sha384")),
    help="DS digest (repeatable; default Sha256).",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(("zonefile", "json")), default="zonefile", show_default=True
)
@pass_app
def zone_export_keys(app: AppContext, zone: str, want_ds: bool, digests: tuple[str, ...], fmt: str) -> None:
    """Export the zone's KSK DNSKEY records, or its DS records to hand to the parent
    (Export-DnsServerDnsSecPublicKey)."""
    chosen = [lim.canonical(d, ("Sha1", "Sha256", "Sha384")) or d for d in digests]
    if chosen and not want_ds:
        want_ds = True
    with _remote(app, zone, lim.CMDLETS["zone_export_keys"], what="export") as remote:
        outcome = admin.export_keys(
            remote, zone, digests=(chosen or ["Sha256"]) if want_ds else None, options=admin.Options()
        )
    data = outcome.data or {}
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(str(data.get("File") or "").rstrip("\n"))
