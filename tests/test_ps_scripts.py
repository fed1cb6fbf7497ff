"""Every ps_scripts/*.ps1 parses under tree-sitter-powershell and keeps to Windows PowerShell 5.1.

The 5.1 checks read the syntax tree's tokens, so text inside strings and comments never trips them.
Each check has a negative control: a snippet that breaks the rule must be caught.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ps_ast import FILES, PARTS, ROOT, SCRIPTS, SCRIPTS_DIR, Problem, sent
from tests.ps_ast import code_tokens as _code_tokens
from tests.ps_ast import parse as _parse
from tests.ps_ast import text as _text
from tests.ps_ast import walk as _walk

SCHEMA_DOC = ROOT / "docs" / "inventory-schema.md"

# Parameter types a script may declare: what binds from a JSON value (ps_scripts/README.md).
ALLOWED_PARAM_TYPES = {
    "string",
    "string[]",
    "int",
    "long",
    "uint16",
    "uint32",
    "byte",
    "double",
    "bool",
    "switch",
}


def parse_problems(source: str) -> list[Problem]:
    """ERROR and MISSING nodes of the tree-sitter parse (empty when the script parses cleanly)."""
    tree = _parse(source)
    problems = [
        Problem(
            n.start_point[0] + 1, f"{'missing' if n.is_missing else 'syntax error'} near {_text(n)[:40]!r}"
        )
        for n in _walk(tree.root_node)
        if n.type == "ERROR" or n.is_missing
    ]
    if tree.root_node.has_error and not problems:  # pragma: no cover - has_error implies a node above
        problems.append(Problem(1, "parse error"))
    return problems


def ps7_problems(source: str) -> list[Problem]:
    """Windows PowerShell 5.1 incompatibilities found in code (not in strings or comments)."""
    problems: list[Problem] = []
    for tok in _code_tokens(source):
        text = _text(tok).strip()
        low = text.lower()
        line = tok.start_point[0] + 1
        if tok.type in ("&&", "||") or text in ("&&", "||"):
            problems.append(Problem(line, f"pipeline chain operator {text} (PowerShell 7)"))
        elif "??" in text:
            problems.append(Problem(line, "null-coalescing ?? (PowerShell 7)"))
        elif text == "?" and tok.type != "command_name":
            problems.append(Problem(line, "ternary ? : or ?. (PowerShell 7)"))
        elif low in ("-parallel", "-asarray", "-enumsasstrings", "-ashashtable"):
            problems.append(Problem(line, f"{text} (PowerShell 7 only)"))
    return problems


def convertto_json_calls(source: str) -> int:
    return sum(
        1 for t in _code_tokens(source) if t.type == "command_name" and _text(t).lower() == "convertto-json"
    )


def has_param_block(source: str) -> bool:
    return any(n.type == "param_block" for n in _walk(_parse(source).root_node))


_EAP = re.compile(r"^\s*\$ErrorActionPreference\s*=\s*['\"]Stop['\"]\s*$", re.IGNORECASE | re.MULTILINE)


def param_types(source: str) -> list[str]:
    """The declared type of every parameter in the script's param() block (``""`` when untyped)."""
    found: list[str] = []
    for block in (n for n in _walk(_parse(source).root_node) if n.type == "param_block"):
        for param in (n for n in _walk(block) if n.type == "script_parameter"):
            types = [
                _text(spec).lower()
                for attributes in param.children
                if attributes.type == "attribute_list"
                for spec in _walk(attributes)
                if spec.type == "type_spec" and spec.parent is not None and spec.parent.type == "type_literal"
            ]
            found.append(types[-1] if types else "")
    return found


# -- every script ---------------------------------------------------------------------------------
def test_scripts_exist() -> None:
    names = {p.name for p in SCRIPTS}
    assert "inventory.ps1" in names
    assert len(SCRIPTS) >= 2


@pytest.mark.parametrize("script", FILES, ids=lambda p: p.name)
def test_file_parses(script: Path) -> None:
    problems = parse_problems(script.read_text(encoding="utf-8-sig"))
    assert not problems, f"{script.name}: " + "; ".join(map(str, problems))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_as_sent_parses(script: Path) -> None:
    problems = parse_problems(sent(script))
    assert not problems, f"{script.name}: " + "; ".join(map(str, problems))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_is_windows_powershell_51(script: Path) -> None:
    problems = ps7_problems(sent(script))
    assert not problems, f"{script.name}: " + "; ".join(map(str, problems))


def test_every_part_is_included_somewhere_and_every_include_resolves() -> None:
    texts = {p.stem: p.read_text(encoding="utf-8-sig") for p in SCRIPTS}
    for part in PARTS:
        assert any(f"# windns:include {part.name}" in t for t in texts.values()), f"{part.name} unused"
    for name in texts:
        left = re.findall(r"^# windns:include .*$", sent(SCRIPTS_DIR / f"{name}.ps1"), re.MULTILINE)
        assert not left, f"{name}.ps1: {left} not expanded"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_conventions(script: Path) -> None:
    source = sent(script)
    assert _EAP.search(source), f"{script.name}: no $ErrorActionPreference = 'Stop'"
    assert has_param_block(source), f"{script.name}: no param() block"
    calls = convertto_json_calls(source)
    if script.name == "inventory.ps1":
        assert calls == 1, f"{script.name}: ConvertTo-Json called {calls} times"
    else:
        assert calls >= 1, f"{script.name}: never calls ConvertTo-Json"
    code = " ".join(_text(t) for t in _code_tokens(source)).lower()
    assert "write-host" not in code, f"{script.name}: Write-Host"
    assert "invoke-expression" not in code, f"{script.name}: Invoke-Expression"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parameter_types_travel_as_json(script: Path) -> None:
    types = param_types(sent(script))
    assert types, f"{script.name}: no parameters found"
    bad = [t or "(untyped)" for t in types if t not in ALLOWED_PARAM_TYPES]
    assert not bad, f"{script.name}: parameter types {bad} do not bind from JSON (ps_scripts/README.md)"


# -- inventory.ps1 --------------------------------------------------------------------------------
def _schema_keys() -> set[str]:
    """Every property name docs/inventory-schema.md shows as ``"Name":`` (example and error record)."""
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    return set(re.findall(r'"([A-Za-z][A-Za-z0-9]*)"\s*:', doc))


def test_inventory_projects_every_schema_property() -> None:
    keys = _schema_keys()
    # the doc was read right: document, zone, key, trust point and error-record names are all there
    assert {"Schema", "Keys", "KeyId", "RolloverPeriod", "TrustPointName", "Stage", "Code"} <= keys
    source = sent(SCRIPTS_DIR / "inventory.ps1")
    # each property is assigned as a hashtable key (``Key = ...`` or ``$entry['Key'] = ...``)
    assigned = set(re.findall(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*=", source, re.MULTILINE))
    assigned |= set(re.findall(r"\$\w+\['([A-Za-z][A-Za-z0-9]*)'\]\s*=", source))
    missing = sorted(keys - assigned)
    assert not missing, f"inventory.ps1 does not project {missing}"


def test_inventory_key_table_has_the_projected_columns_in_order() -> None:
    """The script's key table columns are ConvertTo-WindnsKey's members, in its order, and the
    columns the toolkit writes (simulator, dump_inventory)."""
    from toolkit.normalise.table import KEY_COLUMNS

    source = sent(SCRIPTS_DIR / "inventory.ps1")
    listed = re.search(r"\$WindnsKeyColumns = @\((.*?)\)", source, re.S)
    assert listed is not None
    columns = tuple(re.findall(r"'([A-Za-z]+)'", listed.group(1)))
    head = r"function ConvertTo-WindnsKey\(\$Key\) \{.*?\[ordered\]@\{"
    projection = re.search(head + r"(.*?)\n    \}", source, re.S)
    assert projection is not None
    members = tuple(re.findall(r"^\s*([A-Za-z]+)\s*=", projection.group(1), re.M))
    assert columns == members == KEY_COLUMNS
    assert "SchemaVersion = 2" in source and "Keys          = $documentKeys" in source
    assert "SigningKeys" not in (SCRIPTS_DIR / "inventory.ps1").read_text(encoding="utf-8")  # none nested


def test_inventory_param_and_error_handling() -> None:
    source = sent(SCRIPTS_DIR / "inventory.ps1")
    assert re.search(r"param\(\s*\[string\[\]\]\$ZoneName\s*\)", source)
    for cmdlet in (
        "Get-DnsServerSetting -All",
        "Get-DnsServerZone",
        "Get-DnsServerSigningKey",
        "Get-DnsServerDnsSecZoneSetting",
        "Get-DnsServerTrustAnchor",
        "Get-DnsServerTrustPoint",
        "Win32_OperatingSystem",
    ):
        assert cmdlet in source, cmdlet
    assert "error_Code" in source and "'^WIN32 (\\d+),'" in source
    assert "9601" in source
    assert "ConvertTo-Json -InputObject $doc -Depth 8 -Compress" in source
    # per-zone DNSSEC reads each sit in their own try block
    tree = _parse(source)
    tried = [_text(n) for n in _walk(tree.root_node) if n.type == "try_statement"]
    for cmdlet in ("Get-DnsServerSigningKey", "Get-DnsServerDnsSecZoneSetting"):
        assert sum(cmdlet in t for t in tried) == 1, cmdlet


# -- negative controls: the checks can fail -------------------------------------------------------
@pytest.mark.parametrize(
    "snippet",
    [
        "$x = $a ?? 1",
        "$c = $x ? 1 : 2",
        "if ($x) { Write-Output 1",
        "function f( { }",
        "$a = @(1, 2",
        "$a?.Name",
    ],
)
def test_parse_check_catches_broken_script(snippet: str) -> None:
    assert parse_problems(f"param([string]$X)\n{snippet}\n")


def test_parse_check_accepts_valid_code() -> None:
    assert parse_problems("param([string]$X)\n$y = if ($X) { 1 } else { 2 }\n") == []


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("Get-Item a && Get-Item b", "&&"),
        ("Get-Item a || Get-Item b", "||"),
        ("$x = $a ?? 1", "??"),
        ("$x ??= 1", "??"),
        ("$c = $x ? 1 : 2", "ternary"),
        ("1..3 | ForEach-Object -Parallel { $_ }", "-Parallel"),
        ("ConvertTo-Json -InputObject $x -AsArray", "-AsArray"),
        ("ConvertTo-Json -InputObject $x -EnumsAsStrings", "-EnumsAsStrings"),
    ],
)
def test_ps7_check_catches(snippet: str, what: str) -> None:
    problems = ps7_problems(snippet + "\n")
    assert any(what in p.what for p in problems), problems


@pytest.mark.parametrize(
    "snippet",
    [
        "$s = 'a && b ?? c ? d : e -Parallel'",
        '$s = "a || b $($x) -AsArray"',
        "# a && b ?? c -Parallel",
        "<# x || y #>\n$a = 1",
        '$s = @"\nx && y ?? z\n"@',
        "if ($a -and $b -or $c) { $d = $a }",
    ],
)
def test_ps7_check_ignores_strings_and_comments(snippet: str) -> None:
    assert ps7_problems(snippet + "\n") == []


def test_convention_helpers_detect_violations() -> None:
    assert not has_param_block("$x = 1\n")
    assert has_param_block("param([string]$X)\n$x = 1\n")
    assert not _EAP.search("# $ErrorActionPreference = 'Stop'\n$ErrorActionPreference = 'Continue'\n")
    assert _EAP.search('$ErrorActionPreference = "Stop"\n')
    assert convertto_json_calls("$s = 'ConvertTo-Json'\n# ConvertTo-Json\n") == 0
    assert convertto_json_calls("ConvertTo-Json -InputObject $a\n$b | ConvertTo-Json\n") == 2


def test_param_types_reader() -> None:
    source = (
        "param(\n  [Parameter(Mandatory = $true)][string]$A,\n  [string[]]$B,\n  [timespan]$C,\n"
        "  $D,\n  [switch]$E\n)\n"
    )
    assert param_types(source) == ["string", "string[]", "timespan", "", "switch"]
