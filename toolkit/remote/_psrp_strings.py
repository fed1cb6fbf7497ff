"""pypsrp's string escaping without a Python call per escaped character.

PSRP strings escape control characters, C1 controls and characters beyond the BMP as
``_xHHHH_`` (MS-PSRP 2.2.5.3.2; ``_x`` itself as ``_x005F_x``). pypsrp 0.9's
``Serializer._serialize_string`` does it with ``re.sub`` and a Python callback per match, so
every line break of a script costs a function call, a UTF-16 encode and a hexlify: for the
21 KB inventory script (430 lines) about 1.7 ms of client CPU per host, the largest single item
of a fleet scan's PSRP work. Upstream: pypsrp ``serializer.py`` (``Serializer._serialize_string``).

``FastStringSerializer`` gives the same text: the ``_x`` step as upstream, then one
``str.replace`` per distinct BMP control present, and upstream's own code only when a character
beyond the BMP is present. Strings of 4 KiB or more (the scripts: the same text for every host)
are escaped once and remembered. ``use_fast_strings(pool)`` gives a RunspacePool (before it opens) this
serializer; pypsrp has no public way to choose one, so it sets the pool's serializer attribute
and its fragmenter's, and leaves a pool of another pypsrp shape as it is.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pypsrp.serializer import Serializer

__all__ = ["FastStringSerializer", "use_fast_strings"]

_CONTROLS = {chr(c): f"_x{c:04X}_" for c in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
_UNDERSCORE_X = re.compile("(?i)_(x)")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class FastStringSerializer(Serializer):
    """pypsrp's Serializer, escaping strings in C-level passes (same output)."""

    def _serialize_string(self, value: Any) -> str:
        if not isinstance(value, str) or _ASTRAL.search(value):
            return str(super()._serialize_string(value))
        if len(value) >= _REMEMBER:
            return _escape_remembered(value)
        return _escape(value)


#: strings this long are remembered: the scripts, the same text for every host of a scan
_REMEMBER = 4096


def _escape(value: str) -> str:
    text = _UNDERSCORE_X.sub("_x005F_\\1", value)
    for char in set(_CONTROL.findall(text)):  # a few distinct ones (line breaks, tabs)
        text = text.replace(char, _CONTROLS[char])
    return text


_escape_remembered = functools.lru_cache(maxsize=32)(_escape)


def use_fast_strings(pool: Any) -> None:
    """Give ``pool`` (a pypsrp RunspacePool not yet opened) a ``FastStringSerializer``."""
    fragmenter = getattr(pool, "_fragmenter", None)
    if not isinstance(getattr(pool, "_serializer", None), Serializer) or fragmenter is None:
        return
    serializer = FastStringSerializer()
    pool._serializer = serializer
    fragmenter.serializer = serializer
