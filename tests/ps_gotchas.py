"""Static checks for PowerShell gotchas in ps_scripts, each following a Microsoft page or a
PSScriptAnalyzer rule (the rules and their sources are listed in tests/test_ps_gotchas.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tests.ps_ast import Node, Problem, ancestors, line, parse, text, walk
from tests.ps_referee import (
    QUERY_VERBS,
    Cmdlet,
    ScriptParam,
    _tables,
    _var_name,
    command_context,
    command_nodes,
    core,
    functions,
    pipeline_context,
    read_call,
    reference,
    resolve_splat,
    script_params,
)

NULL_DOC = "PowerShell-Docs reference/docs-conceptual/learn/deep-dives/everything-about-null.md"
_UNBOUND = (
    "a parameter that was not given holds its type's default ('' for [string], 0 for a number, $null for"
    " an array), which a caller can also pass; use"
)
COMPARISON_OPERATORS = {f"-{p}{op}" for p in ("", "i", "c") for op in ("eq", "ne")}
ORDER_OPERATORS = COMPARISON_OPERATORS | {
    f"-{p}{op}" for p in ("", "i", "c") for op in ("gt", "ge", "lt", "le")
}


def _shadowed(root: Node) -> dict[int, set[str]]:
    """For each function, the (lower-case) names it declares or assigns: there they are not the
    script's parameters."""
    out: dict[int, set[str]] = {}
    for fn in functions(root).values():
        names = {p.name.lower() for p in fn.params}
        for n in walk(fn.node):
            if n.type == "assignment_expression":
                v = _var_name(n.children[0])
                if v is not None:
                    names.add(v.lower())
            elif n.type == "foreach_statement":
                var = next((c for c in n.children if c.type == "variable"), None)
                if var is not None:
                    names.add(text(var)[1:].lower())
        out[fn.node.id] = names
    return out


def _param_ref(
    node: Node, params: dict[str, ScriptParam], shadowed: dict[int, set[str]]
) -> ScriptParam | None:
    """The script parameter ``node`` (a variable, after unwrapping) refers to, if any."""
    v = _var_name(node)
    if v is None or v.lower() not in params:
        return None
    for a in ancestors(node):
        if a.type == "function_statement" and v.lower() in shadowed.get(a.id, set()):
            return None
    return params[v.lower()]


def _guarded(node: Node, name: str) -> bool:
    """True inside the then-block of an ``if`` asking ``$PSBoundParameters.ContainsKey('name')``."""
    pattern = re.compile(
        r"\$PSBoundParameters\.ContainsKey\(\s*['\"]" + re.escape(name) + r"['\"]\s*\)", re.I
    )
    for a in ancestors(node):
        if a.type in ("if_statement", "elseif_clause"):
            cond = next((c for c in a.children if c.type == "pipeline"), None)
            block = next((c for c in a.children if c.type == "statement_block"), None)
            if cond is not None and block is not None and pattern.search(text(cond)):
                if block.start_byte <= node.start_byte < block.end_byte and not re.search(
                    r"-not\s*\$PSBoundParameters|!\s*\$PSBoundParameters", text(cond), re.I
                ):
                    return True
    return False


def _operands(node: Node) -> Iterator[Node]:
    """The operands of a condition: -and/-or/-xor split, -not/! and parentheses stripped."""
    n = core(node)
    if n.type == "logical_expression" and any(c.type in ("-and", "-or", "-xor") for c in n.children):
        for c in n.children:
            if c.type not in ("-and", "-or", "-xor"):
                yield from _operands(c)
        return
    if n.type == "expression_with_unary_operator" and n.children and n.children[0].type in ("-not", "!"):
        yield from _operands(n.children[-1])
        return
    if n.type == "parenthesized_expression":
        inner = next((c for c in n.children if c.type == "pipeline"), None)
        if inner is not None:
            yield from _operands(inner)
            return
    yield n


def _conditions(root: Node) -> Iterator[Node]:
    for n in walk(root):
        if n.type in ("if_statement", "elseif_clause", "while_statement", "do_statement"):
            holders = [n, *(c for c in n.children if c.type.endswith("_condition"))]
            cond = next((c for h in holders for c in h.children if c.type == "pipeline"), None)
            if cond is not None:
                yield cond


def _comparisons(root: Node) -> Iterator[tuple[Node, str, Node, Node]]:
    """``(node, operator, left, right)`` for each binary comparison."""
    for n in walk(root):
        if (
            n.type == "comparison_expression"
            and n.child_count == 3
            and n.children[1].type == "comparison_operator"
        ):
            yield n, text(n.children[1]).lower(), n.children[0], n.children[2]


def _empty_value(node: Node) -> bool:
    t = text(core(node)).strip().lower()
    return t in ("$null", "0", "''", '""')


# -- 1. a parameter's value tells nothing about whether it was given ---------------------------------
def param_value_problems(source: str) -> list[Problem]:
    """Branching on a script parameter's value instead of on ``$PSBoundParameters.ContainsKey``.

    An unbound ``[string]`` parameter is ``''``, an ``[int]`` 0, a ``[string[]]`` ``$null``, and
    ``@($null).Count`` is 1 (everything-about-null.md: "Function parameters", "Enumerable null").
    Flagged for a parameter of the script's ``param()`` block (a function's own parameters and
    variables it assigns are not the script's): ``.Count``/``.Length`` of ``$P`` or ``@($P)`` outside
    a ``ContainsKey('P')`` branch; ``$P`` as a whole operand of an if/elseif/while condition
    (``if ($P)``, ``if (-not $P)``, ``if ($A -and $P)``); ``$P`` compared with ``$null``, 0 or ''.
    A ``[switch]`` is exempt from the last two: its unbound value is a plain false and
    about_Functions_Advanced_Parameters says to "use the [switch] parameter variable directly in a
    conditional expression".
    """
    root = parse(source).root_node
    params = script_params(root)
    if not params:
        return []
    shadowed = _shadowed(root)
    problems: list[Problem] = []
    for n in walk(root):
        if n.type != "member_access":
            continue
        member = next((c for c in n.children if c.type == "member_name"), None)
        if member is None or text(member).lower() not in ("count", "length"):
            continue
        obj = core(n.children[0])
        if obj.type == "array_expression":
            inner = next((c for c in obj.children if c.type == "statement_list"), None)
            obj = core(inner) if inner is not None else obj
        p = _param_ref(obj, params, shadowed)
        if p is not None and not _guarded(n, p.name):
            problems.append(
                Problem(
                    line(n),
                    f"{text(n)}: ${p.name} is $null when not given and @($null).Count is 1; branch on"
                    f" $PSBoundParameters.ContainsKey('{p.name}') ({NULL_DOC}, 'Enumerable null')",
                )
            )
    for cond in _conditions(root):
        for operand in _operands(cond):
            p = _param_ref(operand, params, shadowed)
            if p is not None and p.type != "switch":
                problems.append(
                    Problem(
                        line(operand),
                        f"{text(cond)}: branches on the value of ${p.name}; {_UNBOUND}"
                        f" $PSBoundParameters.ContainsKey('{p.name}') ({NULL_DOC}, 'Function parameters')",
                    )
                )
    for n, op, left, right in _comparisons(root):
        if op not in ORDER_OPERATORS:
            continue
        for side, other in ((left, right), (right, left)):
            p = _param_ref(core(side), params, shadowed)
            if p is not None and p.type != "switch" and _empty_value(other):
                problems.append(
                    Problem(
                        line(n),
                        f"{text(n)}: tests whether ${p.name} was given by its value; {_UNBOUND}"
                        f" $PSBoundParameters.ContainsKey('{p.name}') ({NULL_DOC}, 'Function parameters')",
                    )
                )
    return problems


def switch_presence_problems(source: str) -> list[Problem]:
    """Inside a ``ContainsKey('S')`` branch for a ``[switch]`` S, passing a literal ``$true`` on
    instead of ``$S`` turns an explicit ``-S:$false`` into true (about_Functions_Advanced_Parameters:
    "Always base the behavior controlled by the [switch] parameter on the value of the parameter,
    not its presence")."""
    root = parse(source).root_node
    params = {k: p for k, p in script_params(root).items() if p.type == "switch"}
    problems: list[Problem] = []
    for n in walk(root):
        if n.type != "assignment_expression":
            continue
        left, right = core(n.children[0]), core(n.children[-1])
        if left.type != "element_access" or text(right).lower() != "$true":
            continue
        idx = next((c for c in left.named_children[1:]), None)
        key = text(core(idx)).strip("'\"") if idx is not None else ""
        if key.lower() in params and _guarded(n, params[key.lower()].name):
            problems.append(
                Problem(
                    line(n),
                    f"{text(n)}: passes -{key} as $true whatever its value; pass ${params[key.lower()].name}",
                )
            )
    return problems


# -- 2. $null on the right of -eq / -ne ---------------------------------------------------------------
def null_right_problems(source: str) -> list[Problem]:
    """``$x -eq $null``: with a collection on the left the comparison filters the collection
    (PSScriptAnalyzer docs/Rules/PossibleIncorrectComparisonWithNull.md: put $null on the left)."""
    problems: list[Problem] = []
    for n, op, _left, right in _comparisons(parse(source).root_node):
        if op in COMPARISON_OPERATORS and text(core(right)).lower() == "$null":
            problems.append(
                Problem(
                    line(n),
                    f"{text(n)}: $null on the right of {op}; with a collection on the left this filters it"
                    " (PSScriptAnalyzer docs/Rules/PossibleIncorrectComparisonWithNull.md)",
                )
            )
    return problems


# -- 3. values leaking into the output ------------------------------------------------------------------
def _returns_value(fn_node: Node) -> bool:
    return any(
        n.type == "flow_control_statement"
        and text(n.children[0]).lower() == "return"
        and any(c.type == "pipeline" for c in n.children)
        for n in walk(fn_node)
    )


def leak_problems(source: str, table: dict[str, Cmdlet] | None = None) -> list[Problem]:
    """Statements whose value goes to the output stream unasked: in PowerShell "the results of each
    statement are returned as output" (about_Return), so in a script that prints one JSON document
    every stray value corrupts it, and in a function it joins the function's return value.

    Flagged when the statement's value reaches the output stream (not assigned, not ``$null =``,
    ``[void]``, ``| Out-Null`` or ``> $null``, not returned, not an argument or operand):
    a method call (``$list.Add(x)``: ArrayList.Add returns the index, PSScriptAnalyzer
    docs/Rules/AvoidUsingArrayList.md; the referee cannot know a method's return type, so every
    bare method call counts); a cmdlet run for its effect (any verb but Get, ConvertTo, ConvertFrom,
    Select, Where, ForEach, Write, Join, Test, Show, Out) whose reference page names an output, or,
    when the page says it prints nothing without -PassThru, called with -PassThru; a call of a
    script function that returns a value.
    """
    root = parse(source).root_node
    table = reference() if table is None else table
    fns = functions(root)
    problems: list[Problem] = []
    for n in walk(root):
        if n.type != "pipeline" or n.parent is None or n.parent.type != "statement_list":
            continue
        chain = next((c for c in n.children if c.type == "pipeline_chain"), None)
        if chain is None:
            continue
        items = [c for c in chain.children if c.type not in ("|", "redirections")]
        if len(items) == 1 and core(items[0]).type == "invokation_expression":
            if pipeline_context(n) == "statement":
                problems.append(
                    Problem(
                        line(n),
                        f"{text(n)[:70]}: the method's return value goes to the output; discard it with"
                        " $null = or [void] (about_Return; PSScriptAnalyzer AvoidUsingArrayList)",
                    )
                )
    for cmd in command_nodes(root):
        name = text(cmd.children[0])
        if command_context(cmd) != "statement":
            continue
        fn = fns.get(name.lower())
        if fn is not None:
            if _returns_value(fn.node):
                problems.append(Problem(line(cmd), f"{name}: returns a value, which goes to the output here"))
            continue
        cmdlet = table.get(name.lower())
        if cmdlet is None or name.split("-", 1)[0].lower() in QUERY_VERBS or not cmdlet.outputs:
            continue
        if cmdlet.no_output_without_passthru:
            call = read_call(cmd, cmdlet, None)
            keys = [a.written for a in call.named]
            for var in call.splats:
                keys.extend(a.written for a in resolve_splat(root, var, cmd)[0])
            given = {found.param.name for found in map(cmdlet.lookup, keys) if found.param is not None}
            if "PassThru" not in given:
                continue
            why = "with -PassThru"
        else:
            why = f"it outputs {cmdlet.outputs[0]}"
        problems.append(
            Problem(
                line(cmd),
                f"{name} ({why}): its output goes to the output stream; discard it with | Out-Null or"
                f" $null = (about_Return) ({cmdlet.page})",
            )
        )
    return problems


# -- 4. Windows PowerShell 5.1 ------------------------------------------------------------------------
def ps51_variable_problems(source: str) -> list[Problem]:
    """Automatic variables only later PowerShell documents (``$IsWindows``...: the core table's
    ``later_only_automatic_variables``, from about_Automatic_Variables 5.1 vs 7.4)."""
    later: dict[str, str] = _tables()[1]["later_only_automatic_variables"]
    wanted = {v.lower(): (v, page) for v, page in later.items()}
    problems: list[Problem] = []
    for n in walk(parse(source).root_node):
        if n.type == "variable":
            v = text(n)[1:].lower()
            if v in wanted:
                name, page = wanted[v]
                problems.append(Problem(line(n), f"${name}: not in Windows PowerShell 5.1 (only {page})"))
    return problems
