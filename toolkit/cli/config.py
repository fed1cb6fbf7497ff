"""The config file: defaults for options, in TOML.

Where: ``--config FILE``, else ``$WINDNS_CONFIG``, else ``$XDG_CONFIG_HOME/windns/config.toml``
(``~/.config/windns/config.toml``); a file named by the first two must exist, the default one
need not. What it holds (option names as on the command line, without the dashes)::

    server = "dns1.corp.example"     # any global option: transport, auth, username, port, ...
    auth = "kerberos"
    format = "json"                  # for every command whose --format offers it
    policy = "/etc/windns/policy.toml"
    db = "/var/lib/windns/history.sqlite3"

    [scan]                           # one command's options ([keys.list], [dns.check], ...)
    concurrency = 32

Top-level keys are the root group's options (``windns --help``) and ``format``, ``policy``,
``profile``, ``fail-on`` and ``db``, which apply to every command that has that option. A table
names a command by its path and sets that command's options. The values become click's
``default_map``: an option on the command line wins, then its environment variable, then the
config file, then the built-in default. A password is never read from it (``WINDNS_PASSWORD`` or
the prompt); anything the file gets wrong is one ``ConfigError`` naming file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from toolkit.errors import ConfigError

__all__ = ["CONFIG_ENV", "FANOUT_KEYS", "default_config_path", "default_map", "find_config"]

CONFIG_ENV = "WINDNS_CONFIG"
#: Top-level keys that set the option of that name on every command that has it.
FANOUT_KEYS = ("format", "policy", "profile", "fail-on", "db")
#: Root options that are not defaults of anything.
_NOT_CONFIGURABLE = frozenset({"config", "help", "version"})
_SECRET_KEYS = frozenset({"password", "passwd", "pass", "secret"})


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "windns" / "config.toml"


def find_config(given: str | None) -> Path | None:
    """The config file to read: ``given`` (``--config``), else ``$WINDNS_CONFIG``, else the
    default path if it exists. ``ConfigError`` for a named file that does not exist."""
    named = given if given is not None else os.environ.get(CONFIG_ENV) or None
    if named is not None:
        path = Path(named)
        if not path.is_file():
            why = "is a directory" if path.is_dir() else "does not exist"
            source = "--config" if given is not None else CONFIG_ENV
            raise ConfigError(f"config file {path} ({source}) {why}")
        return path
    path = default_config_path()
    return path if path.is_file() else None


class _Lines:
    """Where a key is in the file, for errors (``file:line``)."""

    _HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, table: tuple[str, ...], key: str | None) -> int | None:
        want = ".".join(table)
        current = ""
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=") if key else None
        for no, line in enumerate(self.lines, start=1):
            h = self._HEADER.match(line)
            if h:
                current = ".".join(part.strip().strip("\"'") for part in h.group(1).split("."))
                if key_re is None and current == want:
                    return no
                continue
            if key_re is not None and current == want and key_re.match(line):
                return no
        return None


def _option_named(command: click.Command, key: str) -> click.Option | None:
    flag = "--" + key.replace("_", "-")
    return next(
        (p for p in command.params if isinstance(p, click.Option) and flag in p.opts),
        None,
    )


def _subcommands(group: click.Group) -> dict[str, click.Command]:
    ctx = click.Context(group)
    out: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is not None:
            out[name] = cmd
    for alias, name in getattr(group, "ALIASES", {}).items():  # [zone.sign] as [zones.sign]
        if name in out:
            out.setdefault(alias, out[name])
    return out


def _merge_aliases(root: click.Group, built: dict[str, Any]) -> dict[str, Any]:
    """The defaults of a command's table under both its names (click looks them up by the name
    typed): ``[zone.sign]`` applies to ``windns zones sign`` and the other way round."""

    def merge(a: Any, b: Any) -> Any:
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return b if b is not None else a
        return {k: merge(a.get(k), b.get(k)) for k in {**a, **b}}

    for alias, name in getattr(root, "ALIASES", {}).items():
        if alias in built or name in built:
            built[alias] = built[name] = merge(built.get(alias), built.get(name))
    return built


class _Builder:
    def __init__(self, root: click.Group, path: Path, text: str) -> None:
        self.root = root
        self.file = str(path)
        self.where = _Lines(text)

    def error(self, message: str, table: tuple[str, ...], key: str | None) -> ConfigError:
        line = self.where.line_of(table, key)
        if line is None and key is not None:
            line = self.where.line_of(table, None)
        return ConfigError(message, file=self.file, line=line)

    def value(
        self, command: click.Command, param: click.Option, value: Any, table: tuple[str, ...], key: str
    ) -> Any:
        """``value`` checked as ``param`` would check it on the command line."""
        if isinstance(value, Mapping):
            raise self.error(f"{key!r} takes a value, not a table", table, key)
        try:
            param.type_cast_value(click.Context(command), value)
        except click.BadParameter as exc:
            raise self.error(f"{key}: {exc.message}", table, key) from None
        except (TypeError, ValueError) as exc:
            raise self.error(f"{key}: bad value {value!r} ({exc})", table, key) from None
        if param.type.name == "path" and isinstance(value, str):
            return os.path.expanduser(value)
        return value

    def check_secret(self, key: str, table: tuple[str, ...]) -> None:
        if key.lower() in _SECRET_KEYS:
            raise self.error(
                f"{key!r}: never put a password in the config file; "
                "use WINDNS_PASSWORD or the prompt (or an inventory credential reference)",
                table,
                key,
            )

    def command_table(
        self, command: click.Command, table: Mapping[str, Any], path: tuple[str, ...]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        subs = _subcommands(command) if isinstance(command, click.Group) else {}
        for key, value in table.items():
            self.check_secret(key, path)
            if key in subs and isinstance(value, Mapping):
                out[key] = self.command_table(subs[key], value, (*path, key))
                continue
            param = _option_named(command, key)
            if param is None or param.name is None:
                what = " ".join(path)
                known = sorted(
                    o[2:] for p in command.params if isinstance(p, click.Option) for o in p.opts[:1]
                )
                known = [k for k in known if k != "help"] + sorted(subs)
                raise self.error(
                    f"[{'.'.join(path)}]: {key!r} is not an option of `windns {what}`"
                    + (f" (it has {', '.join(known)})" if known else ""),
                    path,
                    key,
                )
            out[param.name] = self.value(command, param, value, path, key)
        return out

    def fanout(self, key: str, value: Any, into: dict[str, Any]) -> None:
        """Set option ``key`` on every command below the root that has it (and, for ``format``,
        offers ``value``)."""
        applied = 0

        def visit(command: click.Command, node: dict[str, Any]) -> None:
            nonlocal applied
            param = _option_named(command, key) if command is not self.root else None
            if param is not None and param.name is not None and self._accepts(param, key, value):
                node.setdefault(param.name, self.value(command, param, value, (), key))
                applied += 1
            if isinstance(command, click.Group):
                for name, sub in _subcommands(command).items():
                    child = node.setdefault(name, {})
                    if isinstance(child, dict):
                        visit(sub, child)

        visit(self.root, into)
        if not applied:
            raise self.error(f"{key} = {value!r} is not a value any command's --{key} takes", (), key)

    @staticmethod
    def _accepts(param: click.Option, key: str, value: Any) -> bool:
        if key != "format":
            return True
        # every --format is a click.Choice (toolkit.cli.output: one option per command family)
        return isinstance(param.type, click.Choice) and str(value) in param.type.choices

    def build(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        subs = _subcommands(self.root)
        fanned: list[tuple[str, Any]] = []
        for key, value in doc.items():
            self.check_secret(key, ())
            if key in subs:
                if not isinstance(value, Mapping):
                    raise self.error(f"{key!r} is a command: give its options as a [{key}] table", (), key)
                out[key] = self.command_table(subs[key], value, (key,))
                continue
            if key.replace("_", "-") in FANOUT_KEYS:
                fanned.append((key.replace("_", "-"), value))
                continue
            param = _option_named(self.root, key)
            if param is None or param.name is None or param.name in _NOT_CONFIGURABLE:
                known = sorted(
                    o[2:]
                    for p in self.root.params
                    if isinstance(p, click.Option) and p.name not in _NOT_CONFIGURABLE
                    for o in p.opts[:1]
                    if o.startswith("--")
                )
                raise self.error(
                    f"unknown key {key!r}; expected a global option ({', '.join(known)}), "
                    f"one of {', '.join(FANOUT_KEYS)}, or a [COMMAND] table",
                    (),
                    key,
                )
            out[param.name] = self.value(self.root, param, value, (), key)
        for key, value in fanned:  # after the tables: a command's own table wins
            self.fanout(key, value, out)
        return _prune(out)


def _prune(node: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty tables ``fanout`` walked through."""
    out: dict[str, Any] = {}
    for k, v in node.items():
        if isinstance(v, dict):
            v = _prune(v)
            if not v:
                continue
        out[k] = v
    return out


def default_map(root: click.Group, path: Path) -> dict[str, Any]:
    """The click ``default_map`` the config file at ``path`` gives ``root`` (see the module
    docstring); ``ConfigError`` naming file and line for anything wrong in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=str(path)) from None
    import tomllib  # only when there is a config file: not on every start

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"invalid TOML: {msg}", file=str(path), line=int(m.group(1)) if m else None
        ) from None
    return _merge_aliases(root, _Builder(root, path, text).build(doc))
