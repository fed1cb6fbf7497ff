"""Read-only commands: zones list, keys list, audit, demo (explain: ``toolkit.cli.explain_cmd``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from toolkit.cli.app import AppContext, main, pass_app
from toolkit.cli.dns_cmds import dns_view_from, dns_view_options
from toolkit.cli.explain_cmd import explain_cmd
from toolkit.cli.output import (
    KEY_LIST_COLUMNS,
    ZONE_TABLE_COLUMNS,
    emit,
    format_option,
    inventory_key_rows,
    key_table_row,
    policy_and_threshold,
    policy_options,
    report_format_option,
    write_atomically,
    zone_row,
)
from toolkit.errors import ConfigError
from toolkit.findings import EXIT_INCOMPLETE
from toolkit.model import ServerInventory, zone_key
from toolkit.safetext import for_terminal

__all__ = ["audit_cmd", "demo_group", "explain_cmd", "keys_group", "zones_group"]


offline_option = click.option(
    "--offline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read saved JSON (our inventory output, or raw cmdlet output from ConvertTo-Json) "
    "instead of a server.",
)
zone_option = click.option(
    "--zone", "-z", "zones", multiple=True, metavar="ZONE", help="Only this zone (repeatable)."
)


def load_inventory(app: AppContext, offline: Path | None, zones: Sequence[str] = ()) -> ServerInventory:
    """From a saved file, or one inventory run on the server."""
    if offline is not None:
        from toolkit.services.audit import load_saved

        return load_saved(offline)
    from toolkit.services.audit import collect

    with app.open_remote() as remote:
        return collect(remote, list(zones) or None)


# -- zones -----------------------------------------------------------------------------------
@main.group("zones")
def zones_group() -> None:
    """Zones on a server: list them; sign, unsign, DNSSEC settings, export public keys.

    Shaped as `keys`: `list` reads, the other commands change. `windns zone ...` (the old
    spelling) still works."""


@zones_group.command("list")
@offline_option
@format_option()
@pass_app
def zones_list(app: AppContext, offline: Path | None, fmt: str) -> None:
    """List every zone with its type, signing state and key counts."""
    inv = load_inventory(app, offline)
    columns = ZONE_TABLE_COLUMNS if fmt != "json" else None
    emit([zone_row(inv.server.name, z) for z in inv.zones], fmt, columns=columns)


# -- keys ------------------------------------------------------------------------------------
@main.group("keys")
def keys_group() -> None:
    """Signing keys (KSK/ZSK) of a server's zones."""


@keys_group.command("list")
@zone_option
@offline_option
@click.option(
    "--tags/--no-tags",
    default=True,
    show_default=True,
    help="Look up each KSK's DNSKEY key tag (one export per signed zone).",
)
@click.option("--ds", "want_ds", is_flag=True, help="Also each KSK's DS records (to hand to the parent).")
@click.option(
    "--digest",
    "digests",
    multiple=True,
    type=click.Choice(("sha1", "sha256", "sha384"), case_sensitive=False),
    help="DS digest with --ds (repeatable; default sha256).",
)
@format_option()
@pass_app
def keys_list(
    app: AppContext,
    zones: tuple[str, ...],
    offline: Path | None,
    tags: bool,
    want_ds: bool,
    digests: tuple[str, ...],
    fmt: str,
) -> None:
    """List signing keys: type, key tag, algorithm, length, state and rollover.

    The key tag (the DNSKEY's, as resolvers and DS records name the key) is read from the
    zone's exported DNSKEY records and matched with the key by algorithm and length; where that
    cannot tell (a ZSK: Windows exports KSKs only; two KSKs of one kind during a rollover; a
    retired key) the column says why.

    JSON output is a list of objects with server, zone, key_id, key_tag, key_tag_note, (with
    --ds) ds [{digest_type, digest}], key_type (KSK/ZSK), algorithm {name, mnemonic, number},
    key_length, current_state, rollover {enabled, type, period_seconds, last, next, status,
    next_action}, signature_validity_seconds {dnskey, ds, zone}, active_key, standby_key, next_key
    (docs/listing-json.md).

    Exit codes: 0 listed, 2 a zone's keys could not be read, 4 a --zone the server does not have.
    """
    if digests and not want_ds:
        raise click.UsageError("--digest goes with --ds")
    if want_ds and not tags:
        raise click.UsageError("--ds needs the key tags: drop --no-tags")
    key_tags: dict[tuple[str, str], Any] | None = None
    if offline is not None:
        from toolkit.services.audit import load_saved
        from toolkit.services.key_tags import KeyTag

        inv = load_saved(offline)
        if tags:
            unknown = KeyTag(None, "saved file: no export")
            key_tags = {(zone_key(z.name), k.key_id): unknown for z in inv.zones for k in z.keys}
    else:
        from toolkit.services.audit import collect
        from toolkit.services.key_tags import key_tags as look_up

        with app.open_remote() as remote:
            inv = collect(remote, list(zones) or None)
            if tags:
                wanted = [d.capitalize() for d in digests or ("sha256",)] if want_ds else []
                key_tags = look_up(remote, inv, zones, digests=wanted)
    rows = inventory_key_rows(inv, zones, key_tags, ds=want_ds)
    unknown_zones, unreadable = _unlisted_zones(inv, zones)
    columns = None
    if fmt == "table":
        columns = [c for c in KEY_LIST_COLUMNS if tags or c != "key_tag"] + (["ds"] if want_ds else [])
        rows = [key_table_row(r) for r in rows]
    if rows or not (unknown_zones or unreadable):
        emit(rows, fmt, columns=columns)
    for line in unreadable:
        click.echo(f"windns: error: {for_terminal(line)}", err=True)
    if unknown_zones:
        where = str(offline) if offline is not None else inv.server.name
        what = "zones" if len(unknown_zones) > 1 else "zone"
        raise ConfigError(
            f"{what} {', '.join(unknown_zones)} not found on {where} "
            "(DNS_ERROR_ZONE_DOES_NOT_EXIST, 9601); "
            "see windns zones list"
        )
    if unreadable:
        click.get_current_context().exit(EXIT_INCOMPLETE)


def _unlisted_zones(inv: ServerInventory, zones: Sequence[str]) -> tuple[list[str], list[str]]:
    """Of the zones asked for (all zones when none is): those the server does not have, and why
    others' keys are unknown."""
    by_name = {zone_key(z.name): z for z in inv.zones}
    unknown: list[str] = []
    unreadable: list[str] = []
    for name in zones or [z.name for z in inv.zones]:
        zone = by_name.get(zone_key(name))
        errors = zone.errors if zone is not None else ()
        if zone is None or any(e.code == 9601 for e in errors):
            unknown.append(name)
            continue
        for e in errors:
            # "signingkey": also a key the normaliser left out ("normalise SigningKeys").
            if e.stage == "Get-DnsServerZone" or "signingkey" in e.stage.lower():
                unreadable.append(f"the keys of {zone.name} could not be read: {e.stage}: {e.message}")
    return unknown, unreadable


# -- audit -----------------------------------------------------------------------------------
@main.command("audit")
@zone_option
@offline_option
@policy_options()
@report_format_option(
    "table, json, csv, sarif, github, gitlab, junit, html, prometheus, ckl (STIG Viewer checklist) "
    "or cklb (STIG Viewer 3)."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@dns_view_options()
@pass_app
@click.pass_context
def audit_cmd(
    ctx: click.Context,
    app: AppContext,
    zones: tuple[str, ...],
    offline: Path | None,
    policy_file: Path | None,
    profile: str | None,
    fail_on: str | None,
    fmt: str,
    output: Path | None,
    dns_flag: bool,
    dns_server: str | None,
    ds_from: str | None,
    dns_timeout: float,
) -> None:
    """Audit one server's DNSSEC configuration against the policy.

    With --dns or --dns-server the audit also asks a DNS server what it serves for each signed
    zone (keys, signatures validated now, NSEC3, the DS at the parent) and joins that with the
    server's own view (rules DNS001-DNS015; `windns rules list`).

    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 the server could
    not be audited, 3 usage error, 4 bad input or configuration.
    """
    from toolkit.services.audit import audit_inventory, audit_server, collect_dns, load_saved, report_for

    dns = dns_view_from(dns_flag, dns_server, ds_from, dns_timeout)
    policy, threshold = policy_and_threshold(policy_file, profile, fail_on)
    if offline is not None:
        inv = only_zones(load_saved(offline), zones, where=str(offline))
        views = collect_dns(inv, dns, host=inv.server.name) if dns is not None else None
        host = audit_inventory(inv, policy, dns_views=views)
    else:
        with app.open_remote() as remote:
            host = audit_server(remote, policy, zones=list(zones) or None, dns=dns)
    report = report_for([host], policy, duration=host.duration)
    _write_report(report, fmt, output, policy)
    ctx.exit(report.exit_code(threshold))


#: zones named in the error for a zone a saved file does not hold
_ZONES_SHOWN = 20


def only_zones(inv: ServerInventory, zones: Sequence[str], *, where: str) -> ServerInventory:
    """``inv`` with only the ``zones`` named (all when none is), compared as Windows compares
    zone names (case-insensitive, a final dot ignored); ConfigError naming a zone ``inv`` does
    not hold and the zones it does hold."""
    if not zones:
        return inv
    wanted = {zone_key(z) for z in zones}
    have = {zone_key(z.name) for z in inv.zones}
    missing = [z for z in zones if zone_key(z) not in have]
    if missing:
        names = [z.name for z in inv.zones]
        held = ", ".join(names[:_ZONES_SHOWN]) + (
            f" and {len(names) - _ZONES_SHOWN} more" if len(names) > _ZONES_SHOWN else ""
        )
        raise ConfigError(
            f"{'zones' if len(missing) > 1 else 'zone'} {', '.join(missing)} not in {where} "
            f"(it holds {held or 'no zone'})"
        )
    return inv.replace(zones=tuple(z for z in inv.zones if zone_key(z.name) in wanted))


def _write_report(report: Any, fmt: str, output: Path | None, policy: Any) -> None:
    from toolkit.render import render

    color = output is None and sys.stdout.isatty()
    write_atomically(output, lambda fh: render(report, fmt, fh, policy=policy, color=color))


# -- demo ------------------------------------------------------------------------------------
@main.group("demo", invoke_without_command=True)
@format_option(("table", "json"))
@pass_app
@click.pass_context
def demo_group(ctx: click.Context, app: AppContext, fmt: str) -> None:
    """The bundled demo fleet: servers, zones and what each zone illustrates.

    Use a demo host with `windns --transport fake --server HOST ...` (no Windows needed).
    """
    if ctx.invoked_subcommand is not None:
        return
    from toolkit.testing.fake_remote import load_fleet

    fleet = load_fleet(app.fixtures)
    servers: list[dict[str, Any]] = [
        {
            "server": s.name,
            "description": s.description,
            "zones": [
                {"zone": z["ZoneName"], "type": z.get("ZoneType"), "illustrates": z.get("Illustrates", "")}
                for z in s.state["Zones"]
            ],
        }
        for s in fleet
    ]
    if fmt == "json":
        click.echo(json.dumps({"servers": servers}, indent=2))
        return
    for s in servers:
        click.echo(f"{s['server']}: {s['description']}")
        for z in s["zones"]:
            click.echo(f"  {z['zone']:<24} {z['illustrates']}")
        click.echo("")
    click.echo("Try: windns --transport fake --server dns1 audit")
