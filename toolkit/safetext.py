"""Text from outside (a server's answer, an inventory file) made safe to print and to store.

Two functions, each used wherever its problem can arise:

- ``for_terminal(text)``: what a terminal must never receive as it is. Control characters (C0,
  DEL, C1: a newline that starts a fake table row, ESC sequences that recolour, clear or retitle
  the terminal), the bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E,
  U+2066-U+2069, U+200E, U+200F, U+061C: "dns1\\u202eexe.moc" shown as "dns1com.exe"), the line
  and paragraph separators (U+2028, U+2029) and lone surrogates (which no encoder writes) are
  shown as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``, ``\\ud800``). Every other character, and a
  backslash, is left as it is, so ordinary text, Windows account names and non-Latin zone names
  print unchanged. Every place where text from a server reaches a terminal goes through it: the
  table renderers, the listings, the drift report, error and log lines.
- ``without_surrogates(text)`` and ``scrub_surrogates(data)``: a lone surrogate (JSON allows
  ``"\\ud800"``; a server printed one in a zone name) cannot be encoded as UTF-8, so SQLite, a
  report file or stdout would refuse it and the command would fail. What a server sends is read
  with them (``toolkit.jsontext.loads``): a lone surrogate becomes the six characters of its
  escape, ``\\ud800``, and a pair of surrogates the character it encodes.
- ``for_xml(text)``: the characters XML 1.0 forbids (most C0 controls), escaped, for the XML
  reports (JUnit, STIG checklists).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["for_terminal", "for_xml", "scrub_surrogates", "shorten", "without_surrogates"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: what XML 1.0 forbids in a document, even as a character reference
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    char = m.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object) -> str:
    """``text`` with every character a terminal would act on (or could not print) escaped."""
    s = text if isinstance(text, str) else str(text)
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(_escape, s)


def for_xml(text: str) -> str:
    """``text`` (an XML document or a value in one) with each character XML 1.0 does not allow
    (C0 controls but tab, newline and carriage return; surrogates; U+FFFE, U+FFFF) written as
    its escape: a parser would refuse the whole document for one of them."""
    if _NOT_XML.search(text) is None:
        return text
    return _NOT_XML.sub(_escape, text)


def shorten(text: object, limit: int = 64) -> str:
    """``for_terminal(text)``, cut to ``limit`` characters with its full length said: for
    echoing a value that may be of any length in a one-line message."""
    s = text if isinstance(text, str) else str(text)
    shown = for_terminal(s[: limit + 1])
    if len(s) <= limit and len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(s)} characters)"


def without_surrogates(text: str) -> str:
    """``text`` with each surrogate pair joined into its character and each lone surrogate
    written as its escape (``\\ud800``): text every UTF-8 encoder accepts."""
    if _SURROGATE.search(text) is None:
        return text
    joined = _PAIR.sub(lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"), text)
    return _SURROGATE.sub(_escape, joined)


def scrub_surrogates(data: Any) -> Any:
    """JSON-shaped ``data`` (dicts, lists, text, numbers) with ``without_surrogates`` applied to
    every text and key, in place where it can be. Iterative: a deeply nested document is no
    danger to the stack."""
    if isinstance(data, str):
        return without_surrogates(data)
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            renamed = False
            for key, value in node.items():
                if isinstance(value, str):
                    fixed = without_surrogates(value)
                    if fixed is not value:
                        node[key] = fixed
                elif isinstance(value, dict | list):
                    stack.append(value)
                renamed = renamed or (isinstance(key, str) and _SURROGATE.search(key) is not None)
            if renamed:  # rebuilt in the same order
                items = [(without_surrogates(k) if isinstance(k, str) else k, v) for k, v in node.items()]
                node.clear()
                node.update(items)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str):
                    node[i] = without_surrogates(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
    return data
