"""Which script each simulator handler mirrors, and the text it was last read against.

A handler is a line-by-line transliteration of one ``ps_scripts/*.ps1`` (its shared parts
included, ``toolkit.resources.script_text``). ``@mirrors("inventory.ps1", sha256="...")``
records the SHA-256 of the expanded script text the transliteration was checked against;
``tests/test_simulator_mirrors.py`` fails when a script (or ``_projection.ps1``) changes and its
mirror's hash was not updated, i.e. when the mirror was not re-read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["MIRRORS", "Mirror", "mirrors", "script_sha256"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Mirror:
    script: str  # "inventory.ps1"
    sha256: str  # of the expanded text the mirror was read against
    module: str  # where the mirror lives ("toolkit/testing/simulator/reads.py")
    handler: str  # the function's name


#: script name without ``.ps1`` -> its mirror
MIRRORS: dict[str, Mirror] = {}


def mirrors(script: str, *, sha256: str) -> Callable[[F], F]:
    """Mark a handler as the transliteration of ``script`` as its expanded text hashed to ``sha256``."""

    def mark(fn: F) -> F:
        module = fn.__module__.replace(".", "/") + ".py"
        MIRRORS[script.removesuffix(".ps1")] = Mirror(script, sha256, module, fn.__name__)
        return fn

    return mark


def script_sha256(name: str) -> str:
    """SHA-256 of the text sent for ``ps_scripts/<name>.ps1``, shared parts included."""
    from toolkit.resources import script_text

    return hashlib.sha256(script_text(name).encode("utf-8")).hexdigest()
