"""`windns dns ...`: the DNS side alone (check a zone over DNS; serve the demo fleet's zones).

Also the DNS view options `windns audit` and `windns scan` share (``dns_view_options``,
``dns_view_from``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.cli._signals import stop_on_signals
from toolkit.cli.app import AppContext, main
from toolkit.cli.output import format_option, policy_and_threshold, policy_options
from toolkit.cli.params import Seconds
from toolkit.dnsview import QueryOptions, parse_target, zone_view
from toolkit.findings import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from toolkit.services.audit import DnsViewOptions

__all__ = ["dns_group", "dns_view_from", "dns_view_options"]

F = TypeVar("F", bound=Callable[..., Any])


def dns_view_options(*, scan: bool = False) -> Callable[[F], F]:
    """The options that add the DNS view to `audit` (and, with ``scan``, to `scan`)."""
    who = "each server (its inventory dns_address, else its own address)" if scan else "the audited server"
    opts = [
        click.option("--dns", "dns_flag", is_flag=True, help=f"Add the DNS view: ask {who} on port 53."),
        click.option(
            "--dns-server",
            metavar="ADDR[:PORT]",
            help="Add the DNS view, asking this DNS server"
            + (" (for hosts whose inventory entry names no dns_address)." if scan else "."),
        ),
        click.option(
            "--ds-from",
            metavar="ADDR[:PORT]",
            help="Ask each zone's DS here: the parent zone's server or a recursive resolver "
            "(default: the DNS server itself).",
        ),
        click.option(
            "--dns-timeout",
            type=Seconds(0.05),
            default=2.0,
            show_default=True,
            help="Seconds per DNS query try (2 retries).",
        ),
    ]
    if scan:
        opts.append(
            click.option("--no-dns", is_flag=True, help="No DNS view, even for hosts with a dns_address.")
        )

    def decorate(f: F) -> F:
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


def dns_view_from(
    dns_flag: bool,
    dns_server: str | None,
    ds_from: str | None,
    dns_timeout: float,
    *,
    no_dns: bool = False,
    scan: bool = False,
) -> DnsViewOptions | None:
    """The DNS view options the command line asks for (None: no DNS view asked for).

    For a scan without --dns/--dns-server the options still apply to the hosts whose inventory
    entry names a ``dns_address``. Addresses given on the command line are checked now: a bad
    one is a configuration error before anything is collected.
    """
    from toolkit.services.audit import DnsViewOptions

    if no_dns:
        if dns_flag or dns_server or ds_from:
            raise click.UsageError("--no-dns cannot be combined with --dns, --dns-server or --ds-from")
        return DnsViewOptions(enabled=False)
    asked = bool(dns_flag or dns_server)
    if not asked and not scan:
        if ds_from:
            raise click.UsageError("--ds-from needs --dns or --dns-server")
        return None
    for value in (dns_server, ds_from):
        if value:
            parse_target(value)
    return DnsViewOptions(
        server=dns_server, ds_from=ds_from, query=QueryOptions(timeout=dns_timeout), all_hosts=asked
    )


@main.group("dns")
def dns_group() -> None:
    """The outside-in DNSSEC view: what a server publishes over DNS."""


@dns_group.command("check")
@click.argument("zone")
@click.option(
    "--dns-server",
    "dns_server",
    metavar="ADDR[:PORT]",
    help="The DNS server to ask (port 53 by default); not the WinRM host --server names.",
)
@click.option(
    "--ds-from",
    "--parent-ds-from",
    "parent_ds_from",
    metavar="ADDR[:PORT]",
    help="Ask the DS here: the parent's server or a recursive resolver (default: --dns-server).",
)
@click.option("--no-ds", is_flag=True, help="Do not ask for the DS at the parent.")
@click.option(
    "--dns-timeout",
    "--timeout",
    "timeout",
    type=Seconds(0.05),
    default=2.0,
    show_default=True,
    help="Seconds per DNS query try.",
)
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True)
@policy_options()
@format_option(("table", "json"))
@click.pass_obj
def dns_check(
    app: AppContext,
    zone: str,
    dns_server: str | None,
    parent_ds_from: str | None,
    no_ds: bool,
    timeout: float,
    retries: int,
    policy_file: Path | None,
    profile: str | None,
    fail_on: str | None,
    fmt: str,
) -> int:
    """Check ZONE as served by a DNS server: keys, signatures (validated now), NSEC3, DS at the parent.

    The DNS-side rules (area DNS, `windns rules list`) run under the policy; the rules that
    need the server's own view run with `windns audit --dns`. --fail-on and its default (the
    policy's) are as for `audit`.

    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 3 usage error,
    4 bad address, policy or configuration.
    """
    from toolkit.services.audit import check_views

    if not dns_server:
        hint = " (--server names the WinRM host)" if app.server else ""
        raise click.UsageError(f"give --dns-server ADDR[:PORT]: the DNS server to ask{hint}")
    policy, threshold = policy_and_threshold(policy_file, profile, fail_on)
    target = parse_target(dns_server)
    parent = None if no_ds else parse_target(parent_ds_from) if parent_ds_from else target
    now = datetime.now(UTC)
    view = zone_view(
        zone, target, parent=parent, opts=QueryOptions(timeout=timeout, retries=retries), now=now
    )
    findings, _ = check_views([view], policy, server=str(target))
    findings = [f for f in findings if f.rule_id != "DNS000"]
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
    type=Seconds(5, maximum=86400),
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
    from toolkit.testing.bind import BindServer
    from toolkit.testing.bind_demo import demo_specs

    specs = demo_specs(app.fixtures)
    server = BindServer(specs, workdir=workdir, port=port, lifetime=lifetime)
    if app.verbosity >= 0:  # signing and starting named takes a few seconds: say so on stderr
        click.echo(f"windns: signing {len(specs)} demo zones and starting named on 127.0.0.1 ...", err=True)
    # Ctrl-C, SIGTERM or SIGHUP: named stopped and waited for, the signed zones deleted
    with stop_on_signals(), server:
        # a signal from the moment the address is printed (a caller that waits for the ready line
        # may send it while that line is still being written) is a stop, not an interruption
        try:
            click.echo(f"demo DNS side on {server.address} (trust anchor: {server.trust_anchor_file()})")
            for z in server.zones:
                click.echo(f"  {z.name:28} {z.note}")
            click.echo(
                "both views of the demo fleet: windns --transport fake --server dns2 audit "
                f"--dns-server {server.address}"
            )
            while server.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
