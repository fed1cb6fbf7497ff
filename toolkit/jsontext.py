"""JSON text on the hot path: orjson, keeping the standard library's answers.

A scan parses every server's inventory (about 80 KiB for 20 zones) and the simulator prints one
per call. orjson reads such a document about twice and writes it 11 times as fast as ``json``
(``benchmarks/README.md``), and ``loads`` keeps ``json.loads``'s answer for every text:

- orjson reads an integer beyond 64 bits as a float; a text with a run of 19 or more digits
  (every such integer has one) is read by ``json``, which keeps it exact. Finding the run costs
  a translation and a search of the bytes, a fifth of what orjson's reading saves.
- Text orjson refuses (``NaN``, ``Infinity``, lone surrogates, malformed JSON) is read by
  ``json``, so what it accepts is read as before and malformed text raises
  ``json.JSONDecodeError`` naming its line and column, as it always did. ``json`` raises
  ``ValueError`` for an integer of more than 4,300 digits and ``RecursionError`` for nesting
  deeper than the interpreter's limit; callers reading a server's text turn each into their
  own one-line error (``remote.base.parse_script_output``, ``normalise.files.parse_bytes``).

One answer differs from ``json.loads``'s, on purpose: a lone surrogate (``"\\ud800"``, or the
code point itself in ``str`` text) cannot be encoded as UTF-8, so no database, file or terminal
would take it; it is read as its six-character escape, and a pair of surrogates as the character
it encodes (``toolkit.safetext.scrub_surrogates``). Finding whether a text holds one costs a
search of its bytes; only then is the document walked.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from toolkit.safetext import scrub_surrogates

__all__ = ["dumps", "loads"]

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19  # 2**63 has 19 digits: a shorter integer is one orjson keeps exact


#: a surrogate written as a JSON escape (``\\ud800``-``\\udfff``), or as UTF-8 bytes (which
#: ``str.encode(..., "surrogatepass")`` makes of a surrogate code point)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``, through orjson when that gives the same answer; a lone surrogate
    is read as its escape (see above)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _LONG_NUMBER in data.translate(_DIGITS_TO_ZERO):
        doc = json.loads(text)
    else:
        try:
            return orjson.loads(data)  # orjson refuses lone surrogates: none in what it reads
        except orjson.JSONDecodeError:
            doc = json.loads(text)
    if _SURROGATE.search(data) is not None:
        doc = scrub_surrogates(doc)
    return doc


def dumps(data: Any) -> str:
    """Compact JSON text of JSON-shaped data (dicts with text keys, lists, text, numbers, bool,
    None). What orjson cannot write (an integer beyond 64 bits, a key that is not text) is
    written by ``json.dumps``; a float NaN or infinity, which orjson writes as null, must not
    be in the data (JSON has no such value)."""
    try:
        return orjson.dumps(data).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(data, separators=(",", ":"))
