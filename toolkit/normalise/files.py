"""Saved JSON files -> ServerInventory, whatever encoding Windows wrote them in.

Windows PowerShell 5.1 ``Out-File`` and ``>`` write UTF-16 LE with a byte order mark by
default; ``Set-Content`` and PowerShell 7 write UTF-8 (5.1 ``-Encoding UTF8`` adds a BOM).
So the BOM decides; without one, UTF-8 is tried, and text whose every other byte is NUL is
read as BOM-less UTF-16.
"""

from __future__ import annotations

import codecs
import json
import os
from typing import Any

from toolkit import jsontext
from toolkit.errors import NormaliseError
from toolkit.model.descriptors import ServerInventory
from toolkit.normalise.cmdlet import normalise_document

__all__ = ["decode_bytes", "load_file", "parse_bytes"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_bytes(data: bytes, *, name: str) -> str:
    """Bytes of a saved file -> text; NormaliseError (labelled ``name``) when undecodable."""
    encoding = "utf-8"
    body = data
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding, body = enc, data[len(bom) :]
            break
    else:
        if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
            encoding = "utf-16-le"
        elif len(data) >= 4 and data[0] == 0 and data[2] == 0 and data[1] != 0:
            encoding = "utf-16-be"
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NormaliseError(
            f"not {encoding.upper()} text (byte {exc.start}); save it as UTF-8 or UTF-16", source=name
        ) from None


def parse_bytes(data: bytes, *, name: str) -> Any:
    """Bytes of a saved file -> the JSON value; NormaliseError with line/column when broken
    (and when the JSON holds what Python cannot: see ``remote.base.parse_script_output``)."""
    text = decode_bytes(data, name=name)
    if not text.strip():
        raise NormaliseError("file is empty", source=name)
    try:
        return jsontext.loads(text)
    except json.JSONDecodeError as exc:
        raise NormaliseError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source=name
        ) from None
    except RecursionError:
        raise NormaliseError("not valid JSON: nested too deeply", source=name) from None
    except ValueError as exc:  # int's conversion limit
        reason = "a number of more than 4,300 digits" if "digits" in str(exc) else " ".join(str(exc).split())
        raise NormaliseError(f"cannot be read: {reason[:120]}", source=name) from None


def load_file(path: str | os.PathLike[str], *, server_name: str | None = None) -> ServerInventory:
    """Read a saved inventory document or raw cmdlet output (see ``normalise_document``)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise NormaliseError(f"cannot read file: {reason}", source=name) from None
    return normalise_document(parse_bytes(data, name=name), server_name=server_name, source=name)
