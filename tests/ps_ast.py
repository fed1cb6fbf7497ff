"""tree-sitter-powershell helpers shared by the ps_scripts tests (parsing, walking, the scripts)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = ROOT / "ps_scripts"
FILES = sorted(SCRIPTS_DIR.glob("*.ps1"))
#: what is sent to a server: every script but the shared parts, with its parts included
SCRIPTS = [p for p in FILES if not p.stem.startswith("_") or p.stem == "_winrm_bootstrap"]
PARTS = [p for p in FILES if p not in SCRIPTS]

Node = tree_sitter.Node


def sent(script: Path) -> str:
    """The text a transport sends for ``script`` (its ``# windns:include`` parts expanded)."""
    from toolkit.resources import script_text

    return script_text(script.stem)


def sent_origins(script: Path) -> list[str]:
    """``file:line`` for each line of ``sent(script)``, so a problem found in the text as sent is
    reported where it is written (the script or the part it includes)."""
    from toolkit.resources import _INCLUDE

    origins: list[str] = []
    for number, row in enumerate(script.read_text(encoding="utf-8-sig").split("\n"), 1):
        m = _INCLUDE.fullmatch(row)
        if m:
            part = SCRIPTS_DIR / m.group(1)
            rows = part.read_text(encoding="utf-8-sig").rstrip("\n").split("\n")
            origins.extend(f"{part.name}:{n}" for n in range(1, len(rows) + 1))
        else:
            origins.append(f"{script.name}:{number}")
    if len(origins) != len(sent(script).split("\n")):  # pragma: no cover - the expansion changed
        raise AssertionError(f"{script.name}: line origins do not match the text as sent")
    return origins


def mutated_copy(directory: Path, script: str, old: str, new: str) -> str:
    """Copy ps_scripts/ into ``directory``, replace ``old`` (found once) by ``new`` in ``script`` and
    return that script as it would be sent: a broken copy of a real script, for negative controls."""
    import shutil

    from toolkit.resources import expand_includes

    target = directory / "ps_scripts"
    shutil.copytree(SCRIPTS_DIR, target)
    path = target / script
    source = path.read_text(encoding="utf-8-sig")
    if source.count(old) != 1:
        raise AssertionError(f"{script}: {old!r} is not in the script exactly once")
    path.write_text(source.replace(old, new), encoding="utf-8")
    return expand_includes(path.read_text(encoding="utf-8"), target)


@cache
def parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def parse(source: str) -> tree_sitter.Tree:
    return parser().parse(source.encode("utf-8"))


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def leaves(node: Node) -> Iterator[Node]:
    for n in walk(node):
        if n.child_count == 0:
            yield n


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def line(node: Node) -> int:
    return node.start_point[0] + 1


def ancestors(node: Node) -> Iterator[Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


@dataclass(frozen=True)
class Problem:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def code_tokens(source: str) -> list[Node]:
    """Leaf tokens outside comments and string literals."""
    return [
        leaf
        for leaf in leaves(parse(source).root_node)
        if leaf.type != "comment" and "string" not in leaf.type and "here_string" not in leaf.type
    ]
