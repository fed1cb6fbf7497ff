"""The referee: every command call in ps_scripts/*.ps1 checked against Microsoft's cmdlet reference.

The reference is the data in ``fixtures/reference/`` (see its README): ``dnsserver-cmdlets.json``
from MicrosoftDocs/windows-powershell-docs (``docset/winserver2022-ps/DnsServer``, compared with the
2016, 2019 and 2025 docsets) and ``core-cmdlets-5.1.json`` from MicrosoftDocs/PowerShell-Docs
(``reference/5.1``). The checker is ``tests/ps_referee.py``. It walks the tree-sitter-powershell
tree of every script as sent (``# windns:include`` parts expanded) and of each part on its own, and
reads every command written by name (``& $scriptblock @arguments`` and other computed invocations
are not read). The rules:

1. **Known commands.** A command is a cmdlet of the tables or a function the script defines;
   anything else fails (a misspelt cmdlet, or a PowerShell 7-only one such as ``Get-Error``). The
   name is written as the reference spells it.
2. **Parameter names.** A named argument or splatted key must be one of the cmdlet's parameters,
   one of the common parameters its page says it supports (their aliases from about_CommonParameters),
   or a documented alias. PowerShell also takes any unambiguous prefix of a name ("any distinct
   leading part of the full name may be used, provided that is unambiguous", lang-spec
   ``reference/docs-conceptual/lang-spec/chapter-02.md`` §2.3.4); the referee rejects prefixes, so
   that a parameter added in a later release cannot make a script's abbreviation ambiguous.
   A parameter that only the PowerShell 7.4 page has is reported as such (``ConvertTo-Json -AsArray``),
   and a DnsServer parameter missing from one of the four docsets is reported with the docset.
3. **Switches.** A switch given a value must get ``$true``, ``$false``, 0/1, or a script parameter
   typed ``[switch]``/``[bool]`` (``-Force:$true``, a splatted ``Force = $true``); a switch followed
   by ``$true``/``$false`` with a space is reported, since the value then becomes a positional
   argument (about_Functions_Advanced_Parameters, "[switch] parameters"). A non-switch parameter
   must have a value. Accepted values: a literal value, or every value of the ``ValidateSet`` of the
   script parameter passed on, must be among the page's accepted values.
4. **Parameter sets.** Splatted hashtables are resolved statically: the keys of the literal
   ``$h = @{...}`` (the last one before the call in an enclosing block) plus every key set by
   ``$h['K'] = ...``, ``$h.K = ...`` or ``$h.Add('K', ...)`` between the literal and the call. An
   index must be a literal, a ``foreach`` variable over a written list or over ``$t.Keys`` of a
   hashtable literal, or ``$t[$var]`` with ``$var`` walking ``$t.Keys``; any other index fails (the
   referee never skips a key it cannot see). A key set in a block nested below the literal's (an
   ``if``, a loop, a ``switch`` clause) or by a loop is *conditional*. The call is checked with its
   unconditional parameters alone, with each conditional key added, and with each pair of
   conditional keys added unless the two sit in different branches of one ``if``/``switch``. For
   each combination some parameter set must contain every parameter, and a set containing them must
   get all its mandatory parameters: by name, by position (positional arguments bind to the set's
   positional parameters in order), or, for a command that receives pipeline input, through a
   parameter that accepts it. When several sets qualify and the default is not among them the set
   is ambiguous (about_Parameter_Sets, AmbiguousParameterSet). A parameter given twice fails.
5. **-PassThru.** When a cmdlet's page says "By default, this cmdlet does not generate any output"
   and its output is used (assigned to anything but ``$null``, piped to any command but
   ``Out-Null``, inside ``@()``/``$()``/``()``, an argument, an operand, returned), the call must
   pass -PassThru unconditionally.
6. **Script functions.** A named argument must be one of the function's parameters, and there must
   not be more positional arguments than parameters (the rest would go to ``$args`` unnoticed).

Each rule is shown to fail on a small snippet below, and the referee's own failure mode is tested on
copies of the real scripts: a misspelt parameter in every call, -PassThru removed.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from tests.ps_ast import PARTS, SCRIPTS, Problem, mutated_copy, parse, sent, sent_origins, text
from tests.ps_referee import (
    REFERENCE,
    Cmdlet,
    _tables,
    call_problems,
    called_commands,
    command_nodes,
    functions,
    read_call,
    reference,
    resolve_splat,
)

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_cmdlet_table", REFERENCE / "build_cmdlet_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(name: str, problems: list[Problem], origins: list[str] | None = None) -> str:
    where = (lambda p: origins[p.line - 1]) if origins else (lambda p: f"{name}:{p.line}")
    return f"{name}:\n  " + "\n  ".join(f"{where(p)}: {p.what}" for p in problems)


# -- the tables -------------------------------------------------------------------------------------
def test_tables_name_their_source_commit_and_pages() -> None:
    dns, core = _tables()
    assert dns["source"]["repository"] == "MicrosoftDocs/windows-powershell-docs"
    assert dns["source"]["primary_docset"] == "docset/winserver2022-ps/DnsServer"
    assert dns["source"]["docsets"] == [f"docset/winserver{v}-ps/DnsServer" for v in (2016, 2019, 2022, 2025)]
    assert core["source"]["repository"] == "MicrosoftDocs/PowerShell-Docs"
    assert core["source"]["pages"].startswith("reference/5.1/")
    for table in (dns, core):
        assert HEX40.match(table["source"]["commit"]), table["source"]
        for name, entry in table["cmdlets"].items():
            assert entry["page"].endswith(f"/{name}.md")
            assert HEX40.match(entry["page_commit"])


def test_tables_cover_every_cmdlet_a_script_calls_and_the_dnssec_cmdlets() -> None:
    dns, core = _tables()
    called = set().union(*(called_commands(sent(s)) for s in SCRIPTS))
    defined = set().union(*(functions(parse(sent(s)).root_node) for s in SCRIPTS))
    missing = sorted(c for c in called if c.lower() not in reference() and c.lower() not in defined)
    assert not missing, f"not in fixtures/reference/*.json: {missing} (add them to build_cmdlet_table.py)"
    dnsserver_called = {c for c in called if "-DnsServer" in c}
    assert len(dnsserver_called) >= 15
    assert dnsserver_called <= set(dns["cmdlets"])
    assert set(_generator().DNSSEC_CMDLETS) <= set(dns["cmdlets"])
    assert {"ConvertTo-Json", "Select-Object", "Out-Null", "ForEach-Object"} <= set(core["cmdlets"])


def test_tables_read_the_pages_right() -> None:
    """Facts the pages state in words, as the tables hold them."""
    dns, core = _tables()
    export = dns["cmdlets"]["Export-DnsServerDnsSecPublicKey"]
    assert export["no_output_without_passthru"] is True
    assert "does not generate any output" in export["passthru_text"]
    assert export["default_parameter_set"] == "DnsKey"
    assert export["parameter_sets"]["DS"]["parameters"]["DigestType"]["mandatory"] is True
    assert "DigestType" not in export["parameter_sets"]["DnsKey"]["parameters"]
    assert export["parameters"]["DigestType"]["accepted_values"] == ["Sha1", "Sha256", "Sha384"]
    assert export["parameters"]["ZoneName"]["aliases"] == ["TrustAnchorName", "TrustPointName"]
    assert dns["cmdlets"]["Get-DnsServerZone"]["no_output_without_passthru"] is False
    assert dns["cmdlets"]["Get-DnsServerTrustAnchor"]["parameters"]["Name"]["mandatory_in"] == [
        "__AllParameterSets"
    ]
    assert (
        dns["cmdlets"]["Get-DnsServerSetting"]["parameter_sets"]["All"]["parameters"]["All"]["mandatory"]
        is True
    )
    assert dns["cmdlets"]["Add-DnsServerSigningKey"]["parameters"]["Type"]["aliases"] == ["KeyType"]
    assert dns["cmdlets"]["Set-DnsServerSigningKey"]["parameters"]["KeyId"]["type"] == "Guid"
    assert dns["cmdlets"]["Remove-DnsServerSigningKey"]["parameters"]["KeyId"]["type"] == "Guid[]"
    step = dns["cmdlets"]["Step-DnsServerSigningKeyRollover"]
    assert set(step["docset_differences"]) == {"winserver2016-ps", "winserver2019-ps"}  # no output type named
    assert core["cmdlets"]["ConvertTo-Json"]["later_only_parameters"].keys() >= {"AsArray", "EnumsAsStrings"}
    assert "AsHashtable" in core["cmdlets"]["ConvertFrom-Json"]["later_only_parameters"]
    assert "Parallel" in core["cmdlets"]["ForEach-Object"]["later_only_parameters"]
    assert core["common_parameters"]["ErrorAction"]["aliases"] == ["ea"]
    assert core["common_parameters"]["ProgressAction"]["added_in"] == "7.4"
    assert "ProgressAction" not in core["cmdlets"]["Select-Object"]["common_parameters"]


@pytest.mark.parametrize(
    "cmdlet", sorted(_tables()[0]["cmdlets"]), ids=lambda c: c.replace("-DnsServer", "-")
)
@pytest.mark.parametrize(
    "common",
    [
        "-CimSession $s",
        "-Session $s",
        "-ThrottleLimit 2",
        "-AsJob",
        "-ErrorAction Stop",
        "-ea Stop",
        "-Verbose",
        "-vb",
        "-WarningAction SilentlyContinue",
        "-ErrorVariable e",
        "-OutVariable o",
    ],
)
def test_every_dnsserver_cmdlet_takes_the_common_parameters(cmdlet: str, common: str) -> None:
    problems = [p for p in call_problems(f"{cmdlet} {common}\n") if "mandatory" not in p.what]
    assert problems == [], problems


def test_computername_is_taken_where_the_page_lists_it() -> None:
    """Every DnsServer page but one lists -ComputerName; its alias Cn is on most pages, not all."""
    dns, _ = _tables()
    without = sorted(c for c, e in dns["cmdlets"].items() if "ComputerName" not in e["parameters"])
    assert without == ["Reset-DnsServerZoneKeyMasterRole"]
    assert call_problems("Get-DnsServerZone -ComputerName 'dc1' -Name z\n") == []
    assert call_problems("Get-DnsServerZone -Cn 'dc1' -Name z\n") == []
    problems = call_problems("Reset-DnsServerZoneKeyMasterRole -ZoneName z -ComputerName 'dc1' -Force\n")
    assert any("-ComputerName: no such parameter" in p.what for p in problems), problems


def test_whatif_and_confirm_only_where_the_page_has_them() -> None:
    assert call_problems("Remove-DnsServerSigningKey -ZoneName z -KeyId $k -WhatIf -Confirm:$false\n") == []
    problems = call_problems("Get-DnsServerZone -WhatIf\n")
    assert any("-WhatIf" in p.what and "no such parameter" in p.what for p in problems), problems


# -- every real script ------------------------------------------------------------------------------
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_call_in_the_script_as_sent_follows_the_reference(script: Path) -> None:
    problems = call_problems(sent(script))
    assert not problems, _report(script.name, problems, sent_origins(script))


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.name)
def test_every_call_in_a_shared_part_follows_the_reference(part: Path) -> None:
    problems = call_problems(part.read_text(encoding="utf-8-sig"))
    assert not problems, _report(part.name, problems)


def test_the_scripts_call_cmdlets_with_splatted_and_conditional_keys() -> None:
    """The splat resolution is exercised by the real scripts: literal keys, keys set in branches
    and keys named by loops over written lists and over a table's keys."""
    kinds: set[str] = set()
    for script in SCRIPTS:
        root = parse(sent(script)).root_node
        for cmd in command_nodes(root):
            cmdlet = reference().get(text(cmd.children[0]).lower())
            if cmdlet is None:
                continue
            for var in read_call(cmd, cmdlet, None).splats:
                args, problems = resolve_splat(root, var, cmd)
                assert not problems
                kinds |= {"literal" for a in args if not a.conditional}
                kinds |= {"conditional" for a in args if a.conditional and not a.env}
                kinds |= {"loop" for a in args if a.env}
    assert kinds == {"literal", "conditional", "loop"}


# -- the referee fails on broken copies of the real scripts ----------------------------------------
def _mutated(tmp_path: Path, script: str, old: str, new: str) -> str:
    return mutated_copy(tmp_path, script, old, new)


def test_a_copy_of_zone_export_keys_without_passthru_fails(tmp_path: Path) -> None:
    source = _mutated(tmp_path, "zone_export_keys.ps1", "; PassThru = $true }", " }")
    problems = call_problems(source)
    assert any(
        p.what.startswith("Export-DnsServerDnsSecPublicKey output is used but it runs without -PassThru")
        and "does not generate any output" in p.what
        for p in problems
    ), problems


def test_a_copy_of_zone_export_keys_with_a_conditional_passthru_fails(tmp_path: Path) -> None:
    source = _mutated(
        tmp_path,
        "zone_export_keys.ps1",
        "        $kind = 'DS'\n",
        "        $kind = 'DS'\n        $arguments['PassThru'] = $true\n",
    )
    source = source.replace("; PassThru = $true }", " }")
    problems = call_problems(source)
    assert any("only sometimes with -PassThru" in p.what for p in problems), problems


def test_a_copy_of_key_add_without_passthru_fails(tmp_path: Path) -> None:
    source = _mutated(tmp_path, "key_add.ps1", "; PassThru = $true }", " }")
    assert any("Add-DnsServerSigningKey output is used" in p.what for p in call_problems(source))


@pytest.mark.parametrize(
    ("script", "old", "new", "expected"),
    [
        (
            "zone_export_keys.ps1",
            "@{ ZoneName = $ZoneName; Path",
            "@{ ZoneNme = $ZoneName; Path",
            "'ZoneNme': no such",
        ),
        ("key_remove.ps1", "-KeyId $ids -Force", "-KeyID $ids -Forse", "-Forse: no such"),
        (
            "key_rollover.ps1",
            "$arguments['RolloverPeriod']",
            "$arguments['RollOverPeriods']",
            "'RollOverPeriods'",
        ),
        (
            "key_add.ps1",
            "InitialRolloverOffsetSeconds         = 'InitialRolloverOffset'",
            "InitialRolloverOffsetSeconds         = 'InitialRollover'",
            "abbreviation of -InitialRolloverOffset",
        ),
        (
            "zone_dnssec_set.ps1",
            "'NSec3OptOut', 'DSRecordGenerationAlgorithm'",
            "'NSec3OptOut', 'DSRecordGenAlgorithm'",
            "'DSRecordGenAlgorithm': no such",
        ),
        (
            "zone_sign.ps1",
            "Get-DnsServerZone -Name $ZoneName",
            "Get-DnsServerZone -Nme $ZoneName",
            "-Nme: no such",
        ),
        (
            "zone_dnssec_set.ps1",
            "[ValidateSet('NSec', 'NSec3')]",
            "[ValidateSet('NSec', 'NSec3', 'NSec5')]",
            "ValidateSet of $DenialOfExistence ['NSec5']",
        ),
        (
            "zone_export_keys.ps1",
            "-LiteralPath $directory -File",
            "-LiteralPath $directory -Files",
            "-Files: no such",
        ),
        (
            "zone_unsign.ps1",
            "Invoke-DnsServerZoneUnsign -ZoneName $ZoneName -Force",
            "Invoke-DnsServerZoneUnsign -Force",
            "mandatory parameter is missing",
        ),
        (
            "key_rollover.ps1",
            "-KeyId @($id) -Force | Out-Null",
            "-KeyId @($id) -Force $true | Out-Null",
            "a switch takes no value",
        ),
        (
            "zone_sign.ps1",
            "Invoke-DnsServerZoneSign @arguments",
            "Invoke-DnsServerZoneSigns @arguments",
            "not a cmdlet of the reference",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.endswith(".ps1") else "",
)
def test_a_broken_copy_of_a_real_script_fails(
    tmp_path: Path, script: str, old: str, new: str, expected: str
) -> None:
    problems = call_problems(_mutated(tmp_path, script, old, new))
    assert any(expected in p.what for p in problems), problems


def _writable_names(source: str) -> list[tuple[int, int, str]]:
    """``(start, end, name)`` of every parameter name written in a DnsServer call of ``source``:
    ``-Name`` arguments and splatted keys written as literals."""
    root = parse(source).root_node
    found: list[tuple[int, int, str]] = []
    for cmd in command_nodes(root):
        cmdlet = reference().get(text(cmd.children[0]).lower())
        if cmdlet is None or "-DnsServer" not in cmdlet.name:
            continue
        call = read_call(cmd, cmdlet, None)
        args = list(call.named)
        for var in call.splats:
            args.extend(resolve_splat(root, var, cmd)[0])
        for arg in args:
            if arg.key_node is not None:
                node = arg.key_node
                found.append((node.start_byte, node.end_byte, text(node)))
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_misspelt_parameter_in_any_dnsserver_call_fails(script: Path) -> None:
    """Every parameter name written in every DnsServer call, misspelt one at a time, is caught."""
    source = sent(script)
    raw = source.encode("utf-8")
    names = _writable_names(source)
    if not any("-DnsServer" in c for c in called_commands(source)):
        assert names == []  # no DnsServer call (the bootstrap, the doctor's probe): nothing to misspell
        return
    assert names, f"{script.name}: no DnsServer parameter found"
    for start, end, written in names:
        bare = written.strip("'\"").lstrip("-")
        typo = written.replace(bare, bare + "Xq")
        mutated = (raw[:start] + typo.encode("utf-8") + raw[end:]).decode("utf-8")
        problems = call_problems(mutated)
        assert any(f"{bare}Xq" in p.what and "no such parameter" in p.what for p in problems), (
            f"{script.name}: {written} -> {typo} not caught: {problems}"
        )


# -- each rule fails on a small snippet -----------------------------------------------------------
@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("Get-DnsServerZone -Nmae 'a'", "-Nmae: no such parameter"),
        ("Get-DnsServerZone -Na 'a'", "an abbreviation of -Name"),
        ("Get-DnsServerZone -ZoneName 'a'", None),  # documented alias of -Name
        ("Remove-Item -LiteralPath $d -Re", "an abbreviation of -Recurse"),
        ("Get-ChildItem -LiteralPath $d -Fi", "ambiguous, matches File, Filter"),
        (
            "ConvertTo-Json -InputObject $x -AsArray",
            "only in reference/7.4/Microsoft.PowerShell.Utility/ConvertTo-Json.md",
        ),
        ("ConvertFrom-Json -InputObject $x -AsHashtable", "no such parameter in Windows PowerShell 5.1"),
        ("1, 2 | ForEach-Object -Parallel { $_ }", "-Parallel: no such parameter in Windows PowerShell 5.1"),
        ("Get-Error", "Get-Error: not a cmdlet of the reference tables"),
        ("get-dnsserverzone", "write the cmdlet's name as the reference does, Get-DnsServerZone"),
        ("Invoke-DnsServerZoneUnsign -ZoneName z -Force $true", "a switch takes no value"),
        ("Invoke-DnsServerZoneUnsign -ZoneName z -Force:'yes'", "switch -Force given 'yes'"),
        ("Invoke-DnsServerZoneUnsign -ZoneName z -Force:$true", None),
        ("Invoke-DnsServerZoneUnsign -ZoneName z -Force:0", None),
        (
            "$a = @{ ZoneName = 'z'; Force = 'yes' }\nInvoke-DnsServerZoneUnsign @a",
            "switch -Force given 'yes'",
        ),
        ("Get-DnsServerZone -Name", "-Name: no value given"),
        ("Export-DnsServerDnsSecPublicKey -ZoneName z -DigestType Sha512 -Force", "['Sha512'] not among"),
        ("Remove-Item -LiteralPath $d -ErrorAction Quietly", "-ErrorAction: value ['Quietly'] not among"),
        ("Remove-DnsServerSigningKey -ZoneName z -Force", "set __AllParameterSets needs -KeyId"),
        ("Get-DnsServerTrustAnchor", "needs -Name"),
        ("Get-DnsServerZone 'a' 'b'", "2 positional argument(s), more than any set takes"),
        ("Get-DnsServerZone 'a'", None),  # -Name is positional
        ("ConvertTo-Json -Depth 3", "needs -InputObject"),
        ("$x | ConvertTo-Json -Depth 3", None),  # -InputObject accepts pipeline input
        (
            "Add-DnsServerTrustAnchor -Name n -CryptoAlgorithm RsaSha256 -KeyProtocol DnsSec -KeyTag 1",
            "no parameter set",
        ),
        ("Add-DnsServerTrustAnchor -Name n -Base64Data b", "-Base64Data: tree-sitter-powershell splits"),
        ("Add-DnsServerTrustAnchor -Root -Name n", "no parameter set has all"),
        ("Get-DnsServerZone -Name a -ZoneName b", "-Name given twice"),
        (
            "$r = Export-DnsServerDnsSecPublicKey -ZoneName z -Force",
            "output is used but it runs without -PassThru",
        ),
        (
            "$r = @(Invoke-DnsServerZoneSign -ZoneName z -Force)",
            "output is used but it runs without -PassThru",
        ),
        (
            "Set-DnsServerSigningKey -ZoneName z -KeyId $k -RolloverPeriod $t | Select-Object -First 1",
            "output is used",
        ),
        ("Set-DnsServerSigningKey -ZoneName z -KeyId $k -RolloverPeriod $t | Out-Null", None),
        ("$null = Set-DnsServerSigningKey -ZoneName z -KeyId $k -RolloverPeriod $t", None),
        ("$r = Set-DnsServerSigningKey -ZoneName z -KeyId $k -PassThru:$true", None),
        ("Get-DnsServerZone @missing", "@missing: $missing has no hashtable literal"),
        ("$a = @{ Name = 'z' }\n$a[$key] = 1\nGet-DnsServerZone @a", "cannot tell statically which key"),
        ("$a = Get-DnsServerZone\nGet-DnsServerZone @a", "is last assigned something other than a hashtable"),
        ("$a = @{ Name = 'z' }\nif ($x) { $a = 1 }\nGet-DnsServerZone @a", "$a is assigned again"),
        ("$a = @{ ZoneName = 'z' }\n$a.Nmae = 1\nGet-DnsServerZone @a", "'Nmae': no such parameter"),
        ("$a = @{}\n$a.Add('Nmae', 1)\nGet-DnsServerZone @a", "'Nmae': no such parameter"),
        (
            "$a = @{ ZoneName = 'z'; Path = 'p'; Force = $true; PassThru = $true }\n"
            "foreach ($n in 'DigestType', 'Digest') { $a[$n] = 'Sha1' }\n"
            "$r = Export-DnsServerDnsSecPublicKey @a",
            "'Digest': an abbreviation of -DigestType",
        ),
    ],
)
def test_each_rule_fails_on_a_bad_call(snippet: str, expected: str | None) -> None:
    problems = call_problems(snippet + "\n")
    if expected is None:
        assert problems == [], problems
    else:
        assert any(expected in p.what for p in problems), problems


def test_conditional_keys_from_two_sets_fail_unless_they_exclude_each_other() -> None:
    head = "param([string]$A, [string]$B)\n$t = @{ Name = 'n'; CryptoAlgorithm = 'RsaSha256' }\n"
    both = (
        head
        + "if ($PSBoundParameters.ContainsKey('A')) { $t['Base64Data'] = $A }\n"
        + "if ($PSBoundParameters.ContainsKey('B')) {\n"
        + "    $t['KeyTag'] = 1; $t['DigestType'] = 'Sha1'; $t['Digest'] = $B\n}\n"
        + "Add-DnsServerTrustAnchor @t\n"
    )
    either = (
        head
        + "if ($PSBoundParameters.ContainsKey('A')) { $t['Base64Data'] = $A }\n"
        + "else { $t['KeyTag'] = 1; $t['DigestType'] = 'Sha1'; $t['Digest'] = $B }\n"
        + "Add-DnsServerTrustAnchor @t\n"
    )
    problems = call_problems(both)
    assert any(
        "conditional keys Base64Data, " in p.what and "no parameter set" in p.what for p in problems
    ), problems
    # the two branches of one if/else are never combined
    assert not any("conditional keys Base64Data, " in p.what for p in call_problems(either))


def test_a_conditional_key_may_satisfy_a_set_the_fixed_keys_do_not_need() -> None:
    source = (
        "param([string[]]$DigestType)\n$a = @{ ZoneName = 'z'; PassThru = $true }\n"
        "if ($PSBoundParameters.ContainsKey('DigestType')) { $a['DigestType'] = $DigestType }\n"
        "$r = Export-DnsServerDnsSecPublicKey @a\n"
    )
    assert call_problems(source) == []


def test_script_function_calls_are_checked_against_the_function() -> None:
    source = (
        "function Get-X($A, [string]$B) { return $A }\n$x = Get-X 1 2 3\n$y = Get-X -C 1\n$z = Get-X -B 1 2\n"
    )
    problems = [p.what for p in call_problems(source)]
    assert problems == [
        "Get-X: 3 positional argument(s) for 2 parameter(s)",
        "Get-X -C: the function has no such parameter",
    ]


def _synthetic(entry_patch: dict[str, object]) -> dict[str, Cmdlet]:
    """The real tables with one made-up cmdlet, for rules no real page exercises."""
    dns, core = _tables()
    base = json.loads(json.dumps(dns["cmdlets"]["Get-DnsServerZone"]))
    base.update(entry_patch)
    table = dict(reference())
    table["get-madeup"] = Cmdlet("Get-MadeUp", base, core["common_parameters"], "test")
    return table


def test_a_call_two_sets_fit_and_neither_is_the_default_is_ambiguous() -> None:
    sets = {
        "A": {"parameters": {"Name": {"mandatory": False, "position": None, "pipeline": False}}},
        "B": {"parameters": {"Name": {"mandatory": False, "position": None, "pipeline": False}}},
        "C": {
            "parameters": {"VirtualizationInstance": {"mandatory": True, "position": None, "pipeline": False}}
        },
    }
    table = _synthetic({"parameter_sets": sets, "default_parameter_set": "C"})
    problems = call_problems("Get-MadeUp -Name a\n", table)
    assert any("AmbiguousParameterSet" in p.what for p in problems), problems
    table = _synthetic({"parameter_sets": sets, "default_parameter_set": "A"})
    assert call_problems("Get-MadeUp -Name a\n", table) == []


def test_a_parameter_missing_from_one_docset_fails() -> None:
    dns, _ = _tables()
    params = json.loads(json.dumps(dns["cmdlets"]["Get-DnsServerZone"]["parameters"]))
    params["VirtualizationInstance"]["absent_from"] = ["winserver2016-ps"]
    table = _synthetic({"parameters": params})
    problems = call_problems("Get-MadeUp -VirtualizationInstance v\n", table)
    assert any("not on the winserver2016-ps page" in p.what for p in problems), problems
