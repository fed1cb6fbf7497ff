"""The admin (write) scripts in ps_scripts/: rules the generic script checks do not cover.

TimeSpans are built with [TimeSpan]::FromSeconds (New-TimeSpan -Seconds takes an Int32 and
overflows beyond about 24,855 days), progress output is silenced, and KeyLength is projected as
[long] like inventory.ps1 does. Each check reads the tree-sitter syntax tree, so comments and
strings never satisfy or trip it, and each has a negative control.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from toolkit.resources import script_text

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "ps_scripts"
# zone_dnskeys.ps1 is a read (the key tags of an audit), not a change
ADMIN_SCRIPTS = sorted(
    p for p in [*SCRIPTS_DIR.glob("key_*.ps1"), *SCRIPTS_DIR.glob("zone_*.ps1")] if p.stem != "zone_dnskeys"
)
KEY_SCRIPTS = sorted(SCRIPTS_DIR.glob("key_*.ps1"))


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _nodes(source: str) -> list[tree_sitter.Node]:
    return list(_walk(_parser().parse(source.encode("utf-8")).root_node))


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def commands(source: str) -> list[str]:
    """Every command name called (lower case)."""
    return [_text(n).lower() for n in _nodes(source) if n.type == "command_name"]


def assignments(source: str) -> dict[str, str]:
    """``$Variable = value`` statements: variable (lower case) -> value text."""
    out: dict[str, str] = {}
    for n in _nodes(source):
        if n.type == "assignment_expression" and len(n.children) >= 3:
            out[_text(n.children[0]).strip().lower()] = _text(n.children[2]).strip()
    return out


def silences_progress(source: str) -> bool:
    return assignments(source).get("$progresspreference") == "'SilentlyContinue'"


def builds_timespans_safely(source: str) -> bool:
    return "new-timespan" not in commands(source)


_LONG_HELPER = re.compile(r"return\s+\[long\]\$Value", re.IGNORECASE)


def projects_key_length_as_long(source: str) -> bool:
    """``KeyLength = ConvertTo-WindnsNumber $Key.KeyLength`` with that helper returning [long]."""
    nodes = _nodes(source)
    helpers = [
        n
        for n in nodes
        if n.type == "function_statement" and "ConvertTo-WindnsNumber" in _text(n).split("{")[0]
    ]
    if not helpers or not _LONG_HELPER.search(_text(helpers[0])):
        return False
    for n in nodes:
        if n.type == "hash_entry" and _text(n.children[0]).strip() == "KeyLength":
            value = _text(n.children[-1]).strip()
            return value in ("ConvertTo-WindnsNumber $Key.KeyLength", "[long]$Key.KeyLength")
    return False


def test_there_are_admin_scripts() -> None:
    assert len(KEY_SCRIPTS) == 4 and len(ADMIN_SCRIPTS) == 8


@pytest.mark.parametrize("script", ADMIN_SCRIPTS, ids=lambda p: p.name)
def test_admin_script_silences_progress_and_uses_fromseconds(script: Path) -> None:
    source = script_text(script.stem)
    assert silences_progress(source)
    assert builds_timespans_safely(source)


@pytest.mark.parametrize("script", KEY_SCRIPTS, ids=lambda p: p.name)
def test_key_script_projects_key_length_as_long(script: Path) -> None:
    assert projects_key_length_as_long(script_text(script.stem))


def test_timespan_scripts_convert_seconds_with_fromseconds() -> None:
    for name in ("key_add.ps1", "key_set.ps1", "key_rollover.ps1"):
        assert "[TimeSpan]::FromSeconds(" in script_text(name.removesuffix(".ps1")), name


def test_checks_catch_what_they_look_for() -> None:
    good = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n"
    assert silences_progress(good)
    assert not silences_progress("# $ProgressPreference = 'SilentlyContinue'\n$x = 1\n")
    assert not silences_progress("$ProgressPreference = 'Continue'\n")
    assert builds_timespans_safely("$t = [TimeSpan]::FromSeconds($s)\n")
    assert not builds_timespans_safely("$t = New-TimeSpan -Seconds $s\n")
    assert builds_timespans_safely("# New-TimeSpan -Seconds $s\n$m = 'New-TimeSpan'\n")
    helper = "function ConvertTo-WindnsNumber($Value) {\n    return [long]$Value\n}\n"
    assert projects_key_length_as_long(
        helper + "$k = [ordered]@{ KeyLength = ConvertTo-WindnsNumber $Key.KeyLength }\n"
    )
    assert not projects_key_length_as_long(helper + "$k = [ordered]@{ KeyLength = $Key.KeyLength }\n")
    assert not projects_key_length_as_long(
        "function ConvertTo-WindnsNumber($Value) { return $Value }\n"
        "$k = [ordered]@{ KeyLength = ConvertTo-WindnsNumber $Key.KeyLength }\n"
    )


def test_a_user_salt_is_sent_with_random_salt_length_zero() -> None:
    """MS-DNSP 3.1.1.2.3: NSEC3UserSalt is ignored unless NSEC3RandomSaltLength is 0, so the
    script pairs them; without it `--nsec3-salt -` (and the NSEC002 fix) would change nothing."""
    import re

    source = script_text("zone_dnssec_set")
    assert re.search(
        r"ContainsKey\('NSec3UserSalt'\).*?\$arguments\['NSec3RandomSaltLength'\]\s*=\s*\[byte\]0",
        source,
        flags=re.S,
    )
