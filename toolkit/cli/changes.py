"""What every change command shares: the --dry-run/--force/--yes/--audit-log switches, the
``admin.Options`` built from them, and saving simulated state back to a fixture directory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.audit_log import AuditLog, Operator
from toolkit.cli.app import AppContext
from toolkit.remote.base import Remote
from toolkit.services import admin

__all__ = ["admin_options", "change_options", "is_tty", "persist_fake_state"]

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


def admin_options(
    app: AppContext, *, dry_run: bool, force: bool, yes: bool, audit_log: Path | None
) -> admin.Options:
    def confirm(change: admin.Change) -> bool:
        return bool(
            click.confirm(
                f"{change.action} on {app.server}: {change.command_line()}\nProceed?", default=False, err=True
            )
        )

    return admin.Options(
        dry_run=dry_run,
        force=force,
        assume_yes=yes,
        confirm=confirm if is_tty() else None,
        warn=lambda msg: click.echo(f"windns: warning: {msg}", err=True),
        audit_log=AuditLog(audit_log),
        operator=Operator.current(remote=app.username),
    )


def persist_fake_state(app: AppContext, remote: Remote) -> None:
    """With --transport fake --fixtures DIR, write the simulated state back to DIR."""
    from toolkit.remote import FakeRemote
    from toolkit.resources import demo_fixtures_dir

    if not isinstance(remote, FakeRemote) or app.fixtures is None:
        return
    if Path(app.fixtures).resolve() == demo_fixtures_dir().resolve():
        click.echo(
            "windns: warning: not saving into the bundled demo fleet (use `windns demo export DIR`)", err=True
        )
        return
    remote.server.save()
