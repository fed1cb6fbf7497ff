"""The `windns` click group: global connection options, the app context, error handling.

Commands live in sibling modules (read_cmds, admin_cmds, scan_cmds, ...) and stay thin: parse,
call one library function, render. Every toolkit error is caught once, in ``main``, and
printed as one line on stderr with a documented exit code.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit.__about__ import __version__
from toolkit._warnings import ignore_dsa_warning
from toolkit.cli.params import Seconds
from toolkit.errors import ConfigError, GuardError, RemoteError, WindnsError
from toolkit.remote_names import AUTH_METHODS, DEFAULT_COMMAND_TIMEOUT, TRANSPORTS
from toolkit.safetext import for_terminal

if TYPE_CHECKING:
    from toolkit.remote import ConnectionOptions, Remote

__all__ = ["AppContext", "LazyCommand", "WindnsGroup", "main", "os_error_exit", "run"]

PASSWORD_ENV = "WINDNS_PASSWORD"
log = logging.getLogger("windns")


@dataclass
class AppContext:
    """What every command needs: how to reach the server, and where fakes come from."""

    server: str | None = None
    port: int | None = None
    ssl: bool = True
    cert_validation: bool = True
    ca_bundle: str | None = None
    auth: str = "negotiate"
    username: str | None = None
    configuration_name: str = "Microsoft.PowerShell"
    connect_timeout: float = 30.0
    read_timeout: float = 60.0
    operation_timeout: float = 50.0
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    jea: bool = False
    allow_basic_over_http: bool = False
    certificate_pem: str | None = None
    certificate_key_pem: str | None = None
    keytab: str | None = None
    ccache: str | None = None
    transport: str = "psrp"
    fixtures: Path | None = None
    verbosity: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def require_server(self) -> str:
        if not self.server:
            raise click.UsageError("no server given: use --server NAME (see `windns demo` for demo hosts)")
        return self.server

    def password(self) -> str | None:
        """From WINDNS_PASSWORD, else a prompt on a TTY; never from the command line. Kerberos
        takes a password only from WINDNS_PASSWORD with --username (otherwise the ticket cache)."""
        if self.transport == "fake" or self.auth == "certificate" or self.keytab or self.ccache:
            return None
        pw = os.environ.get(PASSWORD_ENV)
        if self.auth == "kerberos":
            return pw if pw and self.username else None
        from toolkit.remote import redact as _redact

        if pw:
            _redact.remember_secret(pw)
            return pw
        if self.username and sys.stdin.isatty():
            pw = str(click.prompt(f"Password for {self.username}", hide_input=True))
            _redact.remember_secret(pw)
            return pw
        if self.username:
            raise ConfigError(f"no password: set {PASSWORD_ENV} (no terminal to prompt on)")
        return None

    def connection_options(self, host: str | None = None, *, password: bool = True) -> ConnectionOptions:
        """The command line's connection settings for ``host`` (default ``--server``): the one
        place they become ``ConnectionOptions``. ``password=False`` leaves the password out (a scan
        resolves each host's credential when it connects; no prompt here)."""
        from toolkit.remote import ConnectionOptions

        return ConnectionOptions(
            host=host or self.require_server(),
            port=self.port,
            ssl=self.ssl,
            cert_validation=self.cert_validation,
            ca_bundle=self.ca_bundle,
            auth=self.auth,
            username=self.username,
            password=self.password() if password else None,
            configuration_name=self.configuration_name,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            operation_timeout=self.operation_timeout,
            command_timeout=self.command_timeout,
            jea=self.jea,
            allow_basic_over_http=self.allow_basic_over_http,
            certificate_pem=self.certificate_pem,
            certificate_key_pem=self.certificate_key_pem,
            kerberos_keytab=self.keytab,
            kerberos_ccache=self.ccache,
        )

    def open_remote(self, host: str | None = None) -> Remote:
        return connect(self.connection_options(host), self.transport, fixtures=self.fixtures)


def connect(opts: ConnectionOptions, transport: str = "psrp", *, fixtures: Path | None = None) -> Remote:
    """``toolkit.remote.connect``, imported on first use: the CLI starts without the transports."""
    from toolkit.remote import connect as connect_remote

    return connect_remote(opts, transport, fixtures=fixtures)


@dataclass(frozen=True)
class LazyCommand:
    """A command of the root group before its module is imported: the modules that define it
    (a group's subcommands may come from several) and the first paragraph of its help, which
    the ``--help`` list shortens as click does."""

    modules: tuple[str, ...]
    help: str
    hidden: bool = False


class WindnsGroup(click.Group):
    """A click group whose standalone ``main`` maps toolkit errors to one line + exit code.

    As the root group it also takes its options after the subcommand (``toolkit.cli.argv``) and
    its defaults, and every command's, from the config file (``toolkit.cli.config``).

    Its commands are registered lazily (``register_lazy``): a command's modules are imported
    when the command is looked up, so ``windns --help``, ``--version`` and one command load
    only what they use. ``--help`` lists the registered short help without importing anything."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = {}

    def register_lazy(self, commands: Mapping[str, LazyCommand]) -> None:
        self.lazy_commands.update(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy_commands))

    #: old spellings of commands, kept working and out of the help: alias -> command
    ALIASES: dict[str, str] = {"zone": "zones"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if ctx.parent is None and cmd_name not in self.commands and cmd_name not in self.lazy_commands:
            cmd_name = self.ALIASES.get(cmd_name, cmd_name)
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None:  # always: another module may have defined the group already
            for module in lazy.modules:
                importlib.import_module(module)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, from the registered short help for commands not yet imported."""
        rows: list[tuple[str, click.Command | LazyCommand]] = []
        for name in self.list_commands(ctx):
            entry: click.Command | LazyCommand | None = self.commands.get(name)
            if entry is None:
                entry = self.lazy_commands.get(name)
            if entry is not None and not entry.hidden:
                rows.append((name, entry))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        table = [(name, _short_help(entry, limit)) for name, entry in rows]
        with formatter.section("Commands"):
            formatter.write_dl(table)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            from toolkit.cli import argv, config

            args = argv.hoist_global_options(self, ctx, args)
            if not ctx.resilient_parsing:  # shell completion never fails on a config file
                path = config.find_config(argv.option_value(self, args, "--config"))
                if path is not None:
                    ctx.default_map = {**config.default_map(self, path), **(ctx.default_map or {})}
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        sys.exit(self.run(args, prog_name=prog_name or "windns", **extra))

    def run(self, args: list[str] | None = None, *, prog_name: str = "windns", **extra: Any) -> int:
        """Run the CLI and return its exit code."""
        # dnspython's DSA module warns under cryptography 51 whatever the zone (toolkit.dnsview._dnssec).
        ignore_dsa_warning()
        try:
            rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("windns: aborted", err=True)
            return 130
        except click.exceptions.Exit as exc:
            return int(exc.exit_code)
        except click.UsageError as exc:
            from toolkit.findings import EXIT_USAGE

            exc.show()
            return EXIT_USAGE
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except WindnsError as exc:
            click.echo(f"windns: error: {for_terminal(exc)}", err=True)
            return _error_exit_code(exc)
        except KeyboardInterrupt:
            click.echo("windns: interrupted", err=True)
            return 130
        except OSError as exc:  # a file or socket the toolkit did not wrap: still one line
            return os_error_exit(exc)
        except Exception as exc:  # a bug: one line for the user, the traceback for the report
            from toolkit.findings import EXIT_INTERNAL

            log.debug("internal error", exc_info=True)
            detail = " ".join(str(exc).split())[:200]
            click.echo(
                for_terminal(
                    f"windns: internal error: {type(exc).__name__}: {detail} (a bug; -vv shows the traceback)"
                ),
                err=True,
            )
            return EXIT_INTERNAL
        return int(rv) if isinstance(rv, int) else 0


_EPILOG = """\b
Global options may also follow the subcommand: `windns keys list --server dns1 -v`.
\b
Environment:
  WINDNS_SERVER, WINDNS_USERNAME, WINDNS_TRANSPORT  as --server, --username, --transport
  WINDNS_KEYTAB, WINDNS_CCACHE  as --keytab, --ccache (Kerberos without kinit)
  WINDNS_PASSWORD   the password (never an option, never in a file)
  WINDNS_CONFIG     the config file (as --config)
  WINDNS_DB         the history database (as --db of scan, history, diff, rollovers)
  WINDNS_AUDIT_LOG  the change log of admin commands (as their --audit-log)
\b
Config file (TOML): --config, else WINDNS_CONFIG, else
$XDG_CONFIG_HOME/windns/config.toml (~/.config/windns/config.toml). Top-level keys
are global options (server, transport, auth, username, ...) and format, policy,
profile, fail-on, db for every command that has them; a [COMMAND] table ([scan],
[keys.list]) sets that command's options. No password: it is refused.
Precedence: command line > environment > config file > built-in default.
\b
Shell completion: eval "$(_WINDNS_COMPLETE=bash_source windns)" in ~/.bashrc
(zsh_source in ~/.zshrc; fish: _WINDNS_COMPLETE=fish_source windns | source)."""


# `windns --help` is stored as click renders it (toolkit/help_text.py, for the console script):
# after a change to the options, help or epilog here, run `python -m toolkit.cli.help_snapshot`.
@click.group(
    cls=WindnsGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=_EPILOG,
)
@click.version_option(__version__, prog_name="windns")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="WINDNS_CONFIG",
    show_envvar=True,
    expose_value=False,
    help="Config file of defaults (default: $XDG_CONFIG_HOME/windns/config.toml if it exists).",
)
@click.option(
    "--server",
    "-s",
    metavar="HOST",
    envvar="WINDNS_SERVER",
    show_envvar=True,
    help="DNS server to talk to (the WinRM host).",
)
@click.option("--port", type=click.IntRange(1, 65535), help="WinRM port (default 5986 HTTPS, 5985 HTTP).")
@click.option("--ssl/--no-ssl", default=True, show_default=True, help="HTTPS (default) or plain HTTP.")
@click.option(
    "--cert-validation/--no-cert-validation",
    default=True,
    show_default=True,
    help="Validate the server's TLS certificate.",
)
@click.option("--ca-bundle", type=click.Path(dir_okay=False), help="CA bundle for certificate validation.")
@click.option("--auth", type=click.Choice(AUTH_METHODS), default="negotiate", show_default=True)
@click.option(
    "--username",
    "-u",
    envvar="WINDNS_USERNAME",
    show_envvar=True,
    help=f"Account; password from {PASSWORD_ENV} or a prompt.",
)
@click.option(
    "--keytab",
    type=click.Path(dir_okay=False),
    envvar="WINDNS_KEYTAB",
    show_envvar=True,
    help="Kerberos without kinit: get the ticket with this keytab (principal: --username, else its first).",
)
@click.option(
    "--ccache",
    type=click.Path(dir_okay=False),
    envvar="WINDNS_CCACHE",
    show_envvar=True,
    help="Kerberos: take the ticket from this credential cache instead of the default one.",
)
@click.option(
    "--certificate-pem",
    type=click.Path(dir_okay=False),
    help="With --auth certificate: the client certificate (PEM; its UPN is mapped to an account).",
)
@click.option(
    "--certificate-key-pem",
    type=click.Path(dir_okay=False),
    help="With --auth certificate: the certificate's private key (PEM, unencrypted, yours only).",
)
@click.option(
    "--configuration-name",
    default="Microsoft.PowerShell",
    show_default=True,
    help="PowerShell session configuration (JEA endpoint).",
)
@click.option(
    "--jea",
    is_flag=True,
    help="The endpoint is a JEA (NoLanguage) one: read with cmdlet commands, send no script (docs/jea.md).",
)
@click.option("--connect-timeout", type=Seconds(0.1), default=30.0, show_default=True)
@click.option("--read-timeout", type=Seconds(1), default=60.0, show_default=True)
@click.option("--operation-timeout", type=Seconds(1), default=50.0, show_default=True)
@click.option(
    "--command-timeout",
    type=Seconds(0.1),
    default=DEFAULT_COMMAND_TIMEOUT,
    show_default=True,
    help="Seconds one script may run on the server; then it is stopped and the command fails.",
)
@click.option(
    "--allow-basic-over-http", is_flag=True, help="Allow Basic auth without TLS (password in clear)."
)
@click.option(
    "--transport",
    type=click.Choice(TRANSPORTS),
    default="psrp",
    show_default=True,
    envvar="WINDNS_TRANSPORT",
    show_envvar=True,
    help="psrp (pypsrp), winrm (pywinrm) or fake (simulated demo servers).",
)
@click.option(
    "--fixtures",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --transport fake: a fixture directory instead of the bundled demo fleet.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def main(ctx: click.Context, /, **kw: Any) -> None:
    """Audit and manage Windows Server DNSSEC remotely over WinRM.

    Try it without Windows: `windns demo`, then
    `windns --transport fake --server dns1 audit`.
    """
    verbose, quiet = kw.pop("verbose"), kw.pop("quiet")
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("windns: %(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # the WinRM libraries log authentication tokens at debug level: never let one through
    from toolkit.remote import redact as _redact

    for root_handler in logging.getLogger().handlers:
        _redact.install(root_handler)
    obj = ctx.ensure_object(AppContext)
    obj.verbosity = -1 if quiet else verbose
    for k, v in kw.items():
        setattr(obj, k, v)


class _TerminalFormatter(logging.Formatter):
    """Log lines with what came from a server (host error messages, names) escaped for the
    terminal (``toolkit.safetext.for_terminal``); a traceback (-vv) keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return for_terminal(super().formatMessage(record))


def _short_help(entry: click.Command | LazyCommand, limit: int) -> str:
    if isinstance(entry, LazyCommand):
        return click.Command(None, help=entry.help).get_short_help_str(limit)
    return entry.get_short_help_str(limit)


def os_error_exit(exc: OSError) -> int:
    """An ``OSError`` nothing wrapped (a file, a socket, a full disk under stdout): one line on
    stderr, and the exit code. ``toolkit.console`` reports a failed write the same way."""
    where = f" {exc.filename}" if exc.filename else ""
    click.echo(for_terminal(f"windns: error:{where} {exc.strerror or exc}"), err=True)
    from toolkit.findings import EXIT_CONFIG

    return EXIT_CONFIG


def _error_exit_code(exc: WindnsError) -> int:
    from toolkit.findings import EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_REFUSED

    if isinstance(exc, GuardError):
        return EXIT_REFUSED
    if isinstance(exc, RemoteError):
        return EXIT_INCOMPLETE
    return EXIT_CONFIG


def run(args: list[str] | None = None) -> int:
    """Run the CLI with ``args`` and return the exit code (no SystemExit)."""
    assert isinstance(main, WindnsGroup)
    return main.run(args)


#: Decorator handing a command the shared AppContext built by the group.
pass_app = click.make_pass_decorator(AppContext, ensure=True)
