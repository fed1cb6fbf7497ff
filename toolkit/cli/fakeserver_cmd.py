"""`windns fake-server`: serve the simulated fleet over real WinRM on 127.0.0.1.

One port per simulated server; the real PSRP and WinRM transports talk to it::

    windns fake-server --port-base 55985 &
    WINDNS_PASSWORD=... windns --transport psrp --server 127.0.0.1 --port 55985 --no-ssl \\
        --auth ntlm --username windns audit
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._signals import stop_on_signals
from toolkit.cli.app import PASSWORD_ENV, main
from toolkit.errors import ConfigError
from toolkit.remote.redact import remember_secret

if TYPE_CHECKING:
    from toolkit.testing.fakeserver import Fault

__all__ = ["fake_server"]


def _parse_fault(text: str) -> tuple[str, Fault]:
    from toolkit.testing.fakeserver import FAULT_KINDS, Fault

    host, sep, kind = text.partition(":")
    if not sep or not host or not kind:
        raise click.BadParameter(f"{text!r}: use HOST:KIND (kinds: {', '.join(sorted(FAULT_KINDS))})")
    try:
        return host, Fault(kind=kind.strip().lower())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("fake-server")
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Simulated servers to serve (default: the bundled demo fleet).",
)
@click.option(
    "--port-base",
    type=click.IntRange(0, 65000),
    default=55985,
    show_default=True,
    help="Port of the first server; the others follow. 0 picks free ports.",
)
@click.option("--tls", is_flag=True, help="HTTPS with a self-signed certificate made at start-up.")
@click.option("--username", default="windns", show_default=True, help="Account the endpoint accepts.")
@click.option(
    "--keytab",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Also accept Kerberos: the HTTP/<name> service key (needs the kerberos extra).",
)
@click.option(
    "--only", "servers", multiple=True, metavar="NAME", help="Serve only these servers (repeatable)."
)
@click.option(
    "--configuration-name",
    "config_names",
    multiple=True,
    metavar="NAME",
    help="Extra PowerShell session configuration (JEA-style) to accept, besides Microsoft.PowerShell.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    help="Seconds added to every HTTP exchange (each request and its answer, auth legs included).",
)
@click.option(
    "--call-time",
    "call_seconds",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Modelled server time of each script or cmdlet call, in seconds.",
)
@click.option(
    "--zone-time",
    "zone_seconds",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Modelled server time per zone a call reads (all zones for the inventory), in seconds.",
)
@click.option(
    "--naive-cmdlets",
    is_flag=True,
    hidden=True,
    help="Also run the naive baseline's single-cmdlet scripts (the fleet benchmark).",
)
@click.option(
    "--replay-reads",
    is_flag=True,
    hidden=True,
    help="Answer a read script run again on an unchanged server from its first run (benchmarks).",
)
@click.option(
    "--fault", "fault_specs", multiple=True, metavar="HOST:KIND", help="Inject a fault on one host."
)
@click.option(
    "--max-envelope-kb",
    type=click.IntRange(32),
    default=500,
    show_default=True,
    help="The servers' MaxEnvelopeSizekb: larger requests are refused (Windows' default is 150 or 500).",
)
@click.option(
    "--dns",
    "with_dns",
    is_flag=True,
    help="Also serve the same fleet's signed zones with BIND (named) on 127.0.0.1, for --dns-server.",
)
@click.option(
    "--for",
    "duration",
    type=click.FloatRange(0),
    default=None,
    hidden=True,
    help="Stop after this many seconds (tests).",
)
def fake_server(
    fixtures_dir: Path | None,
    port_base: int,
    tls: bool,
    username: str,
    keytab: Path | None,
    servers: tuple[str, ...],
    config_names: tuple[str, ...],
    latency: float,
    call_seconds: float,
    zone_seconds: float,
    naive_cmdlets: bool,
    replay_reads: bool,
    fault_specs: tuple[str, ...],
    max_envelope_kb: int,
    with_dns: bool,
    duration: float | None,
) -> None:
    """Serve simulated DNS servers over WinRM (PSRP and WinRS) on 127.0.0.1, one port each.

    The password is WINDNS_PASSWORD when set, otherwise a random one written to the
    credentials file (its DOMAIN:USER:PASSWORD lines, the NTLM_USER_FILE format).
    """
    from toolkit.testing.fakeserver import NO_DNSSERVER_CONFIGURATION, Credentials, FakeWinrmServer, Fault
    from toolkit.testing.fakeserver.naive import naive_scripts

    password = os.environ.get(PASSWORD_ENV)
    creds = Credentials(username=username, password=password) if password else Credentials(username=username)
    remember_secret(creds.password)
    names = ("Microsoft.PowerShell", "windns.JEA", NO_DNSSERVER_CONFIGURATION, *config_names)
    try:
        fake = FakeWinrmServer(
            fixtures=fixtures_dir,
            servers=servers or None,
            port_base=port_base,
            tls=tls,
            credentials=creds,
            configuration_names=names,
            keytab=keytab.resolve() if keytab is not None else None,
            max_envelope_kb=max_envelope_kb,
            call_seconds=call_seconds,
            zone_seconds=zone_seconds,
            extra_scripts=naive_scripts if naive_cmdlets else None,
            replay_reads=replay_reads,
        )
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    for spec in fault_specs:
        host, fault = _parse_fault(spec)
        try:
            fake.endpoint(host).faults.add(fault)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
    if latency:
        for ep in fake:
            ep.faults.add(Fault(kind="latency", seconds=latency))
    if not fake.endpoints:
        raise ConfigError("no simulated server to serve")
    if keytab is not None:
        from toolkit.remote.kerberos import KERBEROS_INSTALL, kerberos_missing

        missing = kerberos_missing()
        if missing:
            raise ConfigError(f"--keytab needs the kerberos extra, missing {missing}: {KERBEROS_INSTALL}")
    with stop_on_signals():
        dns_side = None
        try:
            try:
                fake.start()
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on 127.0.0.1 from port {port_base}: {exc.strerror or exc}"
                ) from None
            if with_dns:
                from toolkit.testing.bind import BindServer
                from toolkit.testing.bind_demo import demo_specs

                dns_side = BindServer(demo_specs(fixtures_dir), lifetime=duration + 30 if duration else 86400)
                dns_side.start()
            scheme = "https" if tls else "http"
            click.echo(f"windns fake WinRM endpoint on 127.0.0.1 ({scheme}); Ctrl-C stops it")
            click.echo(f"credentials file: {fake.credentials_file}")
            source = PASSWORD_ENV if password else "the credentials file"
            click.echo(
                f"account: {creds.domain}\\{creds.username} (auth ntlm, negotiate or basic; "
                f"password from {source})"
            )
            if replay_reads:
                click.echo(
                    "reads replayed: a read run again on an unchanged server answers its first run's text"
                )
            if fake.cert is not None:
                click.echo(f"certificate (use as --ca-bundle): {fake.cert.cert_file}")
            if keytab is not None:
                click.echo(
                    f"kerberos: tickets for the service principals in {keytab} (HTTP/<name>; connect with "
                    "--server <name> --auth kerberos)"
                )
            click.echo(f"envelopes: up to {max_envelope_kb} KiB (MaxEnvelopeSizekb)")
            click.echo(
                f"session configurations: {', '.join(names)} "
                f"({NO_DNSSERVER_CONFIGURATION}: a JEA-style endpoint without the DnsServer module)"
            )
            for ep in fake:
                state = "refused (fault)" if not ep.listening else ep.url
                faults = ", ".join(f.kind for f in ep.faults.faults)
                click.echo(
                    f"  {ep.name:<28} port {ep.port:<6} {state}" + (f"  faults: {faults}" if faults else "")
                )
            first = next(iter(fake))
            tls_flag = (
                "--ssl --ca-bundle " + str(fake.cert.cert_file) if fake.cert is not None else "--no-ssl"
            )
            click.echo(
                f"try: {PASSWORD_ENV}=... windns --transport psrp --server 127.0.0.1 "
                f"--port {first.port} {tls_flag} "
                f"--auth ntlm --username {creds.username} audit"
                + (f" --dns-server {dns_side.address}" if dns_side is not None else "")
            )
            if dns_side is not None:
                click.echo(
                    f"DNS side (BIND) on {dns_side.address}: the same zones, signed with the same keys"
                )
            deadline = None if duration is None else time.monotonic() + duration
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2 if deadline is None else min(0.2, max(0.0, deadline - time.monotonic())))
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: the way to stop
            pass
        finally:
            # whatever ended it: the credentials file (it holds the password), the TLS key, named
            fake.stop()
            if dns_side is not None:
                dns_side.stop()
