"""Fleet commands: scan, history list/show/prune, diff, rollovers."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from toolkit.cli.app import PASSWORD_ENV, AppContext, main, pass_app
from toolkit.cli.dns_cmds import dns_view_from, dns_view_options
from toolkit.cli.output import (
    CHECKLIST_FORMATS,
    emit,
    policy_and_threshold,
    policy_options,
    report_format_option,
    write_atomically,
)
from toolkit.cli.params import Seconds
from toolkit.errors import HistoryError
from toolkit.findings import EXIT_INCOMPLETE, EXIT_LOCKED, HostReport, Report
from toolkit.model import zone_key
from toolkit.safetext import for_terminal

__all__ = ["diff_cmd", "history_group", "rollovers_cmd", "scan_cmd"]

log = logging.getLogger("windns.scan")

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="WINDNS_DB",
    show_envvar=True,
    help="History database (default: $XDG_DATA_HOME/windns/history.sqlite3; env WINDNS_DB).",
)
#: ``--demo`` of the commands that read the history: the demo scans' own database.
demo_db_option = click.option(
    "--demo",
    "demo_db",
    is_flag=True,
    help="Read the demo scans' history ($XDG_CACHE_HOME/windns/demo-history.sqlite3), not yours.",
)


def _open_existing(db: Path | None, demo: bool = False) -> Any:
    from toolkit.history import History, default_db_path, demo_db_path

    if demo and db is not None and _given_on_command_line("db"):
        raise click.UsageError("give --db or --demo, not both")
    path = demo_db_path() if demo else db if db is not None else default_db_path()
    if not path.exists():
        first = "windns scan --demo" if demo else "windns scan"
        raise HistoryError(f"no scan history at {path}: run `{first}` first (or pass --db)")
    return History(path)


def _given_on_command_line(param: str) -> bool:
    source = click.get_current_context().get_parameter_source(param)
    return source is click.core.ParameterSource.COMMANDLINE


def _render_report(
    report: Report, fmt: str, output: Path | None, policy: Any, trend: Any = None, last_success: Any = None
) -> None:
    from toolkit.render import render
    from toolkit.render.html import render_html
    from toolkit.render.prometheus import metrics_text, write_textfile

    if fmt == "prometheus" and output is not None:
        write_textfile(report, output, last_success)
    elif fmt == "prometheus":
        write_atomically(None, lambda fh: fh.write(metrics_text(report, last_success)))
    elif fmt == "html":
        write_atomically(output, lambda fh: render_html(report, fh, policy=policy, trend=trend))
    else:
        color = output is None and sys.stdout.isatty()
        write_atomically(output, lambda fh: render(report, fmt, fh, policy=policy, color=color))


def _trend(history: Any, upto: int, limit: int) -> Any:
    """The trend chart's points: the scans of the same inventory as ``upto``."""
    from toolkit.render.html import TrendPoint

    source = history.get(upto).source
    return [
        TrendPoint(f"#{r.id} {r.started:%m-%d}", r.by_severity)
        for r in history.trend(limit, upto, source=source)
    ]


class _RichProgress:
    """Progress bar on stderr (only used when stderr is a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]scan[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.failed = 0
        self.task: Any = None

    def started(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("", total=total)

    def host_done(self, host: HostReport, done: int, total: int) -> None:
        if host.error is not None:
            from rich.text import Text

            self.failed += 1
            line = for_terminal(f": {host.error.kind}: {host.error.message}")
            # as text, never as markup: a server's message may hold "[...]"
            self.progress.console.print(
                Text.assemble((for_terminal(host.server), "red"), line), highlight=False
            )
        self.progress.update(
            self.task, completed=done, description=f"{self.failed} failed" if self.failed else ""
        )

    def finished(self) -> None:
        self.progress.stop()


@contextmanager
def _signals(scanner: Any) -> Iterator[None]:
    """SIGINT/SIGTERM stop dispatching; a second signal is ignored until the grace time ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        scanner.stop(f"received {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@main.command("scan")
@click.argument("inventory", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--demo",
    is_flag=True,
    help="Scan the bundled demo fleet over the fake transport (no Windows), recorded in a demo "
    "history of its own ($XDG_CACHE_HOME/windns/demo-history.sqlite3) unless --db is given.",
)
@click.option("--demo-all", is_flag=True, help="Like --demo, including the server that refuses access.")
@click.option(
    "--host", "hosts", multiple=True, metavar="NAME", help="Scan this host (repeatable; no file needed)."
)
@click.option(
    "--only", "only", multiple=True, metavar="NAME", help="Only this inventory server (repeatable)."
)
@click.option(
    "--group", "groups", multiple=True, metavar="GROUP", help="Only servers of this group (repeatable)."
)
@click.option("--zone", "-z", "zones", multiple=True, metavar="ZONE", help="Only this zone (repeatable).")
@click.option(
    "--concurrency",
    "-j",
    type=click.IntRange(1, 1024),
    default=16,
    show_default=True,
    help="Hosts audited at the same time.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    show_default="the number of cores",
    help="Processes sharing those hosts, so the per-host CPU work uses that many cores (1: threads "
    "in one process; the fake transport always uses threads).",
)
@click.option(
    "--host-timeout",
    type=Seconds(0.01),
    default=300.0,
    show_default=True,
    help="Seconds one host may take, retries included.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Retries for transient failures (refused, reset, timeout); never for auth failures.",
)
@click.option(
    "--backoff",
    type=Seconds(0),
    default=1.0,
    show_default=True,
    help="First retry delay in seconds (doubles each retry, with jitter).",
)
@click.option(
    "--grace",
    type=Seconds(0),
    default=10.0,
    show_default=True,
    help="On SIGINT/SIGTERM, seconds running hosts get to finish.",
)
@policy_options()
@report_format_option(
    "table, json, csv, sarif, github, gitlab, junit, html, prometheus, ckl or cklb (STIG "
    "checklists: one file per server in the --output directory)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write the report to this file (atomically); for ckl/cklb, a directory (one file per "
    "server), or a NAME.ckl / NAME.cklb file for a one-server scan.",
)
@dns_view_options(scan=True)
@db_option
@click.option("--no-history", is_flag=True, help="Do not record the scan in the history database.")
@click.option(
    "--keep",
    type=click.IntRange(0),
    default=None,
    metavar="N",
    help="After the scan, keep only the newest N scans in the history.",
)
@click.option(
    "--trend",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Scans shown in the HTML report's trend chart.",
)
@pass_app
@click.pass_context
def scan_cmd(
    ctx: click.Context,
    app: AppContext,
    inventory: Path | None,
    demo: bool,
    demo_all: bool,
    hosts: tuple[str, ...],
    only: tuple[str, ...],
    groups: tuple[str, ...],
    zones: tuple[str, ...],
    concurrency: int,
    workers: int | None,
    host_timeout: float,
    retries: int,
    backoff: float,
    grace: float,
    policy_file: Path | None,
    profile: str | None,
    fail_on: str | None,
    fmt: str,
    output: Path | None,
    dns_flag: bool,
    dns_server: str | None,
    ds_from: str | None,
    dns_timeout: float,
    no_dns: bool,
    db: Path | None,
    no_history: bool,
    keep: int | None,
    trend: int,
) -> None:
    """Audit every server of an inventory concurrently and record the scan in the history.

    INVENTORY is a TOML file ([defaults], [groups.NAME], [[servers]]) or a plain list of host
    names, one per line. `windns scan --demo` scans the bundled demo fleet.

    \b
    Exit codes:
      0  compliant: no finding at or above --fail-on
      1  findings at or above --fail-on
      2  incomplete: a host failed, or the scan was interrupted (SIGINT/SIGTERM)
      3  usage error
      4  bad inventory, policy or other configuration
      5  another scan holds the lock on the history database
    """
    from toolkit.fleet import hosts_from_names, load_inventory
    from toolkit.history import ScanLocked
    from toolkit.services.history import ScanRecording, scan_db_path
    from toolkit.services.scan import Scanner, ScanOptions, default_connector
    from toolkit.services.workers import default_workers

    if output is not None and output.is_dir() and fmt not in CHECKLIST_FORMATS:
        raise click.BadParameter(f"{output} is a directory", param_hint="--output")
    dns = dns_view_from(dns_flag, dns_server, ds_from, dns_timeout, no_dns=no_dns, scan=True)
    sources = sum(bool(x) for x in (demo or demo_all, inventory is not None, hosts))
    if sources > 1:
        raise click.UsageError("give one of INVENTORY, --demo or --host")
    # the command line's connection settings, under each inventory host's own (no password here:
    # each host's credential is resolved when it is connected)
    base = app.connection_options("-", password=False)
    transport = app.transport
    if demo or demo_all:
        from toolkit.testing.fake_remote import demo_inventory

        fleet = demo_inventory(app.fixtures, include_unreadable=demo_all)
        transport = "fake"
    elif inventory is not None:
        fleet = load_inventory(inventory, base=base)
    elif hosts or app.server:
        fleet = (
            hosts_from_names(hosts) if hosts else hosts_from_names([app.require_server()], option="--server")
        )
    else:
        raise click.UsageError("nothing to scan: give an INVENTORY file, --host NAME or --demo")
    fleet = fleet.select(only, groups)
    policy, threshold = policy_and_threshold(policy_file, profile, fail_on)
    connector = default_connector(
        base,
        transport=transport,
        fixtures=app.fixtures,
        fallback_password=os.environ.get(PASSWORD_ENV),
        host_timeout=host_timeout,
    )
    options = ScanOptions(
        concurrency=concurrency,
        workers=workers if workers is not None else default_workers(),
        host_timeout=host_timeout,
        retries=retries,
        backoff=backoff,
        grace=grace,
        zones=zones,
        dns=dns,
    )
    # WINDNS_DB (or a configured database) is the user's history: a demo scan never writes it
    demo_history = (demo or demo_all) and not _given_on_command_line("db")
    db_path = scan_db_path(None if demo_history else db, record=not no_history, demo=demo_history)
    try:
        recording = ScanRecording.open(
            db_path,
            policy=policy.name,
            fail_on=threshold.label,
            # the inventory's identity: history, trends and diffs are kept per inventory
            source=str(inventory.resolve()) if inventory is not None else fleet.source,
            hosts=[h.name for h in fleet.hosts],
        )
    except ScanLocked as exc:
        click.echo(f"windns: {exc}", err=True)
        ctx.exit(EXIT_LOCKED)
    with recording:
        quiet = app.verbosity < 0
        progress = _RichProgress() if sys.stderr.isatty() and not quiet else None
        scanner = Scanner(
            fleet.hosts, connector, policy, options=options, on_host=recording.on_host, progress=progress
        )
        log.info("scanning %d host(s) from %s, concurrency %d", len(fleet), fleet.source, concurrency)
        with _signals(scanner):
            outcome = scanner.run()
        report = outcome.report
        recording.finish(report, keep=keep)
        history, scan_id = recording.history, recording.scan_id
        if report.interrupted:
            click.echo(
                f"windns: scan interrupted: {len(report.hosts)} of {len(fleet)} host(s) finished, "
                f"{len(report.not_scanned)} not scanned"
                + (f" (scan {scan_id} kept in the history)" if history is not None else ""),
                err=True,
            )
        trend_points = _trend(history, scan_id, trend) if history is not None and fmt == "html" else None
        if fmt in CHECKLIST_FORMATS and output is not None:
            from toolkit.render.checklist_files import write_checklist_output

            paths = write_checklist_output(report, output, policy, fmt)
            log.info("wrote %d checklist(s) to %s", len(paths), output)
        else:
            seen = history.last_success(scan_id) if history is not None and fmt == "prometheus" else None
            _render_report(report, fmt, output, policy, trend_points, seen)
        if demo_history and history is not None:
            # at -v: stderr stays empty for a plain run (it lands in every cron mail); --help and the
            # README say where the demo history lives
            log.info(
                "demo scan %s recorded in %s, apart from your history (windns history list --demo)",
                scan_id,
                db_path,
            )
        code = report.exit_code(threshold)
        if recording.write_failed is not None and code < EXIT_INCOMPLETE:
            code = EXIT_INCOMPLETE
    # Hosts abandoned at their deadline or at the end of the grace time may still hold worker
    # threads; they are daemon threads, so the process exits now all the same.
    ctx.exit(code)


# -- history -----------------------------------------------------------------------------------------
@main.group("history")
def history_group() -> None:
    """Stored scans: list, show, prune."""


@history_group.command("list")
@db_option
@demo_db_option
@click.option("--limit", "-n", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True
)
def history_list(db: Path | None, demo_db: bool, limit: int, fmt: str) -> None:
    """List stored scans, newest first."""
    with _open_existing(db, demo_db) as h:
        rows = [r.as_dict() for r in h.scans(limit)]
    if fmt == "json":
        emit(rows, fmt)
        return
    cols = [
        "id",
        "started",
        "status",
        "policy",
        "hosts.total",
        "hosts.ok",
        "hosts.failed",
        "hosts.not_scanned",
        "findings",
        *(f"by_severity.{s}" for s in ("critical", "high", "medium", "low", "info")),
        "duration",
    ]
    for r in rows:
        r["started"] = r["started"][:19].replace("T", " ")
        r["duration"] = round(r["duration"], 1) if r["duration"] is not None else None
    emit(rows, fmt, columns=cols)


@history_group.command("show")
@click.argument("scan", default="latest")
@db_option
@demo_db_option
@report_format_option("table, json, csv, sarif, github, gitlab, junit, html or prometheus.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
def history_show(scan: str, db: Path | None, demo_db: bool, fmt: str, output: Path | None) -> None:
    """Show one stored scan (an id, `latest`, `previous` or `latest~N`) as a report."""
    with _open_existing(db, demo_db) as h:
        scan_id = h.resolve(scan)
        rec = h.get(scan_id)
        report = h.load_report(scan_id)
        trend = _trend(h, scan_id, 10) if fmt == "html" else None
    if fmt == "table" and output is None:
        click.echo(
            for_terminal(
                f"Scan {rec.id}: {rec.started:%Y-%m-%d %H:%M:%S}Z, {rec.status}, policy {rec.policy}, "
                f"{rec.hosts_ok + rec.hosts_failed}/{rec.hosts_total} host(s) recorded"
                + (f", {len(rec.not_scanned)} not scanned" if rec.not_scanned else "")
            )
        )
    _render_report(report, fmt, output, None, trend)


@history_group.command("prune")
@db_option
@demo_db_option
@click.option("--keep", type=click.IntRange(0), default=None, metavar="N", help="Keep the newest N scans.")
@click.option("--older-than", default=None, metavar="AGE", help="Delete scans older than this (30d, 12h).")
def history_prune(db: Path | None, demo_db: bool, keep: int | None, older_than: str | None) -> None:
    """Delete old scans (--keep N and/or --older-than AGE)."""
    from toolkit.policy import parse_duration

    if keep is None and older_than is None:
        raise click.UsageError("give --keep N and/or --older-than AGE")
    age = None
    if older_than is not None:
        try:
            age = parse_duration(older_than)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--older-than") from None
    with _open_existing(db, demo_db) as h:
        gone = h.prune(keep=keep, older_than=age)
    click.echo(f"deleted {len(gone)} scan(s)" + (f": {', '.join(map(str, gone))}" if gone else ""))


# -- diff --------------------------------------------------------------------------------------------
@main.command("diff")
@click.argument("scan_a", required=False)
@click.argument("scan_b", required=False)
@db_option
@demo_db_option
@click.option(
    "--format", "-f", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
def diff_cmd(scan_a: str | None, scan_b: str | None, db: Path | None, demo_db: bool, fmt: str) -> None:
    """What changed between two scans (default: the latest and the scan of the same inventory
    before it; one SCAN_A: it against the latest).

    Findings new/resolved/unchanged, keys added/removed/rolled, settings changed, hosts newly
    failing or recovered. With only one scan of that inventory there is nothing to compare: it
    says so and exits 0.
    """
    import json

    from toolkit.drift import diff_scans, render_drift

    with _open_existing(db, demo_db) as h:
        b = h.resolve(scan_b or "latest")
        a = h.resolve(scan_a) if scan_a else h.previous_of(b)
        if a is None:
            source = h.get(b).source or "its inventory"
            click.echo(for_terminal(f"scan {b} is the only scan of {source}: nothing to compare it with"))
            return
        d = diff_scans(h, a, b)
    if fmt == "json":
        click.echo(json.dumps(d.as_dict(), indent=2, default=str))
    else:
        render_drift(d, sys.stdout)


# -- rollovers ---------------------------------------------------------------------------------------
@main.command("rollovers")
@db_option
@demo_db_option
@click.option("--within", default=None, metavar="AGE", help="Only rollovers due within this window (30d).")
@click.option("--scan", "scan_ref", default="latest", show_default=True, help="Which stored scan.")
@click.option("--all", "include_disabled", is_flag=True, help="Also list keys without automatic rollover.")
@policy_options(fail_on=False, why=": for the KSK DS-wait limit")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True
)
def rollovers_cmd(
    db: Path | None,
    demo_db: bool,
    within: str | None,
    scan_ref: str,
    include_disabled: bool,
    policy_file: Path | None,
    profile: str | None,
    fmt: str,
) -> None:
    """The rollover calendar of the fleet from the latest scan: next, stuck and overdue rollovers."""
    from toolkit.policy import parse_duration
    from toolkit.rollovers import rollover_calendar

    window = None
    if within is not None:
        try:
            window = parse_duration(within)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--within") from None
    policy, _ = policy_and_threshold(policy_file, profile, None)
    with _open_existing(db, demo_db) as h:
        scan_id = h.resolve(scan_ref)
        invs = h.inventories(scan_id)
        # the key tags the scan read (those of the keys its findings name); None: not read
        tags = {
            (f.target.server.lower(), zone_key(f.target.zone or ""), f.target.key_id): tag
            for found in h.findings(scan_id).values()
            for f in found
            if f.target.key_id and isinstance(tag := f.evidence.get("key_tag"), int)
        }
    rows = []
    for e in rollover_calendar(invs, within=window, policy=policy, include_disabled=include_disabled):
        row = e.as_dict()
        row["key_tag"] = tags.get((e.server.lower(), zone_key(e.zone), e.key_id))
        rows.append(row)
    emit(
        rows,
        fmt,
        columns=[
            "next_rollover",
            "state",
            "server",
            "zone",
            "key_type",
            "key_tag",
            "algorithm",
            "status",
            "detail",
            "key_id",
        ],
    )
