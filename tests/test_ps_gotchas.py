"""Static checks for PowerShell gotchas in ps_scripts/*.ps1 (the checks live in tests/ps_gotchas.py).

Each check follows a page outside this project (MicrosoftDocs/PowerShell-Docs at the commit named in
``fixtures/reference/core-cmdlets-5.1.json``, PowerShell/PSScriptAnalyzer ``docs/Rules``):

1. **A parameter's value does not say whether it was given** (``param_value_problems``).
   ``reference/docs-conceptual/learn/deep-dives/everything-about-null.md``, "Function parameters":
   "As soon as you set the type of the parameter as a string, the value can never be $null ... Use
   the automatic variable $PSBoundParameters"; "Enumerable null": ``@($null).Count`` is 1. For a
   parameter of the script's ``param()`` block the check rejects ``.Count``/``.Length`` of ``$P``
   or ``@($P)`` outside a ``$PSBoundParameters.ContainsKey('P')`` branch, ``$P`` as a whole operand
   of an if/elseif/while condition (``if ($P)``, ``if (-not $P)``, ``if (!$P -and $x)``), and ``$P``
   compared with ``$null``, 0 or ''. **Switches** may be tested by value: their unbound value is a
   plain false, and about_Functions_Advanced_Parameters says "Use the [switch] parameter variable
   directly in a conditional expression" and "Always base the behavior controlled by the [switch]
   parameter on the value of the parameter, not its presence". So for a switch the check is the
   other way round (``switch_presence_problems``): inside a ``ContainsKey('S')`` branch the script
   passes ``$S`` on, never a literal ``$true``.
2. **$null on the right of -eq/-ne** (``null_right_problems``): PSScriptAnalyzer
   ``docs/Rules/PossibleIncorrectComparisonWithNull.md``; with a collection on the left the
   comparison filters it instead of testing it.
3. **Values leaking into the output** (``leak_problems``): about_Return, "the results of each
   statement are returned as output"; PSScriptAnalyzer ``docs/Rules/AvoidUsingArrayList.md``,
   "the ArrayList.Add method returns the index of the added element which often unintentionally
   pollutes the PowerShell pipeline". In functions and at the top of a script, a bare method call,
   a bare call of an effect cmdlet that outputs (New-Item; a DnsServer cmdlet with -PassThru), or a
   bare call of a script function that returns a value must be captured or discarded.
4. **Windows PowerShell 5.1** (``ps51_variable_problems``): automatic variables documented for 7.4
   only (``$IsWindows``, ``$IsLinux``, ``$IsMacOS``, ``$IsCoreCLR``...), taken from
   about_Automatic_Variables 5.1 vs 7.4 by the table generator. PS 7-only cmdlets and parameters
   fail the cmdlet referee (tests/test_ps_cmdlet_syntax.py); PS 7-only operators fail
   tests/test_ps_scripts.py.

Each check fails on small bad snippets and on broken copies of the real scripts, and passes on
every real script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ps_ast import FILES, SCRIPTS, Problem, mutated_copy, sent, sent_origins
from tests.ps_gotchas import (
    leak_problems,
    null_right_problems,
    param_value_problems,
    ps51_variable_problems,
    switch_presence_problems,
)

CHECKS: dict[str, Callable[[str], list[Problem]]] = {
    "param_value": param_value_problems,
    "switch_presence": switch_presence_problems,
    "null_right": null_right_problems,
    "leak": leak_problems,
    "ps51_variable": ps51_variable_problems,
}

#: statements that print on purpose: the WinRM bootstrap's output is the script's output, escaped
DELIBERATE_OUTPUT = {("_winrm_bootstrap.ps1", "leak"): "[regex]::Replace($item, '[^\\x00-\\x7F]', $escape)"}


def _all(source: str) -> dict[str, list[Problem]]:
    return {name: check(source) for name, check in CHECKS.items()}


# -- every real script ------------------------------------------------------------------------------
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_the_script_as_sent_passes(script: Path, check: str) -> None:
    source = sent(script)
    origins = sent_origins(script)
    problems = CHECKS[check](source)
    allowed = DELIBERATE_OUTPUT.get((script.name, check))
    if allowed is not None:
        # the allowance is still needed, and it is the only one
        assert [p.what.split(": ")[0] for p in problems] == [allowed], problems
        return
    assert not problems, f"{script.name}:\n  " + "\n  ".join(
        f"{origins[p.line - 1]}: {p.what}" for p in problems
    )


@pytest.mark.parametrize("part", [f for f in FILES if f not in SCRIPTS], ids=lambda p: p.name)
def test_a_shared_part_passes(part: Path) -> None:
    found = {k: v for k, v in _all(part.read_text(encoding="utf-8-sig")).items() if v}
    assert not found, found


# -- the checks fail on broken copies of the real scripts ------------------------------------------
@dataclass(frozen=True)
class Edit:
    """One edit of a real script as sent: ``text[start:end]`` becomes ``new``."""

    script: Path
    start: int
    end: int
    new: str
    expect: str  # a text the check's report must contain

    def apply(self) -> str:
        source = sent(self.script)
        return source[: self.start] + self.new + source[self.end :]

    def __str__(self) -> str:
        source = sent(self.script)
        return f"{sent_origins(self.script)[source.count(chr(10), 0, self.start)]}:{self.new or 'deleted'}"


def _presence_edits() -> list[Edit]:
    """Every ``if ($PSBoundParameters.ContainsKey('P'))`` on a non-switch parameter, rewritten as the
    old inventory.ps1 did (``@($P).Count -gt 0``) or as a plain ``$P``."""
    edits: list[Edit] = []
    for script in SCRIPTS:
        source = sent(script)
        switches = set(re.findall(r"\[switch\]\$(\w+)", source))
        for m in re.finditer(r"if \((\$PSBoundParameters\.ContainsKey\('(\w+)'\))", source):
            name = m.group(2)
            if name not in switches:
                for new in (f"(@(${name}).Count -gt 0)", f"${name}"):
                    edits.append(Edit(script, m.start(1), m.end(1), new, f"${name}"))
    return edits


def _discard_edits() -> list[Edit]:
    """Every ``$null = $x.Method(...)`` with its ``$null = `` deleted."""
    return [
        Edit(script, m.start(), m.end(), "", "the method's return value goes to the output")
        for script in SCRIPTS
        for m in re.finditer(r"\$null = (?=\$\w+\.\w+\()", sent(script))
    ]


def _null_edits() -> list[Edit]:
    """Every ``$null -eq $x`` / ``$null -ne $x`` turned round."""
    return [
        Edit(script, m.start(), m.end(), f"{m.group(2)} {m.group(1)} $null", "$null on the right")
        for script in SCRIPTS
        for m in re.finditer(r"\$null (-eq|-ne) (\$\w+)(?=[)\s])", sent(script))
    ]


@pytest.mark.parametrize("edit", _presence_edits(), ids=str)
def test_a_presence_test_turned_into_a_value_test_fails(edit: Edit) -> None:
    assert any(edit.expect in p.what for p in param_value_problems(edit.apply()))


@pytest.mark.parametrize("edit", _discard_edits(), ids=str)
def test_a_discarded_return_value_no_longer_discarded_fails(edit: Edit) -> None:
    assert any(edit.expect in p.what for p in leak_problems(edit.apply()))


@pytest.mark.parametrize("edit", _null_edits(), ids=str)
def test_a_null_comparison_turned_round_fails(edit: Edit) -> None:
    assert any(edit.expect in p.what for p in null_right_problems(edit.apply()))


def test_the_real_scripts_give_the_broken_copies_enough_to_break() -> None:
    """The edits above come from the scripts; if a rewrite left none, their tests would pass empty."""
    assert len(_presence_edits()) >= 10
    assert len(_discard_edits()) >= 1
    assert len(_null_edits()) >= 20


@pytest.mark.parametrize(
    ("script", "line", "leaks"),
    [
        ("zone_export_keys.ps1", "New-Item -ItemType Directory -Path $directory | Out-Null", True),
        ("key_set.ps1", "Set-DnsServerSigningKey @arguments | Out-Null", True),  # PassThru = $true
        ("zone_dnssec_set.ps1", "Set-DnsServerDnsSecZoneSetting @arguments | Out-Null", True),
        # no -PassThru: "By default, this cmdlet does not generate any output"
        (
            "key_remove.ps1",
            "Remove-DnsServerSigningKey -ZoneName $ZoneName -KeyId $ids -Force | Out-Null",
            False,
        ),
    ],
)
def test_an_out_null_removed_from_a_copy_leaks_only_what_the_cmdlet_outputs(
    tmp_path: Path, script: str, line: str, leaks: bool
) -> None:
    source = mutated_copy(tmp_path, script, line, line.replace(" | Out-Null", ""))
    problems = [p for p in leak_problems(source) if "goes to the output stream" in p.what]
    assert bool(problems) is leaks, problems


def test_the_old_inventory_zone_test_fails() -> None:
    """inventory.ps1 once read ``if (@($ZoneName).Count -gt 0)``: a full audit listed no zones."""
    source = (
        "param([string[]]$ZoneName)\nif (@($ZoneName).Count -gt 0) { foreach ($n in $ZoneName) { $n } }\n"
    )
    assert any("@($null).Count is 1" in p.what for p in param_value_problems(source))


# -- each check fails on a small snippet ---------------------------------------------------------
@pytest.mark.parametrize(
    ("check", "snippet"),
    [
        ("param_value", "param([string[]]$ZoneName)\nif (@($ZoneName).Count -gt 0) { 1 }"),
        ("param_value", "param([string[]]$ZoneName)\n$n = $ZoneName.Count"),
        ("param_value", "param([string]$Name)\n$n = $Name.Length"),
        (
            "param_value",
            "param([string[]]$Z)\nif (-not $PSBoundParameters.ContainsKey('Z')) { $n = @($Z).Count }",
        ),
        ("param_value", "param([string]$Name)\nif ($Name) { 1 }"),
        ("param_value", "param([string]$Name)\nif (-not $Name) { 1 }"),
        ("param_value", "param([string]$Name)\nif (!$Name) { 1 }"),
        ("param_value", "param([string]$Name, [int]$N)\nif ($N -and ($Name)) { 1 }"),
        ("param_value", "param([string]$Name)\nif ($x) { 1 } elseif ($Name) { 2 }"),
        ("param_value", "param([string]$Name)\nwhile ($Name) { break }"),
        ("param_value", "param([string]$Name)\nif ($null -eq $Name) { 1 }"),
        ("param_value", "param([string]$Name)\nif ($Name -ne '') { 1 }"),
        ("param_value", "param([int]$N)\nif ($N -gt 0) { 1 }"),
        (
            "switch_presence",
            "param([switch]$Force)\n$a = @{}\n"
            "if ($PSBoundParameters.ContainsKey('Force')) { $a['Force'] = $true }",
        ),
        ("null_right", "if ($x -eq $null) { 1 }"),
        ("null_right", "if ($x -ne $null) { 1 }"),
        ("null_right", "$b = $x -ieq $null"),
        (
            "leak",
            "function f {\n    $l = New-Object System.Collections.ArrayList\n    $l.Add(1)\n    return $l\n}",
        ),
        ("leak", "$l = New-Object System.Collections.ArrayList\nforeach ($i in 1, 2) { $l.Add($i) }"),
        ("leak", "$l = New-Object System.Collections.ArrayList\nif ($x) { $l.Add(1) } else { $l.Add(2) }"),
        ("leak", "$l = New-Object System.Collections.ArrayList\ntry { $l.Add(1) } catch { throw }"),
        ("leak", "$l = New-Object System.Collections.ArrayList\n1, 2 | ForEach-Object { $l.Add($_) }"),
        ("leak", "$s = New-Object System.Text.StringBuilder\n$s.Append('x')"),
        ("leak", "New-Item -ItemType Directory -Path 'x'"),
        ("leak", "Set-DnsServerSigningKey -ZoneName z -KeyId $k -PassThru"),
        ("leak", "$a = @{ ZoneName = 'z'; PassThru = $true }\nInvoke-DnsServerZoneSign @a"),
        ("leak", "function New-X { return 1 }\nNew-X"),
        ("ps51_variable", "if ($IsWindows) { 1 }"),
        ("ps51_variable", "$core = $IsCoreCLR"),
    ],
)
def test_each_check_fails_on_a_bad_snippet(check: str, snippet: str) -> None:
    problems = CHECKS[check](snippet + "\n")
    assert problems, f"{check} missed: {snippet!r}"
    others = {k: v for k, v in _all(snippet + "\n").items() if v and k != check}
    assert not others, others  # each snippet breaks one rule only


@pytest.mark.parametrize(
    "snippet",
    [
        "param([string[]]$Z)\nif ($PSBoundParameters.ContainsKey('Z')) { $n = @($Z).Count }",
        "param([string]$Name)\nif ($PSBoundParameters.ContainsKey('Name')) { $a = @{ Name = $Name } }",
        "param([switch]$Force)\nif ($Force) { 1 }",
        "param([switch]$Force)\n$a = @{}\n"
        "if ($PSBoundParameters.ContainsKey('Force')) { $a['Force'] = $Force }",
        "param([string]$Name)\nfunction f($Name) { if ($Name) { 1 } }",
        "param([string]$Name)\nfunction f { $Name = 'x'; if ($Name) { 1 } }",
        "if ($null -eq $x) { 1 }",
        "$l = New-Object System.Collections.ArrayList\n[void]$l.Add(1)\n$null = $l.Add(2)\n"
        "$l.Add(3) | Out-Null\n$l.Add(4) > $null",
        "$l = New-Object System.Collections.ArrayList\n$n = $l.Add(1)\n$t = @($l.ToArray())",
        "$r = @(1, 2 | ForEach-Object { [System.IO.File]::ReadAllText($_) })",
        "function f($d) { return $d.ToUniversalTime().ToString('o') }",
        "New-Item -ItemType Directory -Path 'x' | Out-Null",
        "Set-DnsServerSigningKey -ZoneName z -KeyId $k",
        "ConvertTo-Json -InputObject $doc -Depth 8 -Compress",
        "function New-X { return 1 }\n$x = New-X",
        "$s = '$IsWindows'",
    ],
)
def test_the_checks_accept_good_code(snippet: str) -> None:
    found = {k: v for k, v in _all(snippet + "\n").items() if v}
    assert not found, found
