"""The ``windns`` console script (and ``python -m toolkit``): a few invocations answered at once,
without click; every other one run by the click CLI (``toolkit.cli``) exactly as before.

Answered here: ``windns --version``, ``windns --help`` (or ``-h``) and ``windns explain CODE``
for a Win32 DNS error code (``9104``, ``0x2390``, ``DNS_ERROR_...``). They are what one types to
see whether the tool works and what an error means, and importing click alone takes about four
times as long as starting Python. What they print, and their exit code, is the click CLI's to
the byte:

- the version line is click's ``version_option`` message;
- the help is click's own rendering, stored in ``toolkit.help_text`` for the widths it is
  stored for (``python -m toolkit.cli.help_snapshot`` regenerates it);
- an explanation is ``toolkit.catalogue_lookup.explanation``, which the click command prints.

Anything that could make click answer otherwise goes to click: a config file (its defaults
show in the help; a broken one is an error), ``WINDNS_CONFIG``, shell completion, a terminal
width the help is not stored for, a click other than the one that rendered it, a stdout whose
encoding is ASCII (click writes through a stream of its own then); for ``explain`` also a rule
id, a code the catalogue does not know, and an environment variable of a root option that click
checks (the root options are parsed before any command runs). ``tests/test_cli_fast_start.py``
runs every case both ways and compares them.
"""

from __future__ import annotations

import codecs
import os
import sys

__all__ = ["answer", "main"]

#: The environment variables of the root group's options (``tests/test_cli_fast_start.py``
#: holds this to the group): click reads them on every command.
ROOT_ENV = (
    "WINDNS_CONFIG",
    "WINDNS_SERVER",
    "WINDNS_USERNAME",
    "WINDNS_KEYTAB",
    "WINDNS_CCACHE",
    "WINDNS_TRANSPORT",
)
#: Those click takes as they are (any text): they cannot make ``explain`` fail.
PLAIN_ENV = frozenset({"WINDNS_SERVER", "WINDNS_USERNAME"})
_CONFIG_ENV = "WINDNS_CONFIG"
_COMPLETE_ENV = "_WINDNS_COMPLETE"  # click's shell completion for the program name windns
_VERSION_OPTION = "--version"


def main() -> None:
    """The console script: answer ``sys.argv`` here if it can be, else run the click CLI."""
    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from toolkit.cli import main as cli

    cli()  # exits with the CLI's own code


def answer(args: list[str]) -> int | None:
    """Answer ``args`` without click when that gives what the click CLI would: the output is
    written and the exit code returned. None (nothing written) when it is for the click CLI."""
    if _COMPLETE_ENV in os.environ or _config_may_apply():
        return None
    text = _text(args)
    if text is None or not text.isascii() or "\x1b" in text or not _plain_stdout():
        return None  # click would strip an escape sequence or write through a stream of its own
    try:
        sys.stdout.write(text + "\n")  # as click.echo writes it
        sys.stdout.flush()
    except OSError as exc:  # a closed pipe, a full disk: reported as the click CLI reports it
        from toolkit.cli.app import os_error_exit

        return os_error_exit(exc)
    return 0


def _text(args: list[str]) -> str | None:
    if args == [_VERSION_OPTION]:
        from toolkit.__about__ import __version__

        return f"windns, version {__version__}"
    if len(args) == 2 and args[0] == "explain":
        return _explanation(args[1])
    if len(args) == 1:
        from toolkit import help_text

        if args[0] in help_text.HELP_OPTIONS and _click_version_is(help_text.CLICK_VERSION):
            width = max(min(_terminal_columns(), help_text.MAX_CONTENT_WIDTH) - 2, 50)  # click's
            return help_text.HELP.get(width)
    return None


def _explanation(code: str) -> str | None:
    if code.startswith("-") or any(n in os.environ for n in ROOT_ENV if n not in PLAIN_ENV):
        return None
    from toolkit.rule_ids import RULE_ID

    if RULE_ID.match(code.strip()):  # a rule's explanation needs the rules
        return None
    from toolkit.catalogue_lookup import explanation
    from toolkit.errors import ConfigError

    try:
        return explanation(code)
    except ConfigError:  # the click CLI reports it
        return None


def default_config_path() -> str | None:
    """``toolkit.cli.config.default_config_path()`` without pathlib; None when there is no home
    directory to find it in (``Path.home()`` raises)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home.startswith("~"):
            return None
        base = os.path.join(home, ".config")
    return os.path.join(base, "windns", "config.toml")


def _config_may_apply() -> bool:
    if _CONFIG_ENV in os.environ:
        return True
    path = default_config_path()
    return path is None or os.path.lexists(path)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (click's width) without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):  # closed, detached, not a terminal
            columns = 0
    return columns if columns > 0 else 80


def _click_version_is(version: str) -> bool:
    """Whether the click that ``import click`` would load is ``version``, by its metadata
    directory next to it (without importing it: that is the time saved)."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec("click", None) if find_spec is not None else None
        if spec is not None:
            break
    else:
        return False
    if not spec.origin:
        return False
    site = os.path.dirname(os.path.dirname(spec.origin))
    return any(
        os.path.exists(os.path.join(site, f"click-{version}.{kind}")) for kind in ("dist-info", "egg-info")
    )


def _plain_stdout() -> bool:
    """Whether click would write to ``sys.stdout`` itself, as this module does."""
    encoding = getattr(sys.stdout, "encoding", None)
    if sys.stdout is None or not encoding:
        return False
    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return False
