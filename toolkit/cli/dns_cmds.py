"""`windns dns ...`: the DNS side alone (check a zone over DNS; serve the demo fleet's zones)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from toolkit.cli.app import AppContext, main
from toolkit.dnsview import QueryOptions, parse_target, zone_view
from toolkit.findings import EXIT_FINDINGS, EXIT_OK, Severity, sort_findings
from toolkit.rules.join_rules import evaluate_join

__all__ = ["dns_group"]


@main.group("dns")
def dns_group() -> None:
    """The outside-in DNSSEC view: what a server publishes over DNS."""


@dns_group.command("check")
@click.argument("zone")
@click.option("--server", "dns_server", required=True, metavar="ADDR[:PORT]", help="DNS server to ask.")
@click.option("--parent-ds-from", metavar="ADDR[:PORT]", help="Server to ask for the DS (default: --server).")
@click.option("--no-ds", is_flag=True, help="Do not ask for the DS at the parent.")
@click.option(
    "--timeout", type=click.FloatRange(0.05), default=2.0, show_default=True, help="Seconds per try."
)
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True)
@click.option("--fail-on", default="medium", show_default=True, help="Lowest severity that fails (exit 1).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def dns_check(
    app: AppContext,
    zone: str,
    dns_server: str,
    parent_ds_from: str | None,
    no_ds: bool,
    timeout: float,
    retries: int,
    fail_on: str,
    fmt: str,
) -> int:
    """Check ZONE as served by a DNS server: keys, signatures (validated now), NSEC3, DS at the parent."""
    try:
        threshold = Severity.parse(fail_on)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    target = parse_target(dns_server)
    parent = None if no_ds else parse_target(parent_ds_from) if parent_ds_from else target
    now = datetime.now(UTC)
    view = zone_view(
        zone, target, parent=parent, opts=QueryOptions(timeout=timeout, retries=retries), now=now
    )
    findings = sort_findings(evaluate_join([view], server=str(target), now=now))
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "zone": view.zone,
                    "server": view.server,
                    "reachable": view.reachable,
                    "keys": [
                        {
                            "key_tag": k.key_tag,
                            "flags": k.flags,
                            "algorithm": k.algorithm_name,
                            "length": k.key_length,
                        }
                        for k in view.keys
                    ],
                    "signatures": [
                        {
                            "covered": s.covered,
                            "key_tag": s.key_tag,
                            "valid": s.valid,
                            "inception": s.inception.isoformat(),
                            "expiration": s.expiration.isoformat(),
                        }
                        for s in view.signatures
                    ],
                    "nsec3param": None
                    if view.nsec3param is None
                    else {"iterations": view.nsec3param.iterations, "salt": view.nsec3param.salt},
                    "ds": None
                    if view.ds is None
                    else [
                        {"key_tag": d.key_tag, "digest_type": d.digest_name, "matches": d.matched_key_tag}
                        for d in view.ds
                    ],
                    "chain_ok": view.chain_ok,
                    "findings": [
                        {"rule": f.rule_id, "severity": f.severity.label, "message": f.message}
                        for f in findings
                    ],
                },
                indent=2,
            )
        )
    else:
        click.echo(
            f"{view.zone} at {view.server}: "
            + (
                "unreachable"
                if not view.reachable
                else f"{len(view.keys)} DNSKEY, chain "
                + {True: "ok", False: "BROKEN", None: "not checked"}[view.chain_ok]
            )
        )
        for k in view.keys:
            click.echo(f"  {k.describe()}")
        for f in findings:
            click.echo(f"  [{f.severity.label}] {f.rule_id}: {f.message}")
        if not findings:
            click.echo("  no findings")
    return EXIT_FINDINGS if any(f.severity >= threshold for f in findings) else EXIT_OK


@dns_group.command("serve-demo")
@click.option(
    "--lifetime",
    type=click.FloatRange(5, 86400),
    default=3600,
    show_default=True,
    help="Seconds before named stops by itself.",
)
@click.option(
    "--port", "port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: a free one)."
)
@click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), help="Keep the signed zones here."
)
@click.pass_obj
def dns_serve_demo(app: AppContext, lifetime: float, port: int | None, workdir: Path | None) -> None:
    """Serve the demo fleet's signed zones with BIND on 127.0.0.1 until Ctrl-C or --lifetime."""
    from toolkit.dnsview.bind import BindServer
    from toolkit.dnsview.demo import demo_specs

    server = BindServer(demo_specs(app.fixtures), workdir=workdir, port=port, lifetime=lifetime)
    with server:
        click.echo(f"demo DNS side on {server.address} (trust anchor: {server.trust_anchor_file()})")
        for z in server.zones:
            click.echo(f"  {z.name:28} {z.note}")
        try:
            while server.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
