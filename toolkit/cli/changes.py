"""What every change command shares: the --dry-run/--force/--yes/--audit-log switches, the
``admin.Options`` built from them, and saving simulated state back to a fixture directory.

The commands that can retire a KSK (keys remove, keys set, keys rollover step/now) also take
--ds-from/--dns-timeout/--ds-confirmed: where the guard asks the parent's DS (``ds_options``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.audit_log import AuditLog, Operator
from toolkit.cli.app import AppContext
from toolkit.remote.base import Remote
from toolkit.services import admin

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = ["admin_options", "change_options", "ds_options", "is_tty", "persist_fake_state"]

F = TypeVar("F", bound=Callable[..., Any])


def is_tty() -> bool:
    return sys.stdin.isatty()


def change_options(f: F) -> F:
    """--dry-run, --force, --yes, --audit-log: the switches every change shares."""
    f = click.option(
        "--audit-log",
        "audit_log",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Audit log file (default: $WINDNS_AUDIT_LOG, else the user data directory).",
    )(f)
    f = click.option(
        "--yes", "-y", "yes", is_flag=True, help="Confirm destructive changes (needed without a terminal)."
    )(f)
    f = click.option(
        "--force", is_flag=True, help="Skip our pre-flight guard (the server still validates the change)."
    )(f)
    f = click.option("--dry-run", is_flag=True, help="Print the plan (cmdlet and parameters); send nothing.")(
        f
    )
    return f


def ds_options(f: F) -> F:
    """--ds-from, --dns-timeout, --ds-confirmed: how the guard asks the parent's DS before a KSK
    is stepped, rolled over, retired or removed."""
    f = click.option(
        "--ds-confirmed",
        is_flag=True,
        help="You have checked that the parent publishes the DS of the KSK that stays: do not ask "
        "over DNS (a KSK change is refused when DNS cannot show it).",
    )(f)
    f = click.option(
        "--dns-timeout",
        type=click.FloatRange(0.05),
        default=2.0,
        show_default=True,
        help="Seconds per DNS query try (2 retries) when asking the parent's DS.",
    )(f)
    f = click.option(
        "--ds-from",
        metavar="ADDR[:PORT]",
        help="Before a KSK change, ask the zone's DS here: the parent zone's server or a resolver "
        "(default: the server itself, port 53).",
    )(f)
    return f


def admin_options(
    app: AppContext,
    *,
    dry_run: bool,
    force: bool,
    yes: bool,
    audit_log: Path | None,
    ds_from: str | None = None,
    dns_timeout: float = 2.0,
    ds_confirmed: bool = False,
    policy: Policy | None = None,
) -> admin.Options:
    def confirm(change: admin.Change) -> bool:
        return bool(
            click.confirm(
                f"{change.action} on {app.server}: {change.command_line()}\nProceed?", default=False, err=True
            )
        )

    from toolkit.dnsview.query import QueryOptions, parse_target
    from toolkit.services.audit import DnsViewOptions

    if ds_from:
        parse_target(ds_from)  # a bad address is a configuration error before anything is read
    return admin.Options(
        dry_run=dry_run,
        force=force,
        assume_yes=yes,
        confirm=confirm if is_tty() else None,
        warn=lambda msg: click.echo(f"windns: warning: {msg}", err=True),
        audit_log=AuditLog(audit_log),
        operator=Operator.current(remote=app.username),
        dns=DnsViewOptions(ds_from=ds_from, query=QueryOptions(timeout=dns_timeout)),
        ds_confirmed=ds_confirmed,
        policy=policy,
    )


def persist_fake_state(app: AppContext, remote: Remote) -> None:
    """With --transport fake --fixtures DIR, write the simulated state back to DIR."""
    from toolkit.resources import demo_fixtures_dir
    from toolkit.testing.fake_remote import FakeRemote

    if not isinstance(remote, FakeRemote) or app.fixtures is None:
        return
    if Path(app.fixtures).resolve() == demo_fixtures_dir().resolve():
        click.echo(
            "windns: warning: not saving into the bundled demo fleet (use `windns demo export DIR`)", err=True
        )
        return
    remote.server.save()
