"""Global options after the subcommand: ``windns keys list --server dns1 -v`` means
``windns --server dns1 -v keys list``.

``hoist_global_options`` moves every option of the root group that follows the subcommand (with
its value) to just before it, where click parses it. An option the subcommand (or a group on the
way to it) defines itself stays where it is and keeps that command's meaning (``dns serve-demo
--port``, ``fake-server --username``). Everything after ``--`` is left alone, and so is anything
unknown: click reports it. New root options need nothing here: the root group's own parameters are
the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click

__all__ = ["hoist_global_options", "option_value"]


def _options(params: Iterable[click.Parameter]) -> dict[str, click.Option]:
    return {name: p for p in params if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}


def _takes_value(param: click.Option) -> bool:
    return not param.is_flag and not param.count


def _split(token: str, table: dict[str, click.Option]) -> tuple[click.Option | None, bool]:
    """The option ``token`` names in ``table`` (None when it names none there), and whether its
    value is in the token itself (``--server=dns1``, ``-sdns1``) rather than the next one."""
    if token.startswith("--"):
        name, eq, _ = token.partition("=")
        return table.get(name), bool(eq)
    first = table.get(token[:2])
    if first is None or len(token) == 2:
        return first, False
    if _takes_value(first):
        return first, True  # -sdns1
    # a cluster of flags (-vv, -qv): one owner only if every letter is its flag
    if all((p := table.get(f"-{c}")) is not None and not _takes_value(p) for c in token[1:]):
        return first, False
    return None, False


def _is_option(token: str) -> bool:
    return token.startswith("-") and token != "-"


def hoist_global_options(group: click.Group, ctx: click.Context, args: Sequence[str]) -> list[str]:
    """``args`` with the root ``group``'s options that follow the subcommand moved before it."""
    args = list(args)
    roots = _options(group.params)
    i = 0
    while i < len(args) and _is_option(args[i]) and args[i] != "--":
        param, inline = _split(args[i], roots)
        i += 2 if param is not None and _takes_value(param) and not inline else 1
    head, rest = args[:i], args[i:]
    if not rest or rest[0] == "--":
        return args
    moved: list[str] = []
    kept: list[str] = []
    command: click.Command = group
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            kept.extend(rest[j:])
            break
        if not _is_option(token):
            if isinstance(command, click.Group):
                sub = command.get_command(ctx, token)
                if sub is not None:
                    command = sub
            kept.append(token)
            j += 1
            continue
        own, inline = _split(token, _options(command.params)) if command is not group else (None, False)
        target = kept
        param = own
        if own is None:
            param, inline = _split(token, roots)
            if param is not None:
                target = moved
        width = 2 if param is not None and _takes_value(param) and not inline else 1
        target.extend(rest[j : j + width])
        j += width
    return head + moved + kept


def option_value(group: click.Group, args: Sequence[str], option: str) -> str | None:
    """The value given to the root ``group``'s ``option`` (a long name) before the subcommand in
    ``args`` (already hoisted), or None; the last one counts, as click counts it."""
    roots = _options(group.params)
    value = None
    i = 0
    while i < len(args) and _is_option(args[i]) and args[i] != "--":
        param, inline = _split(args[i], roots)
        takes = param is not None and _takes_value(param)
        if param is not None and option in param.opts and takes:
            token = args[i]
            if inline:
                value = token.partition("=")[2] if token.startswith("--") else token[2:]
            else:
                value = args[i + 1] if i + 1 < len(args) else None
        i += 2 if takes and not inline else 1
    return value
