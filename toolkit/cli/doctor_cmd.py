"""`windns doctor`: the first thing to run against a real server (toolkit.services.doctor).

windns --server dns1.corp.example -u CORP\\dnsaudit doctor
windns --server dns1.corp.example -u CORP\\dnsaudit doctor --capture ./dns1-capture
windns doctor --replay ./dns1-capture --write-expected
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from toolkit.cli.app import AppContext, main, pass_app
from toolkit.cli.output import format_option
from toolkit.errors import ConfigError
from toolkit.findings import EXIT_CONFIG, EXIT_OK

__all__ = ["doctor_cmd"]

_MARK = {"ok": "ok", "fail": "FAIL", "skipped": "skipped"}


@main.command("doctor")
@click.option(
    "--capture",
    "capture",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also write an anonymised bundle of the answers to DIR/bundle (attach it to a bug report) "
    "and the replacements made to DIR/LOCAL-ONLY-replacements.json (keep it).",
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    metavar="DIR",
    help="Talk to no server: normalise and audit a captured bundle again.",
)
@click.option(
    "--write-expected",
    is_flag=True,
    help="With --replay: write what the replay gives to the bundle's expected.json.",
)
@format_option(("table", "json"))
@pass_app
@click.pass_context
def doctor_cmd(
    ctx: click.Context,
    app: AppContext,
    capture: Path | None,
    replay_dir: Path | None,
    write_expected: bool,
    fmt: str,
) -> None:
    """Check step by step that one server can be audited, each step with a verdict.

    Reachability (TCP), TLS, authentication, the endpoint's PowerShell, the DnsServer module,
    each read script (time, size, self-check) and a raw sample of the cmdlets' output. A step
    after a failed one is skipped and names it. Takes every connection option the other
    commands take (before the command).

    Exit codes: 0 every step passed (or was not applicable), 2 a step failed, 4 bad input or
    configuration (and, with --replay, a bundle that does not replay as its expected.json says).
    """
    from toolkit.services import doctor

    if replay_dir is not None:
        if capture is not None:
            raise click.UsageError("--replay talks to no server: it cannot --capture")
        ctx.exit(_replay(replay_dir, write_expected, fmt))
    if write_expected:
        raise click.UsageError("--write-expected goes with --replay DIR")
    if capture is not None:
        doctor.check_capture_dir(capture)
    from toolkit.remote import connect

    opts = app.connection_options()  # asks for the password once, if it must
    report = doctor.diagnose(
        opts, app.transport, open_remote=lambda: connect(opts, app.transport, fixtures=app.fixtures)
    )
    manifest: dict[str, Any] | None = None
    if capture is not None:
        manifest = doctor.write_bundle(report, capture, secrets=[opts.password or ""], username=opts.username)
    if fmt == "json":
        doc = report.as_json()
        if capture is not None and manifest is not None:
            doc["capture"] = {
                "bundle": str(capture / doctor.BUNDLE_DIR),
                "local_only": str(capture / doctor.REPLACEMENTS_FILE),
                "files": [f["path"] for f in manifest["files"]],
            }
        click.echo(json.dumps(doc, indent=2))
    else:
        _table(report)
        if capture is not None and manifest is not None:
            click.echo(f"bundle to attach: {capture / doctor.BUNDLE_DIR} ({len(manifest['files'])} answers)")
            click.echo(f"keep, never attach: {capture / doctor.REPLACEMENTS_FILE}")
    ctx.exit(report.exit_code)


def _table(report: Any) -> None:
    if report.transport == "fake":
        click.echo(f"windns doctor: {report.host} (fake transport: a simulated server)")
    else:
        scheme = "https" if report.ssl else "http"
        click.echo(
            f"windns doctor: {report.host}:{report.port} ({report.transport}, {scheme}, {report.auth})"
        )
    width = max(len(s.name) for s in report.steps)
    for s in report.steps:
        click.echo(f"  {_MARK[s.verdict]:<8} {s.name:<{width}}  {s.detail}")
    failed = report.failed
    if failed:
        names = ", ".join(s.name for s in failed)
        click.echo(f"{len(failed)} step{'s' if len(failed) != 1 else ''} failed: {names}")
    else:
        skipped = sum(1 for s in report.steps if s.verdict == "skipped")
        passed = len(report.steps) - skipped
        click.echo(f"every step passed ({passed} ok" + (f", {skipped} not applicable)" if skipped else ")"))


def _replay(path: Path, write_expected: bool, fmt: str) -> int:
    from toolkit.services import doctor

    directory = doctor.bundle_dir(path)
    got = doctor.expected_of(directory)
    target = directory / doctor.EXPECTED_FILE
    if write_expected:
        target.write_text(json.dumps(got, indent=2) + "\n", encoding="utf-8")
    expected: dict[str, Any] | None = None
    if target.is_file():
        try:
            expected = json.loads(target.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"not JSON: {exc}", file=str(target)) from None
    same = expected is None or {k: v for k, v in expected.items()} == got
    if fmt == "json":
        click.echo(json.dumps({"bundle": str(directory), "replay": got, "matches_expected": same}, indent=2))
    else:
        inv = got.get("inventory")
        if inv is None:
            click.echo(f"{directory}: no inventory in this bundle")
        else:
            click.echo(f"{directory}: server {inv['server']}, {inv['zones']} zones, {inv['keys']} keys")
            for zone, rules in inv["findings"]["zones"].items():
                click.echo(f"  {zone:<32} {', '.join(rules) or '-'}")
            if inv["findings"]["server"]:
                click.echo(f"  {'(server)':<32} {', '.join(inv['findings']['server'])}")
        for name, counts in got["raw"].items():
            click.echo(
                f"  raw/{name}: {counts['zones']} zones, {counts['keys']} keys, {counts['settings']} settings"
            )
        if write_expected:
            click.echo(f"wrote {target}")
        elif expected is None:
            click.echo(f"no {doctor.EXPECTED_FILE} to compare with (write one with --write-expected)")
        else:
            click.echo(
                f"{doctor.EXPECTED_FILE}: {'the replay matches it' if same else 'the replay DIFFERS from it'}"
            )
    return EXIT_OK if same else EXIT_CONFIG
