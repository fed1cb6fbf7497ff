"""Where the shipped data lives: the PowerShell scripts and the bundled demo fleet.

In a wheel they sit inside the package (``toolkit/ps_scripts``, ``toolkit/fixtures/demo``; see
``pyproject.toml``'s force-include); in a source checkout they sit at the repository root.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["demo_fixtures_dir", "expand_includes", "ps_scripts_dir", "script_text"]

_PKG = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(f"none of {', '.join(str(c) for c in candidates)} exists")


def ps_scripts_dir() -> Path:
    return _first_existing(_PKG / "ps_scripts", _PKG.parent / "ps_scripts")


def demo_fixtures_dir() -> Path:
    return _first_existing(_PKG / "fixtures" / "demo", _PKG.parent / "fixtures" / "demo")


#: a line ``# windns:include _part.ps1`` is replaced by that part's text (parts start with ``_``)
_INCLUDE = re.compile(r"^# windns:include (_[a-z0-9_]+\.ps1)[ \t]*$", re.MULTILINE)


def _check_name(name: str) -> None:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad script name {name!r}")


def expand_includes(text: str, directory: Path) -> str:
    """``text`` with each ``# windns:include _part.ps1`` line replaced by that part from ``directory``."""

    def part(m: re.Match[str]) -> str:
        path = directory / m.group(1)
        if not path.is_file():
            raise ValueError(f"included part {m.group(1)} is not in ps_scripts/")
        return path.read_text(encoding="utf-8-sig").rstrip("\n")

    return _INCLUDE.sub(part, text)


@cache
def script_text(name: str) -> str:
    """The text sent to the server for ``ps_scripts/<name>.ps1``: the file with its
    ``# windns:include`` lines replaced by the shared parts. Names are ours, never a user's."""
    _check_name(name)
    directory = ps_scripts_dir()
    path = directory / f"{name}.ps1"
    if not path.is_file():
        raise ValueError(f"no script named {name!r} in ps_scripts/")
    return expand_includes(path.read_text(encoding="utf-8-sig"), directory)
