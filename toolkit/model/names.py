"""A zone's identity: the one way the toolkit compares zone names."""

from __future__ import annotations

__all__ = ["zone_key"]


def zone_key(name: str) -> str:
    """How Windows compares zone names: case-insensitive, trailing dot optional.

    ``zone_key("Corp.Example.")`` and ``zone_key("corp.example")`` are the same key; the root
    zone's key is the empty string. Display keeps a zone's own spelling; lookups, joins and
    de-duplication go through this key.
    """
    return name.lower().rstrip(".")
