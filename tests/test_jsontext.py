"""toolkit.jsontext reads and writes JSON as the standard library does, only faster."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import jsontext

# What a server's answer holds: objects with text keys, arrays, text (any code point but lone
# surrogates, which JSON text written by json.dumps escapes), integers, finite floats, bool, null.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",))),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([{}, {"ensure_ascii": False}, {"indent": 2}]))
def test_loads_reads_what_json_reads(doc: Any, how: dict[str, Any]) -> None:
    text = json.dumps(doc, **how)
    assert _same(jsontext.loads(text), json.loads(text))
    assert _same(jsontext.loads(text.encode("utf-8")), json.loads(text))


@settings(max_examples=300, deadline=None)
@given(documents)
def test_dumps_writes_what_json_reads_back(doc: Any) -> None:
    assert _same(json.loads(jsontext.dumps(doc)), doc)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        '{"a": Infinity, "b": -Infinity}',
        "[18446744073709551616]",  # past 64 bits (orjson reads a float)
        "[-9223372036854775809, 9223372036854775808]",
        '{"a": 123456789012345678901234567890.5}',
        '{"a": 1, "a": 2}',
    ],
)
def test_loads_falls_back_to_json_for_what_orjson_refuses(text: str) -> None:
    assert _same(jsontext.loads(text), json.loads(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"\\ud800"', "\\ud800"),  # a lone surrogate, escaped: its escape
        ('"a\\uDC80b"', "a\\udc80b"),
        ('"\ud800"', "\\ud800"),  # the code point itself, in str text
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a pair: its character
        ('"\ud83d\ude00"', "\U0001f600"),
        ('{"\\ud800": ["\\udfff", 1, {"k\\ud801": 2}]}', {"\\ud800": ["\\udfff", 1, {"k\\ud801": 2}]}),
        (
            '{"n": 123456789012345678901234567890, "s": "\\ud800"}',
            {"n": 123456789012345678901234567890, "s": "\\ud800"},
        ),
    ],
)
def test_loads_reads_a_lone_surrogate_as_its_escape(text: str, expected: Any) -> None:
    """The one answer that differs from json.loads's: text no encoder can write would fail
    wherever it went next (SQLite, a report file, the terminal)."""
    got = jsontext.loads(text)
    assert _same(got, expected)
    assert _same(jsontext.loads(text.encode("utf-8", "surrogatepass")), expected)
    json.dumps(got, ensure_ascii=False).encode("utf-8")  # encodable


# any code point, lone surrogates included (st.characters() alone never draws one)
any_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.recursive(any_text, lambda inner: st.lists(inner, max_size=4), max_leaves=10))
def test_loads_gives_text_every_encoder_takes(doc: Any) -> None:
    for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False)):
        got = jsontext.loads(text)
        json.dumps(got, ensure_ascii=False).encode("utf-8")  # no lone surrogate left
        if all(not 0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(doc, ensure_ascii=False)):
            assert _same(got, json.loads(text))  # and nothing else changed


def test_loads_raises_json_error_with_line_and_column() -> None:
    with pytest.raises(json.JSONDecodeError) as exc:
        jsontext.loads('{\n  "a": [1, 2,\n}')
    assert (exc.value.lineno, exc.value.colno) == (3, 1)


def test_dumps_falls_back_for_what_orjson_cannot_write() -> None:
    assert json.loads(jsontext.dumps({"n": 2**70, "k": {1: "x"}})) == {"n": 2**70, "k": {"1": "x"}}


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and int/float kept apart (2 is not 2.0 here)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
