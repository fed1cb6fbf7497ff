"""The ps_scripts referee: every command call checked against Microsoft's cmdlet reference.

The reference is data, not our opinion: ``fixtures/reference/dnsserver-cmdlets.json`` (the DnsServer
module's pages in MicrosoftDocs/windows-powershell-docs) and ``fixtures/reference/core-cmdlets-5.1.json``
(the Windows PowerShell 5.1 pages in MicrosoftDocs/PowerShell-Docs), both built by
``fixtures/reference/build_cmdlet_table.py``; see that folder's README. ``call_problems`` is what
``tests/test_ps_cmdlet_syntax.py`` runs; the rules are written out in that test's docstring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from typing import Any

from tests.ps_ast import ROOT, Node, Problem, ancestors, line, parse, text, walk

REFERENCE = ROOT / "fixtures" / "reference"
DNSSERVER_TABLE = REFERENCE / "dnsserver-cmdlets.json"
CORE_TABLE = REFERENCE / "core-cmdlets-5.1.json"

#: verbs of commands run for their answer; any other verb is run for its effect, and its output,
#: if any, must be captured or discarded (see ``leak_problems``)
QUERY_VERBS = frozenset(
    {"get", "convertto", "convertfrom", "select", "where", "foreach", "write", "join", "test", "show", "out"}
)


# -- the reference tables ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    type: str
    switch: bool
    aliases: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    absent_from: tuple[str, ...] = ()
    common: bool = False


@dataclass(frozen=True)
class SetParam:
    mandatory: bool
    position: int | None
    pipeline: bool


@dataclass(frozen=True)
class Lookup:
    """How a written parameter name resolves: name, alias, prefix, ambiguous or unknown."""

    kind: str
    param: Param | None = None
    candidates: tuple[str, ...] = ()


class Cmdlet:
    """One cmdlet of a reference table, with its common parameters."""

    def __init__(self, name: str, entry: dict[str, Any], common: dict[str, Any], source: str) -> None:
        self.name = name
        self.entry = entry
        self.source = source
        self.page = entry["page"]
        self.default_set: str | None = entry["default_parameter_set"]
        self.no_output_without_passthru: bool = entry["no_output_without_passthru"]
        self.outputs: list[str] = [o for o in entry["outputs"] if o.lower() != "none"]
        self.later_only: dict[str, str] = entry.get("later_only_parameters", {})
        self.params: dict[str, Param] = {}
        for pname, p in entry["parameters"].items():
            self.params[pname.lower()] = Param(
                pname,
                p["type"],
                p["switch"],
                tuple(p["aliases"]),
                tuple(p["accepted_values"]),
                tuple(p.get("absent_from", ())),
            )
        common_names = entry["common_parameters"] if entry["supports_common_parameters"] else []
        for cname in common_names:
            c = common[cname]
            self.params.setdefault(
                cname.lower(),
                Param(
                    cname,
                    c["type"],
                    c["switch"],
                    tuple(c["aliases"]),
                    tuple(c["accepted_values"]),
                    common=True,
                ),
            )
        self.sets: dict[str, dict[str, SetParam]] = {}
        for set_name, info in entry["parameter_sets"].items():
            members = {
                pname: SetParam(sp["mandatory"], sp["position"], sp["pipeline"])
                for pname, sp in info["parameters"].items()
            }
            for cname in common_names:
                members.setdefault(cname, SetParam(False, None, False))
            self.sets[set_name] = members

    def lookup(self, written: str) -> Lookup:
        """Resolve a parameter name as PowerShell does: full name, alias, or an unambiguous prefix
        (MicrosoftDocs/PowerShell-Docs reference/docs-conceptual/lang-spec/chapter-02.md, §2.3.4)."""
        low = written.lower()
        if low in self.params:
            return Lookup("name", self.params[low])
        for p in self.params.values():
            if low in (a.lower() for a in p.aliases):
                return Lookup("alias", p)
        matches = {p.name for p in self.params.values() if p.name.lower().startswith(low)}
        matches |= {p.name for p in self.params.values() for a in p.aliases if a.lower().startswith(low)}
        if len(matches) == 1:
            return Lookup("prefix", self.params[next(iter(matches)).lower()])
        if matches:
            return Lookup("ambiguous", None, tuple(sorted(matches)))
        return Lookup("unknown")


@cache
def _tables() -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        json.loads(DNSSERVER_TABLE.read_text(encoding="utf-8")),
        json.loads(CORE_TABLE.read_text(encoding="utf-8")),
    )


@cache
def reference() -> dict[str, Cmdlet]:
    """Every cmdlet of both tables, by lower-case name."""
    dns, core = _tables()
    common = core["common_parameters"]
    out: dict[str, Cmdlet] = {}
    for table in (dns, core):
        label = f"{table['source']['repository']}@{table['source']['commit'][:12]}"
        for name, entry in table["cmdlets"].items():
            out[name.lower()] = Cmdlet(name, entry, common, label)
    return out


# -- syntax-tree helpers ----------------------------------------------------------------------------
def core(node: Node) -> Node:
    """``node`` without the single-child wrappers the grammar puts around every expression."""
    while node.named_child_count == 1 and text(node.named_children[0]) == text(node):
        node = node.named_children[0]
    return node


def _is_var(node: Node | None, name: str) -> bool:
    return node is not None and node.type == "variable" and text(node).lower() == "$" + name.lower()


def _var_name(node: Node) -> str | None:
    n = core(node)
    if n.type == "variable":
        t = text(n)
        if t.startswith("$") and not t.startswith("${"):
            return t[1:]
    return None


def _string_value(node: Node) -> str | None:
    """The text of a literal string (or bare word), ``None`` for anything computed."""
    n = core(node)
    if n.type == "string_literal" and n.named_child_count == 1:
        n = n.named_children[0]
    t = text(n)
    if n.type == "verbatim_string_characters" or n.type == "string_literal":
        return t[1:-1] if len(t) >= 2 and t[0] in "'\"" else t
    if n.type == "expandable_string_literal" and "$" not in t and "`" not in t:
        return t[1:-1]
    if n.type == "generic_token":
        return t
    return None


def _enclosing(node: Node, *types: str) -> Node | None:
    for a in ancestors(node):
        if a.type in types:
            return a
    return None


def _statement_list(node: Node) -> Node | None:
    return _enclosing(node, "statement_list")


def _assignment_parts(node: Node) -> tuple[Node, Node] | None:
    """``(left core, right pipeline)`` of an assignment_expression."""
    if node.type != "assignment_expression" or node.child_count < 3:
        return None
    return core(node.children[0]), node.children[-1]


def _foreach_parts(node: Node) -> tuple[str, Node] | None:
    """``(loop variable, iterable pipeline)`` of a foreach_statement."""
    var = next((c for c in node.children if c.type == "variable"), None)
    iterable = next((c for c in node.children if c.type == "pipeline"), None)
    if var is None or iterable is None:
        return None
    return text(var)[1:], iterable


def _script_block_is_function_body(node: Node) -> bool:
    return node.parent is not None and node.parent.type == "function_statement"


# -- the script's own parameters and functions ------------------------------------------------------
@dataclass(frozen=True)
class ScriptParam:
    name: str
    type: str  # lower case, "" when untyped
    validate_set: tuple[str, ...] | None


def _declared_params(parameter_list: Node) -> list[ScriptParam]:
    out: list[ScriptParam] = []
    for param in (c for c in parameter_list.children if c.type == "script_parameter"):
        var = next((c for c in param.children if c.type == "variable"), None)
        if var is None:
            continue
        types: list[str] = []
        validate: tuple[str, ...] | None = None
        for attr in (n for n in walk(param) if n.type == "attribute"):
            lit = next((c for c in attr.children if c.type == "type_literal"), None)
            if lit is not None:
                types.append(text(lit)[1:-1].strip().lower())
            name = next((c for c in attr.children if c.type == "attribute_name"), None)
            if name is not None and text(name).lower() == "validateset":
                validate = tuple(
                    s
                    for s in (_string_value(n) for n in walk(attr) if n.type == "string_literal")
                    if s is not None
                )
        out.append(ScriptParam(text(var)[1:], types[-1] if types else "", validate))
    return out


def script_params(root: Node) -> dict[str, ScriptParam]:
    """The parameters of the script's own ``param()`` block, by lower-case name."""
    block = next((c for c in root.children if c.type == "param_block"), None)
    if block is None:
        return {}
    plist = next((c for c in block.children if c.type == "parameter_list"), None)
    return {} if plist is None else {p.name.lower(): p for p in _declared_params(plist)}


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[ScriptParam, ...]
    node: Node


def functions(root: Node) -> dict[str, Function]:
    out: dict[str, Function] = {}
    for fn in (n for n in walk(root) if n.type == "function_statement"):
        name = next((c for c in fn.children if c.type == "function_name"), None)
        if name is None:
            continue
        params: list[ScriptParam] = []
        decl = next((c for c in fn.children if c.type == "function_parameter_declaration"), None)
        body = next((c for c in fn.children if c.type == "script_block"), None)
        plist = None
        if decl is not None:
            plist = next((c for c in decl.children if c.type == "parameter_list"), None)
        elif body is not None:
            block = next((c for c in body.children if c.type == "param_block"), None)
            if block is not None:
                plist = next((c for c in block.children if c.type == "parameter_list"), None)
        if plist is not None:
            params = _declared_params(plist)
        out[text(name).lower()] = Function(text(name), tuple(params), fn)
    return out


# -- command calls ----------------------------------------------------------------------------------
@dataclass
class Arg:
    """A named argument: ``-Name``, ``-Name value``, ``-Name:value`` or a splatted key."""

    written: str
    value: Node | None
    colon: bool = False
    splat: str | None = None  # the splatted variable it came from
    conditional: bool = False
    env: dict[str, str] = field(default_factory=dict)
    node: Node | None = None  # the assignment (or hash entry) that sets it
    key_node: Node | None = None  # where the name is written, when it is written literally


@dataclass
class Call:
    name: str
    node: Node
    named: list[Arg]
    positional: list[Node]
    splats: list[str]
    piped: bool
    problems: list[Problem]


def command_nodes(root: Node) -> Iterator[Node]:
    for n in walk(root):
        if n.type == "command" and n.children and n.children[0].type == "command_name":
            yield n


def _elements(cmd: Node) -> list[tuple[str, Node]]:
    """``(separator before it, element)`` for each element of a command, separators dropped."""
    els = next((c for c in cmd.children if c.type == "command_elements"), None)
    out: list[tuple[str, Node]] = []
    sep = " "
    if els is None:
        return out
    for c in els.children:
        if c.type == "command_argument_sep":
            sep = text(c).strip() or " "
            continue
        if c.type == "argument_list" and out and out[-1][1].end_byte == c.start_byte:
            if core(out[-1][1]).type == "member_access":  # $x.Method(...): one argument, a method call
                continue
        out.append((sep, c))
        sep = " "
    return out


def _is_piped(cmd: Node) -> bool:
    chain = cmd.parent
    if chain is None:
        return False
    items = [c for c in chain.children if c.type != "|"]
    return bool(items) and items[0].id != cmd.id


def _takes_value(cmdlet: Cmdlet | None, fn: Function | None, written: str) -> bool:
    if cmdlet is not None:
        found = cmdlet.lookup(written)
        return found.param is None or not found.param.switch
    if fn is not None:
        for p in fn.params:
            if p.name.lower() == written.lower():
                return p.type != "switch"
    return True


def read_call(cmd: Node, cmdlet: Cmdlet | None, fn: Function | None) -> Call:
    name = text(cmd.children[0])
    named: list[Arg] = []
    positional: list[Node] = []
    splats: list[str] = []
    problems: list[Problem] = []
    elements = _elements(cmd)
    i = 0
    while i < len(elements):
        sep, el = elements[i]
        if el.type == "command_parameter":
            written = text(el).lstrip("-").rstrip(":")
            colon = text(el).endswith(":")
            nxt = elements[i + 1] if i + 1 < len(elements) else None
            if nxt is not None and nxt[0] == ":":
                colon = True
            if colon:
                value = nxt[1] if nxt is not None else None
                named.append(Arg(written, value, colon=True, node=el, key_node=el))
                i += 2
                continue
            if _takes_value(cmdlet, fn, written):
                if nxt is not None and nxt[1].type != "command_parameter" and not _is_splat(nxt[1]):
                    named.append(Arg(written, nxt[1], node=el, key_node=el))
                    i += 2
                    continue
                named.append(Arg(written, None, node=el, key_node=el))
                i += 1
                continue
            named.append(Arg(written, None, node=el, key_node=el))
            if nxt is not None and _string_value(nxt[1]) is None and _var_name(nxt[1]) in ("true", "false"):
                problems.append(
                    Problem(
                        line(el),
                        f"{name} -{written} {text(nxt[1])}: a switch takes no value, so {text(nxt[1])}"
                        f" becomes a positional argument; write -{written}:{text(nxt[1])}"
                        " (about_Functions_Advanced_Parameters, [switch] parameters)",
                    )
                )
            i += 1
            continue
        if _is_splat(el):
            splats.append(text(core(el))[1:])
        elif el.type in ("redirections", "redirection"):
            pass
        else:
            positional.append(el)
        i += 1
    return Call(name, cmd, named, positional, splats, _is_piped(cmd), problems)


def _is_splat(node: Node) -> bool:
    n = core(node)
    return n.type == "variable" and text(n).startswith("@")


# -- splatted hashtables ----------------------------------------------------------------------------
def _hash_literal(pipeline: Node) -> Node | None:
    n = core(pipeline)
    if n.type == "cast_expression":  # [ordered]@{...}
        inner = [c for c in n.named_children if c.type != "type_literal"]
        n = core(inner[0]) if inner else n
    return n if n.type == "hash_literal_expression" else None


def _hash_entries(hashlit: Node) -> list[tuple[str, Node]]:
    return [(k, v) for k, v, _ in _hash_entry_nodes(hashlit)]


def _hash_entry_nodes(hashlit: Node) -> list[tuple[str, Node, Node]]:
    """``(key, value pipeline, key node)`` of each entry of a hashtable literal."""
    out: list[tuple[str, Node, Node]] = []
    for entry in (
        n
        for n in walk(hashlit)
        if n.type == "hash_entry" and _enclosing(n, "hash_literal_expression") == hashlit
    ):
        key = next((c for c in entry.children if c.type == "key_expression"), None)
        value = next((c for c in entry.children if c.type == "pipeline"), None)
        if key is None or value is None:
            continue
        k = _string_value(key.named_children[0]) if key.named_children else None
        out.append((k if k is not None else text(key), value, key))
    return out


def _definition(root: Node, var: str, before: Node) -> tuple[Node, Node] | None:
    """The last ``$var = @{...}`` before ``before``, in a block enclosing it: (assignment, literal)."""
    found: tuple[Node, Node] | None = None
    enclosing = {a.id for a in ancestors(before)}
    for n in walk(root):
        if n.start_byte >= before.start_byte:
            break
        parts = _assignment_parts(n)
        if parts is None or not _is_var(parts[0], var):
            continue
        block = _statement_list(n)
        if block is None or block.id not in enclosing:
            continue
        lit = _hash_literal(parts[1])
        found = (n, lit) if lit is not None else (n, parts[1])
    if found is None or found[1].type != "hash_literal_expression":
        return None
    return found


#: a key an index expression can name: (key, loop-variable bindings, node where the key is written)
Key = tuple[str, dict[str, str], Node | None]


def _loop_items(root: Node, loop: Node, var: str) -> list[tuple[str, Node]] | None:
    """The items a ``foreach ($var in ...)`` walks, when they are written in the script: a list
    of string literals, or ``$table.Keys`` of a hashtable literal."""
    parts = _foreach_parts(loop)
    if parts is None or parts[0].lower() != var.lower():
        return None
    iterable = core(parts[1])
    strings = [n for n in walk(iterable) if n.type == "string_literal"]
    if strings:
        rest = text(iterable)
        for lit in strings:
            rest = rest.replace(text(lit), "", 1)
        values = [_string_value(lit) for lit in strings]
        if re.fullmatch(r"[\s,`]*", rest) and None not in values:
            return [(v, lit) for v, lit in zip(values, strings, strict=True) if v is not None]
        return None
    if iterable.type == "member_access" and text(iterable).lower().endswith(".keys"):
        base = _var_name(iterable.children[0])
        found = _definition(root, base, loop) if base is not None else None
        if found is not None:
            return [(k, key_node) for k, _, key_node in _hash_entry_nodes(found[1])]
    return None


def _loop_for(node: Node, var: str) -> Node | None:
    for a in ancestors(node):
        if a.type == "foreach_statement":
            parts = _foreach_parts(a)
            if parts is not None and parts[0].lower() == var.lower():
                return a
    return None


def resolve_index(root: Node, index: Node, at: Node, env: dict[str, str] | None = None) -> list[Key] | None:
    """The keys an index expression can name: a literal; a loop variable over written items; or
    ``$table[$var]`` with ``$var`` walking ``$table.Keys`` (then the keys are the table's values).
    ``None`` when the keys cannot be known without running the script."""
    env = env or {}
    n = core(index)
    s = _string_value(n)
    if s is not None and n.type != "generic_token":
        return [(s, {}, n)]
    var = _var_name(n)
    if var is not None:
        if var.lower() in env:
            return [(env[var.lower()], {}, None)]
        loop = _loop_for(at, var)
        items = _loop_items(root, loop, var) if loop is not None else None
        return None if items is None else [(item, {var.lower(): item}, node) for item, node in items]
    if n.type == "element_access":
        base = _var_name(n.children[0])
        inner = next((c for c in n.named_children[1:]), None)
        ivar = _var_name(inner) if inner is not None else None
        loop = _loop_for(at, ivar) if ivar is not None else None
        parts = _foreach_parts(loop) if loop is not None else None
        if base is None or ivar is None or loop is None or parts is None:
            return None
        walked = core(parts[1])
        if walked.type != "member_access" or _var_name(walked.children[0]) != base:
            return None
        found = _definition(root, base, loop)
        if found is None:
            return None
        out: list[Key] = []
        for k, v, _ in _hash_entry_nodes(found[1]):
            sv = _string_value(v)
            if sv is None:
                return None
            out.append((sv, {ivar.lower(): k}, core(v)))
        return out
    return None


def _exclusive(a: Node, b: Node) -> bool:
    """True when ``a`` and ``b`` sit in different branches of one if/elseif/else or switch."""
    a_anc = [a, *ancestors(a)]
    b_ids = {x.id for x in [b, *ancestors(b)]}
    for i, x in enumerate(a_anc):
        if x.id in b_ids:
            if x.type in ("if_statement", "switch_clauses", "switch_body"):
                a_branch = a_anc[i - 1] if i > 0 else None
                b_branch = next(
                    (y for y in [b, *ancestors(b)] if y.parent is not None and y.parent.id == x.id), None
                )
                return a_branch is not None and b_branch is not None and a_branch.id != b_branch.id
            return False
    return False


def resolve_splat(root: Node, var: str, call: Node) -> tuple[list[Arg], list[Problem]]:
    """The keys ``@var`` passes at ``call``: the hashtable literal's keys, then every key assigned
    to ``$var[...]``, ``$var.Key`` or ``$var.Add(...)`` between the literal and the call. A key set
    in a block nested below the literal's is conditional."""
    problems: list[Problem] = []
    found = _definition(root, var, call)
    if found is None:
        assigned = any(
            (parts := _assignment_parts(n)) is not None
            and _is_var(parts[0], var)
            and n.start_byte < call.start_byte
            for n in walk(root)
        )
        what = (
            "is last assigned something other than a hashtable literal"
            if assigned
            else "has no hashtable literal"
        )
        return [], [Problem(line(call), f"@{var}: ${var} {what} before the call")]
    assign, lit = found
    home = _statement_list(assign)
    args = [Arg(k, v, splat=var, node=v, key_node=kn) for k, v, kn in _hash_entry_nodes(lit)]
    for n in walk(root):
        if n.start_byte <= assign.end_byte or n.start_byte >= call.start_byte:
            continue
        parts = _assignment_parts(n)
        target: Node | None = None
        value: Node | None = None
        index: Node | None = None
        key: str | None = None
        member: Node | None = None
        if parts is not None:
            left, value = parts
            if left.type == "element_access" and _is_var(core(left.children[0]), var):
                index = next((c for c in left.named_children[1:]), None)
                target = n
            elif left.type == "member_access" and _is_var(core(left.children[0]), var):
                member = next((c for c in left.children if c.type == "member_name"), None)
                key, target = (text(member) if member is not None else None), n
            elif _is_var(left, var):
                problems.append(Problem(line(n), f"${var} is assigned again before @{var} is used"))
                continue
        elif n.type == "invokation_expression" and _is_var(core(n.children[0]), var):
            member = next((c for c in n.children if c.type == "member_name"), None)
            arglist = next((c for c in n.children if c.type == "argument_list"), None)
            if member is not None and text(member).lower() == "add" and arglist is not None:
                items = [c for c in walk(arglist) if c.type == "argument_expression"]
                if len(items) == 2:
                    index, value, target = items[0], items[1], n
        if target is None:
            continue
        target_list = _statement_list(target)
        conditional = target_list is None or home is None or target_list.id != home.id
        if key is not None:
            keys: list[Key] | None = [(key, {}, member)]
        elif index is not None:
            keys = resolve_index(root, index, target)
        else:
            keys = None
        if keys is None:
            problems.append(
                Problem(line(target), f"@{var}: cannot tell statically which key {text(target)[:60]!r} sets")
            )
            continue
        for k, env, key_node in keys:
            args.append(
                Arg(
                    k,
                    value,
                    splat=var,
                    conditional=conditional or len(keys) > 1,
                    env=env,
                    node=target,
                    key_node=key_node,
                )
            )
    return args, problems


# -- values -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    kind: str  # bool, null, number, string, param, cast, other
    text: str
    param: ScriptParam | None = None


def describe(node: Node | None, params: dict[str, ScriptParam], root: Node, env: dict[str, str]) -> Value:
    if node is None:
        return Value("none", "")
    n = core(node)
    t = text(n)
    var = _var_name(n)
    if var is not None:
        low = var.lower()
        if low in ("true", "false"):
            return Value("bool", low)
        if low == "null":
            return Value("null", t)
        if low in params:
            return Value("param", t, params[low])
        return Value("other", t)
    if n.type == "element_access" and _var_name(n.children[0]) is not None:
        if (_var_name(n.children[0]) or "").lower() == "psboundparameters":
            inner = next((c for c in n.named_children[1:]), None)
            keys = resolve_index(root, inner, n, env) if inner is not None else None
            if keys is not None and len(keys) == 1 and keys[0][0].lower() in params:
                return Value("param", t, params[keys[0][0].lower()])
        return Value("other", t)
    if n.type in ("integer_literal", "real_literal", "decimal_integer_literal"):
        return Value("number", t)
    s = _string_value(n)
    if s is not None:
        return Value("string", s)
    if n.type == "cast_expression":
        lit = next((c for c in n.children if c.type == "type_literal"), None)
        return Value("cast", text(lit)[1:-1].lower() if lit is not None else "")
    return Value("other", t)


def _switch_value_ok(v: Value) -> bool:
    if v.kind == "bool":
        return True
    if v.kind == "number":
        return v.text in ("0", "1")
    if v.kind == "param" and v.param is not None:
        return v.param.type in ("switch", "bool")
    if v.kind == "cast":
        return v.text in ("bool", "switch")
    return False


# -- output of a command or an expression -----------------------------------------------------------
def pipeline_context(pipeline: Node) -> str:
    """Where a pipeline's output goes: ``discarded`` ($null =, [void], | Out-Null, > $null),
    ``statement`` (to the output stream of the script or function), or ``used`` (assigned, in @()/$()/(),
    an argument, an operand, a condition, returned)."""
    chain = next((c for c in pipeline.children if c.type == "pipeline_chain"), None)
    if chain is not None and any(c.type == "redirections" and "$null" in text(c) for c in chain.children):
        return "discarded"
    parent = pipeline.parent
    if parent is None:
        return "statement"
    if parent.type == "assignment_expression":
        left = core(parent.children[0])
        return "discarded" if _is_var(left, "null") else "used"
    if parent.type == "flow_control_statement":
        return "used" if text(parent.children[0]).lower() == "return" else "discarded"
    if parent.type == "statement_list":
        owner = parent.parent
        if owner is None or owner.type == "program":
            return "statement"
        if owner.type in ("array_expression", "sub_expression"):
            return expression_context(owner)
        if owner.type == "statement_block":
            stmt = next(
                (a for a in ancestors(owner) if a.parent is not None and a.parent.type == "statement_list"),
                None,
            )
            if stmt is None:
                return "statement"
            if stmt.type == "pipeline":
                return pipeline_context(stmt)
            return "statement"
        if owner.type == "script_block_body":
            block = owner.parent
            if block is not None and _script_block_is_function_body(block):
                return "statement"
            sbe = block.parent if block is not None else None
            if sbe is not None and sbe.type == "script_block_expression":
                cmd = _enclosing(sbe, "command")
                if cmd is not None and text(cmd.children[0]).lower() == "foreach-object":
                    return command_context(cmd)
                return "used"
            return "statement"
        return "statement"
    return expression_context(parent)


def expression_context(node: Node) -> str:
    """The context of an expression: that of the pipeline it makes up, ``used`` inside a larger one."""
    cur = node
    for a in ancestors(node):
        if a.type == "cast_expression":
            lit = next((c for c in a.children if c.type == "type_literal"), None)
            if lit is not None and text(lit).lower() == "[void]":
                return "discarded"
        if a.type == "pipeline_chain":
            items = [c for c in a.children if c.type not in ("|", "redirections")]
            if len(items) > 1:
                return _chain_position_context(a, cur)
            return pipeline_context(a.parent) if a.parent is not None else "statement"
        if text(a) != text(node) and a.type not in ("pipeline_chain",):
            return "used"
        cur = a
    return "statement"


def _chain_position_context(chain: Node, item: Node) -> str:
    items = [c for c in chain.children if c.type not in ("|", "redirections")]
    idx = next(
        (i for i, c in enumerate(items) if c.id == item.id or c.start_byte == item.start_byte), len(items) - 1
    )
    if idx < len(items) - 1:
        nxt = items[idx + 1]
        if (
            nxt.type == "command"
            and text(nxt.children[0]).lower() == "out-null"
            and idx + 1 == len(items) - 1
        ):
            return "discarded"
        return "used"
    return pipeline_context(chain.parent) if chain.parent is not None else "statement"


def command_context(cmd: Node) -> str:
    chain = cmd.parent
    if chain is None or chain.type != "pipeline_chain":
        return "statement"
    return _chain_position_context(chain, cmd)


# -- the checks -------------------------------------------------------------------------------------
def _problem(at: int, cmdlet: Cmdlet, what: str) -> Problem:
    """A problem with a call, naming the reference page it was checked against."""
    return Problem(at, f"{cmdlet.name} {what} [{cmdlet.page}]")


def _set_problems(
    cmdlet: Cmdlet, names: list[str], n_positional: int, piped: bool, at: int, label: str
) -> list[Problem]:
    """The parameter-set rule for one combination of named parameters (see the test's docstring)."""
    given = set(names)
    containing = {s: m for s, m in cmdlet.sets.items() if given <= set(m)}
    shown = (", ".join(f"-{n}" for n in sorted(given)) or "no named parameters") + label
    if not containing:
        sets = "; ".join(f"{s}: {', '.join(sorted(m))}" for s, m in cmdlet.sets.items())
        return [_problem(at, cmdlet, f"with {shown}: no parameter set has all of them ({sets})")]
    fitting: dict[str, list[str]] = {}
    for s, members in containing.items():
        free = sorted(
            (sp.position, pname)
            for pname, sp in members.items()
            if sp.position is not None and pname not in given
        )
        if n_positional > len(free):
            continue
        bound = given | {pname for _, pname in free[:n_positional]}
        fitting[s] = [
            pname
            for pname, sp in members.items()
            if sp.mandatory and pname not in bound and not (piped and sp.pipeline)
        ]
    if not fitting:
        return [
            _problem(
                at, cmdlet, f"with {shown}: {n_positional} positional argument(s), more than any set takes"
            )
        ]
    satisfied = [s for s, missing in fitting.items() if not missing]
    if not satisfied:
        why = "; ".join(f"set {s} needs -{', -'.join(m)}" for s, m in fitting.items())
        return [_problem(at, cmdlet, f"with {shown}: a mandatory parameter is missing ({why})")]
    bases = {s.split(" - ", 1)[0] for s in satisfied}
    default = (cmdlet.default_set or "").split(" - ", 1)[0]
    if len(bases) > 1 and default not in bases:
        return [
            _problem(
                at,
                cmdlet,
                f"with {shown}: sets {sorted(bases)} all fit and none is the default"
                " (about_Parameter_Sets: AmbiguousParameterSet)",
            )
        ]
    return []


def _accepted_problem(at: int, cmdlet: Cmdlet, p: Param, value: Value) -> Problem | None:
    allowed = {a.lower() for a in p.accepted}
    if value.kind == "string":
        given, what = [value.text], "value"
    elif value.kind == "param" and value.param is not None and value.param.validate_set is not None:
        given, what = list(value.param.validate_set), f"ValidateSet of ${value.param.name}"
    else:
        return None
    bad = [g for g in given if g.lower() not in allowed]
    if not bad:
        return None
    return _problem(at, cmdlet, f"-{p.name}: {what} {bad} not among the accepted values {list(p.accepted)}")


def _arg_problems(at: int, cmdlet: Cmdlet, arg: Arg, value: Value) -> tuple[Param | None, list[Problem]]:
    """A named argument or splatted key: its name, its value as a switch, its accepted values."""
    where = f"@{arg.splat} key {arg.written!r}" if arg.splat else f"-{arg.written}"
    found = cmdlet.lookup(arg.written)
    if found.kind == "unknown":
        later = next((p for p in cmdlet.later_only if p.lower() == arg.written.lower()), None)
        extra = f" in Windows PowerShell 5.1; only in {cmdlet.later_only[later]}" if later else ""
        return None, [_problem(at, cmdlet, f"{where}: no such parameter{extra}")]
    if found.kind == "ambiguous":
        return None, [_problem(at, cmdlet, f"{where}: ambiguous, matches {', '.join(found.candidates)}")]
    assert found.param is not None
    p = found.param
    problems: list[Problem] = []
    if found.kind == "prefix":
        problems.append(
            _problem(
                at,
                cmdlet,
                f"{where}: an abbreviation of -{p.name}; PowerShell takes unambiguous prefixes (lang-spec"
                " chapter-02 §2.3.4), but a new parameter can make one ambiguous: write full names",
            )
        )
    problems.extend(_problem(at, cmdlet, f"-{p.name}: not on the {d} page") for d in p.absent_from)
    if p.switch and (arg.colon or arg.splat) and not _switch_value_ok(value):
        problems.append(
            _problem(
                at,
                cmdlet,
                f"{where}: switch -{p.name} given {value.text!r}; a switch takes $true, $false or a"
                " [switch]/[bool] value (about_Functions_Advanced_Parameters)",
            )
        )
    elif not p.switch and arg.value is None and not arg.splat:
        problems.append(_problem(at, cmdlet, f"-{p.name}: no value given (type {p.type})"))
    if p.accepted and arg.value is not None:
        bad = _accepted_problem(at, cmdlet, p, value)
        if bad is not None:
            problems.append(bad)
    return p, problems


def check_cmdlet_call(
    call: Call, cmdlet: Cmdlet, root: Node, params: dict[str, ScriptParam]
) -> list[Problem]:
    problems = list(call.problems)
    at = line(call.node)
    args = list(call.named)
    for var in call.splats:
        splat_args, splat_problems = resolve_splat(root, var, call.node)
        args.extend(splat_args)
        problems.extend(splat_problems)
    resolved: list[tuple[Arg, Param]] = []
    for arg in args:
        p, arg_problems = _arg_problems(at, cmdlet, arg, describe(arg.value, params, root, arg.env))
        problems.extend(arg_problems)
        if p is not None:
            resolved.append((arg, p))

    seen: dict[str, Arg] = {}
    for arg, p in resolved:
        if p.name in seen and not (arg.conditional or seen[p.name].conditional):
            problems.append(_problem(at, cmdlet, f"-{p.name} given twice"))
        seen.setdefault(p.name, arg)

    fixed = sorted({p.name for a, p in resolved if not a.conditional})
    optional = [(a, p) for a, p in resolved if a.conditional]
    variants: list[tuple[list[str], str]] = [(fixed, "")]
    variants.extend((sorted(set(fixed) | {p.name}), f" (and conditional key {p.name})") for _, p in optional)
    for (a1, p1), (a2, p2) in combinations(optional, 2):
        if (
            p1.name != p2.name
            and a1.node is not None
            and a2.node is not None
            and not _exclusive(a1.node, a2.node)
        ):
            names = sorted(set(fixed) | {p1.name, p2.name})
            variants.append((names, f" (and conditional keys {p1.name}, {p2.name})"))
    for names, label in variants:
        problems.extend(_set_problems(cmdlet, names, len(call.positional), call.piped, at, label))

    if cmdlet.no_output_without_passthru and command_context(call.node) == "used" and "PassThru" not in fixed:
        how = "only sometimes with" if any(p.name == "PassThru" for _, p in optional) else "without"
        problems.append(
            _problem(
                at,
                cmdlet,
                f'output is used but it runs {how} -PassThru; the page: "By default, this cmdlet does not'
                ' generate any output"',
            )
        )
    return problems


def check_function_call(call: Call, fn: Function) -> list[Problem]:
    """A call of a function the script defines: named arguments must be its parameters, and there
    must be no more arguments than parameters (a function without [CmdletBinding()] would put the
    rest in $args silently)."""
    problems = list(call.problems)
    at = line(call.node)
    declared = {p.name.lower(): p for p in fn.params}
    for arg in call.named:
        if arg.written.lower() not in declared:
            problems.append(Problem(at, f"{fn.name} -{arg.written}: the function has no such parameter"))
    if call.splats:
        problems.append(Problem(at, f"{fn.name}: splatting onto a script function is not checked"))
    bound = {a.written.lower() for a in call.named}
    free = [p for p in fn.params if p.name.lower() not in bound and p.type != "switch"]
    if len(call.positional) > len(free) and not call.piped:
        problems.append(
            Problem(
                at, f"{fn.name}: {len(call.positional)} positional argument(s) for {len(free)} parameter(s)"
            )
        )
    return problems


def call_problems(source: str, table: dict[str, Cmdlet] | None = None) -> list[Problem]:
    """Every command call in ``source`` checked against the reference tables (see the module doc);
    ``table`` replaces them (tests of rules no real page exercises)."""
    tree = parse(source)
    root = tree.root_node
    params = script_params(root)
    fns = functions(root)
    table = reference() if table is None else table
    problems: list[Problem] = []
    raw = source.encode("utf-8")
    for n in walk(root):
        # tree-sitter-powershell ends a parameter name at a digit (-Base64Data reads as -Base, then a
        # command 64Data): such a call cannot be read, so it fails instead of being misread
        if n.type == "command_parameter" and raw[n.end_byte : n.end_byte + 1].isalnum():
            rest = re.match(rb"\w*", raw[n.end_byte :])
            whole = text(n) + (rest.group(0).decode() if rest else "")
            problems.append(Problem(line(n), f"{whole}: tree-sitter-powershell splits this parameter name"))
    for cmd in command_nodes(root):
        name = text(cmd.children[0])
        low = name.lower()
        cmdlet = table.get(low)
        fn = fns.get(low)
        if cmdlet is None and fn is None:
            problems.append(
                Problem(
                    line(cmd), f"{name}: not a cmdlet of the reference tables nor a function of the script"
                )
            )
            continue
        if cmdlet is not None and name != cmdlet.name:
            problems.append(
                Problem(line(cmd), f"{name}: write the cmdlet's name as the reference does, {cmdlet.name}")
            )
        call = read_call(cmd, cmdlet, fn)
        if fn is not None:
            problems.extend(check_function_call(call, fn))
        elif cmdlet is not None:
            problems.extend(check_cmdlet_call(call, cmdlet, root, params))
    return problems


def called_commands(source: str) -> set[str]:
    return {text(c.children[0]) for c in command_nodes(parse(source).root_node)}
