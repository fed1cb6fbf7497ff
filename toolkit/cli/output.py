"""Listing output (zones, keys, demo hosts): one row shape, three formats.

JSON is the stable, documented shape (nested objects where the data is nested); CSV and table
flatten it with dotted column names. Reports (audit/scan findings) go through
``toolkit.render`` instead; ``write_atomically`` and ``policy_and_threshold`` serve the report
commands (audit, scan, history show).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from toolkit.errors import ConfigError
from toolkit.model import ServerInventory, SigningKey, Zone, zone_key
from toolkit.safetext import for_terminal

if TYPE_CHECKING:
    from toolkit.findings import Severity
    from toolkit.policy import Policy
    from toolkit.services.key_tags import KeyTag

__all__ = [
    "CHECKLIST_FORMATS",
    "KEY_LIST_COLUMNS",
    "KEY_TABLE_COLUMNS",
    "LIST_FORMATS",
    "REPORT_FORMATS",
    "ZONE_TABLE_COLUMNS",
    "emit",
    "format_option",
    "key_row",
    "policy_and_threshold",
    "policy_options",
    "report_format_option",
    "write_atomically",
    "zone_row",
]

LIST_FORMATS = ("table", "json", "csv")
#: The report formats (audit, scan, history show): the names of ``toolkit.render.FORMATS``, kept
#: here so that building the CLI loads no renderer (a test keeps the two lists the same).
REPORT_FORMATS = (
    "table",
    "json",
    "csv",
    "sarif",
    "github",
    "gitlab",
    "junit",
    "html",
    "prometheus",
    "ckl",
    "cklb",
)
#: the STIG checklists: one document per server (``toolkit.render.CHECKLIST_FORMATS``)
CHECKLIST_FORMATS = ("ckl", "cklb")
#: The columns of a key listing in table format (``keys list``, and the keys a change prints).
KEY_TABLE_COLUMNS = (
    "zone",
    "key_type",
    "algorithm.name",
    "key_length",
    "current_state",
    "rollover.enabled",
    "rollover.status",
    "rollover.next",
    "key_id",
)
#: ``zones list``'s table (the JSON's deprecated ``ds_integrated`` left out).
ZONE_TABLE_COLUMNS = (
    "server",
    "zone",
    "zone_type",
    "signed",
    "ad_integrated",
    "reverse",
    "ksks",
    "zsks",
    "denial_of_existence",
    "key_master",
    "errors",
)
#: ``keys list``'s table: the DNSKEY key tag (and algorithm) beside the GUID.
KEY_LIST_COLUMNS = (
    "zone",
    "key_type",
    "key_tag",
    "algorithm.name",
    "key_length",
    "current_state",
    "rollover.status",
    "rollover.next",
    "key_id",
)

F = TypeVar("F", bound=Callable[..., Any])


def format_option(choices: Sequence[str] = LIST_FORMATS, default: str = "table") -> Callable[[F], F]:
    """The ``--format/-f`` option shared by every listing and report command."""
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def report_format_option(help: str) -> Callable[[F], F]:
    """The ``--format/-f`` option of the report commands (audit, scan, history show):
    one of ``REPORT_FORMATS``, shown as FORMAT with the command's own ``help``."""
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(REPORT_FORMATS),
        default="table",
        show_default=True,
        metavar="FORMAT",
        help=help,
    )


def policy_options(*, fail_on: bool = True, why: str = "") -> Callable[[F], F]:
    """``--policy FILE`` and ``--profile NAME`` (and ``--fail-on SEVERITY``), shared by every
    command that evaluates rules. ``why`` says what the policy is used for, when not obvious."""

    def decorate(f: F) -> F:
        if fail_on:
            f = click.option(
                "--fail-on",
                default=None,
                metavar="SEVERITY",
                help="Exit 1 when a finding reaches this severity (info, low, medium, high, critical).",
            )(f)
        f = click.option("--profile", default=None, help="Built-in policy profile: baseline, rfc or stig.")(f)
        f = click.option(
            "--policy",
            "policy_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"Policy file (TOML){why}.",
        )(f)
        return f

    return decorate


def _t(v: datetime | None) -> str | None:
    return v.isoformat().replace("+00:00", "Z") if v else None


def _s(v: timedelta | None) -> int | None:
    return int(v.total_seconds()) if v is not None else None


def key_row(server: str, key: SigningKey, tag: KeyTag | None = None, *, ds: bool = False) -> dict[str, Any]:
    """The documented JSON shape of one signing key (``windns keys list --format json``):
    with ``tag``, its DNSKEY key tag (or why it is unknown) and, with ``ds``, its DS records."""
    number = key.algorithm.number
    extra: dict[str, Any] = {}
    if tag is not None:
        extra = {"key_tag": tag.tag, "key_tag_note": tag.note}
        if ds:
            extra["ds"] = [{"digest_type": d.digest_type, "digest": d.digest} for d in tag.ds]
    return {
        "server": server,
        "zone": key.zone,
        "key_id": key.key_id,
        **extra,
        "key_type": key.key_type.short,
        "algorithm": {
            "name": key.algorithm.value,
            "mnemonic": key.algorithm.mnemonic,
            "number": int(number) if number is not None else None,
        },
        "key_length": key.key_length,
        "current_state": key.current_state.value if key.current_state else None,
        "key_storage_provider": key.key_storage_provider,
        "store_keys_in_ad": key.store_keys_in_ad,
        "rollover": {
            "enabled": key.rollover_enabled,
            "type": key.rollover_type.value if key.rollover_type else None,
            "period_seconds": _s(key.rollover_period),
            "last": _t(key.last_rollover_time),
            "next": _t(key.next_rollover_time),
            "status": key.current_rollover_status.value if key.current_rollover_status else None,
            "next_action": key.next_rollover_action.value if key.next_rollover_action else None,
        },
        "signature_validity_seconds": {
            "dnskey": _s(key.dnskey_signature_validity),
            "ds": _s(key.ds_signature_validity),
            "zone": _s(key.zone_signature_validity),
        },
        "active_key": key.active_key,
        "standby_key": key.standby_key,
        "next_key": key.next_key,
    }


def zone_row(server: str, zone: Zone) -> dict[str, Any]:
    s = zone.dnssec
    return {
        "server": server,
        "zone": zone.name,
        "zone_type": zone.zone_type.value,
        "signed": zone.signed if zone.zone_type.value == "Primary" else None,
        "ad_integrated": zone.is_ds_integrated,  # Windows's IsDsIntegrated: stored in Active Directory
        "ds_integrated": zone.is_ds_integrated,  # the same, by its old name (docs/listing-json.md)
        "reverse": zone.is_reverse_lookup_zone,
        "ksks": len(zone.ksks),
        "zsks": len(zone.zsks),
        "denial_of_existence": s.denial_of_existence.value if s and s.denial_of_existence else None,
        "key_master": s.key_master_server if s else None,
        "errors": [e.message for e in zone.errors],
    }


def inventory_key_rows(
    inv: ServerInventory,
    zones: Sequence[str] = (),
    tags: Mapping[tuple[str, str], KeyTag] | None = None,
    *,
    ds: bool = False,
) -> list[dict[str, Any]]:
    """``key_row`` of each key of ``inv`` (of ``zones``, all when empty); with ``tags`` (from
    ``toolkit.services.key_tags``), each with its key tag."""
    from toolkit.services.key_tags import KeyTag

    wanted = {zone_key(z) for z in zones}
    unknown = KeyTag(None, "not looked up")
    return [
        key_row(
            inv.server.name,
            k,
            tags.get((zone_key(z.name), k.key_id), unknown) if tags is not None else None,
            ds=ds,
        )
        for z in inv.zones
        if not wanted or zone_key(z.name) in wanted
        for k in z.keys
    ]


def key_table_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``key_row`` for a table: the key tag, or why it is unknown, in one cell; DS records as
    ``DIGEST-TYPE DIGEST``."""
    out = dict(row)
    if "key_tag" in row and row["key_tag"] is None:
        out["key_tag"] = f"({row.get('key_tag_note') or 'unknown'})"
    if "ds" in row:
        out["ds"] = "; ".join(f"{d['digest_type']} {d['digest']}" for d in row["ds"]) or None
    return out


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{name}."))
        elif isinstance(v, list):
            out[name] = "; ".join(str(x) for x in v)
        else:
            out[name] = v
    return out


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    stream: TextIO | None = None,
) -> None:
    out = stream or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, indent=2, default=str)
        out.write("\n")
        return
    flat = [_flatten(r) for r in rows]
    cols = list(columns) if columns else (list(flat[0]) if flat else [])
    if fmt == "csv":
        w = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in flat:
            w.writerow({c: r.get(c) for c in cols})
        return
    if not flat:
        out.write("(nothing to show)\n")
        return
    # what a server printed is shown escaped (toolkit.safetext): a newline in a zone name would
    # start a row of its own, an escape sequence would recolour or clear the terminal
    cells = [[for_terminal(_cell(r.get(c))) for c in cols] for r in flat]
    if out.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(file=out)
        cols, cells, dropped = _fit(cols, cells, console.width)
        # ids stay whole: lower-priority columns go first (above); what still does not fit (a
        # digest, a terminal narrower than the ids) is wrapped, never cut with an ellipsis
        table = Table(header_style="bold")
        for c in cols:
            table.add_column(c, overflow="fold")
        for line in cells:
            table.add_row(*(Text(v) for v in line))  # as text, never as rich markup
        console.print(table)
        if dropped:
            out.write(f"(left out to fit the terminal: {', '.join(dropped)}; -f json or csv shows all)\n")
        return
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(cols)]
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip() + "\n")
    for line in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n")


#: columns a terminal table never drops or wraps: what names a thing
_ID_COLUMNS = frozenset({"server", "zone", "key_type", "key_tag", "key_id"})


def _fit(cols: list[str], cells: list[list[str]], width: int) -> tuple[list[str], list[list[str]], list[str]]:
    """``cols`` and ``cells`` without the lower-priority columns (the rightmost that name
    nothing, first) that a table ``width`` wide has no room for, and the columns left out."""
    widths = {c: max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(cols)}
    keep = list(cols)
    dropped: list[str] = []

    def needed() -> int:  # rich's box: a border and one space each side of every cell
        return sum(widths[c] + 3 for c in keep) + 1

    for c in reversed(cols):
        if needed() <= width:
            break
        if c not in _ID_COLUMNS:
            keep.remove(c)
            dropped.append(c)
    index = [cols.index(c) for c in keep]
    return keep, [[line[i] for i in index] for line in cells], dropped[::-1]


def write_atomically(output: Path | None, writer: Callable[[TextIO], object]) -> None:
    """Run ``writer(stream)`` on stdout, or on ``output`` atomically (temp file + replace)."""
    if output is None:
        writer(sys.stdout)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer(fh)
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None


def policy_and_threshold(
    policy_file: Path | None, profile: str | None, fail_on: str | None
) -> tuple[Policy, Severity]:
    """The policy (file and/or profile, default baseline) and the --fail-on threshold (default: the
    policy's own)."""
    from toolkit.findings import Severity
    from toolkit.policy import load_policy

    policy = load_policy(policy_file, profile or "baseline")
    threshold = policy.fail_on
    if fail_on:
        try:
            threshold = Severity.parse(fail_on)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    return policy, threshold
