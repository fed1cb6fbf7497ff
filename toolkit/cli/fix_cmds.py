"""`windns fix` (plan and apply the safe fixes for an audit's findings) and `windns demo export`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from toolkit.cli.app import AppContext, main, pass_app
from toolkit.cli.changes import admin_options, is_tty, persist_fake_state
from toolkit.cli.output import policy_options
from toolkit.cli.read_cmds import demo_group
from toolkit.errors import ConfigError, RemoteError, WindnsError
from toolkit.findings import EXIT_INCOMPLETE
from toolkit.services import admin

__all__ = ["demo_export", "fix_cmd"]


# -- fix ----------------------------------------------------------------------------------------
@main.command("fix")
@click.option("--apply", "do_apply", is_flag=True, help="Make the planned changes (asks, or needs --yes).")
@click.option("--yes", "-y", "yes", is_flag=True, help="Confirm without a terminal.")
@policy_options(fail_on=False)
@click.option(
    "--audit-log", "audit_log", type=click.Path(dir_okay=False, path_type=Path), help="Audit log file."
)
@click.option(
    "--dns", "dns_flag", is_flag=True, help="After --apply, check over DNS: ask the server on port 53."
)
@click.option(
    "--dns-server", metavar="ADDR[:PORT]", help="After --apply, check over DNS: ask this DNS server."
)
@click.option(
    "--dns-timeout",
    type=click.FloatRange(0.05),
    default=2.0,
    show_default=True,
    help="Seconds per DNS query try (2 retries).",
)
@pass_app
def fix_cmd(
    app: AppContext,
    do_apply: bool,
    yes: bool,
    policy_file: Path | None,
    profile: str | None,
    audit_log: Path | None,
    dns_flag: bool,
    dns_server: str | None,
    dns_timeout: float,
) -> None:
    """Plan (and with --apply make) the safe fixes for an audit's findings.

    Without --server and with --transport fake, every server of the simulated fleet.
    Findings without a safe automatic fix are listed with their manual remediation.
    A fix holds every step its change needs: new NSEC3 settings are followed by a re-sign with
    the zone's own keys (Invoke-DnsServerZoneSign -DoResign). --apply makes the steps in order
    and stops at the first that fails; with --dns or --dns-server it then checks that the zone
    serves the new NSEC3PARAM (else it says the check was skipped). New keys take their
    defaults from the policy (--policy/--profile); a new KSK's DS records are printed, to hand
    to the parent.

    Exit codes: 0 done, 1 a change failed, a finding it claimed is still there or DNS still
    serves the old NSEC3 chain, 2 a server could not be audited (the others are still planned),
    6 --apply not confirmed (nothing sent).
    """
    from toolkit.cli.dns_cmds import dns_view_from
    from toolkit.policy import load_policy
    from toolkit.services.audit import audit_server
    from toolkit.services.fix import apply_plan, plan_server

    policy = load_policy(policy_file, profile or "baseline")
    dns = dns_view_from(dns_flag, dns_server, None, dns_timeout)
    hosts = _fix_hosts(app)
    opts = admin_options(app, dry_run=False, force=False, yes=True, audit_log=audit_log, policy=policy)
    failed = incomplete = False
    unconfirmed: list[str] = []
    for host in hosts:
        try:
            with app.open_remote(host) as remote:
                plan = plan_server(audit_server(remote, policy), policy)
                if plan.error is not None:
                    incomplete = True
                    _host_error(plan.server, plan.error)
                    continue
                _print_plan(plan)
                if not do_apply or not plan.fixes:
                    continue
                if not yes:
                    if not is_tty():
                        refusal = admin.ConfirmationRequired(
                            f"fix --apply on {plan.server} changes the server: confirm on a terminal "
                            "or pass --yes. Nothing was sent."
                        )
                        _log_plan(opts, plan, "refused", refusal)
                        unconfirmed.append(plan.server)
                        continue
                    steps = sum(len(item.steps) for item in plan.fixes)
                    if not click.confirm(
                        f"Apply {len(plan.fixes)} fix(es), {steps} change(s), on {plan.server}?",
                        default=False,
                        err=True,
                    ):
                        cancelled = admin.Cancelled(
                            f"fix --apply on {plan.server} cancelled. Nothing was sent."
                        )
                        _log_plan(opts, plan, "cancelled", cancelled)
                        click.echo(f"{plan.server}: skipped", err=True)
                        continue
                result = apply_plan(remote, plan, opts, policy, dns=dns)
                persist_fake_state(app, remote)
                _print_result(result)
                failed = failed or not result.ok
        except RemoteError as exc:  # could not even connect: the other hosts still get their plan
            incomplete = True
            _host_error(host, exc.message)
    if unconfirmed:
        raise admin.ConfirmationRequired(
            f"fix --apply on {', '.join(unconfirmed)} changes the server(s): confirm on a terminal or "
            "pass --yes. Nothing was sent."
        )
    if incomplete:
        click.get_current_context().exit(EXIT_INCOMPLETE)
    if failed:
        click.get_current_context().exit(1)


def _host_error(host: str, message: str) -> None:
    """One line on stderr for a host that could not be audited (its message may name it already)."""
    detail = message[len(host) + 2 :] if message.lower().startswith(f"{host.lower()}: ") else message
    click.echo(f"windns: error: {host} could not be audited: {detail}", err=True)


def _log_plan(opts: admin.Options, plan: Any, result: str, error: WindnsError) -> None:
    """An audit-log entry for every change of ``plan`` that was not made (refused or cancelled)."""
    for item in plan.fixes:
        for step in item.steps:
            admin.record_attempt(opts, plan.server, step, result, error)


def _fix_hosts(app: AppContext) -> list[str]:
    if app.server:
        return [app.server]
    if app.transport == "fake":
        from toolkit.testing.fake_remote import load_fleet

        return [s.name for s in load_fleet(app.fixtures)]
    raise click.UsageError("no server given: use --server NAME")


def _print_plan(plan: Any) -> None:
    from toolkit.services.fix import plan_lines

    for line in plan_lines(plan):
        click.echo(line)


def _print_result(result: Any) -> None:
    from toolkit.services.fix import result_lines

    for line in result_lines(result):
        click.echo(line)


# -- demo export ---------------------------------------------------------------------------------
@demo_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace fixture files already in DIRECTORY.")
def demo_export(directory: Path, overwrite: bool) -> None:
    """Copy the demo fleet's fixture files to DIRECTORY, to try changes without Windows:
    windns --transport fake --fixtures DIRECTORY --server dns1 keys add ...
    """
    from toolkit.resources import demo_fixtures_dir

    source = demo_fixtures_dir()
    files = sorted(source.glob("*.json"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        clash = [f.name for f in files if (directory / f.name).exists()]
        if clash and not overwrite:
            raise ConfigError(f"{directory} already holds {', '.join(clash)} (use --overwrite)")
        for f in files:
            shutil.copyfile(f, directory / f.name)
    except OSError as exc:
        raise ConfigError(f"cannot write {directory}: {exc.strerror}") from None
    click.echo(f"copied {len(files)} server fixture(s) to {directory}")
    click.echo(f"try: windns --transport fake --fixtures {directory} --server dns1 keys list")
