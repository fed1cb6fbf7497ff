"""A read-only view of one JSON record as PowerShell printed it, CIM adapter members and all.

Raw cmdlet output (reference 1.1 last row, and 4 "CimInstance") carries, beside the DnsServer
properties, the CIM adapter members ``CimClass``, ``CimInstanceProperties``,
``CimSystemProperties`` and ``PSComputerName``. The view ignores them, except that a property
missing at the top level is looked up in ``CimInstanceProperties`` when that is a list of
``{Name, Value, CimType, Flags, IsValueModified}`` items: an instance passed to ConvertTo-Json
as an argument, or an embedded instance, may carry its values only there (reference 4,
PowerShell/PowerShell#24554). Beyond ``-Depth`` that member is a plain string and is ignored.

Names are matched exactly first, then case-insensitively: PowerShell property names are
case-insensitive and Microsoft's own examples spell ``DSRecordSetTTL`` for ``DSRecordSetTtl``
(reference 1.2).
"""

from __future__ import annotations

import re
from typing import Any, Final

from toolkit.normalise.coerce import describe, fail

__all__ = ["MISSING", "Record", "child_path"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: name -> its path suffix, for the property names met so far (bounded: names come from input)
_SUFFIXES: dict[str, str] = {}
_SUFFIXES_MAX = 4096


def child_path(path: str, name: str) -> str:
    """``$.Zones`` + ``KeyId`` -> ``$.Zones.KeyId``; odd names are quoted (``$["a b"]``)."""
    suffix = _SUFFIXES.get(name)
    if suffix is None:
        if _IDENT_RE.match(name):
            suffix = f".{name}"
        else:
            escaped = name.replace("\\", "\\\\").replace('"', '\\"')
            suffix = f'["{escaped}"]'
        if len(_SUFFIXES) < _SUFFIXES_MAX:
            _SUFFIXES[name] = suffix
    return path + suffix


class Record:
    """One JSON object with its path; ``get(name)`` gives ``(value, path)``."""

    __slots__ = ("_cim", "_folded", "obj", "path")

    def __init__(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            fail(path, f"expected an object, got {describe(obj)}")
        self.obj: dict[str, Any] = obj
        self.path = path
        self._folded: dict[str, str] | None = None
        self._cim: dict[str, tuple[Any, str]] | None = None

    def _top(self, name: str) -> str | None:
        if name in self.obj:
            return name
        if self._folded is None:
            self._folded = {}
            for key in self.obj:
                if isinstance(key, str):
                    self._folded.setdefault(key.lower(), key)
        return self._folded.get(name.lower())

    def _cim_values(self) -> dict[str, tuple[Any, str]]:
        if self._cim is None:
            self._cim = {}
            key = self._top("CimInstanceProperties")
            props = self.obj.get(key) if key is not None else None
            if isinstance(props, list):
                base = child_path(self.path, key or "CimInstanceProperties")
                for i, item in enumerate(props):
                    if isinstance(item, dict) and isinstance(item.get("Name"), str) and "Value" in item:
                        self._cim.setdefault(item["Name"].lower(), (item["Value"], f"{base}[{i}].Value"))
        return self._cim

    def get(self, name: str) -> tuple[Any, str]:
        """The value of property ``name`` and its path; ``MISSING`` when absent everywhere."""
        if name in self.obj:  # the common case, without the case-insensitive lookup
            return self.obj[name], child_path(self.path, name)
        key = self._top(name)
        if key is not None:
            return self.obj[key], child_path(self.path, key)
        found = self._cim_values().get(name.lower())
        if found is not None:
            return found
        return MISSING, child_path(self.path, name)

    def has(self, name: str) -> bool:
        return self.get(name)[0] is not MISSING

    def value(self, name: str) -> Any:
        """The value, with ``MISSING`` folded into ``None`` (for optional properties)."""
        v = self.get(name)[0]
        return None if v is MISSING else v
