"""Where the shipped data lives: the PowerShell scripts and the bundled demo fleet.

In a wheel they sit inside the package (``toolkit/ps_scripts``, ``toolkit/fixtures/demo``; see
``pyproject.toml``'s force-include); in a source checkout they sit at the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["demo_fixtures_dir", "ps_scripts_dir", "script_text"]

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


@cache
def script_text(name: str) -> str:
    """The text of ``ps_scripts/<name>.ps1``. Names are ours, never a user's."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad script name {name!r}")
    path = ps_scripts_dir() / f"{name}.ps1"
    if not path.is_file():
        raise ValueError(f"no script named {name!r} in ps_scripts/")
    return path.read_text(encoding="utf-8-sig")
