"""PsrpRemote's string escaping gives pypsrp's own CLIXML text, and the default pool uses it."""

from __future__ import annotations

import random

import pytest
from pypsrp.serializer import Serializer

from toolkit.remote import _psrp_strings
from toolkit.remote._psrp_strings import FastStringSerializer, use_fast_strings
from toolkit.remote.base import ConnectionOptions
from toolkit.remote.psrp import default_pool, default_wsman
from toolkit.resources import script_text

_SAMPLES = [
    "",
    "plain text",
    "a_xb_Xc _x000A_ _X005F_",
    "\x00\x01\x1f\x7f\x80\x9f\xa0 é \u2028 \ud7ff \ue000 \ufffd",
    "line\r\nbreaks\tand tabs\n",
    "astral \U0001f600 and _x and \n",
    "\U0010ffff\U00010000",
    "x" * 5000 + "\n_x\n",  # long enough to be remembered
]


@pytest.mark.parametrize("value", _SAMPLES)
def test_escapes_as_pypsrp_does(value: str) -> None:
    assert FastStringSerializer()._serialize_string(value) == Serializer()._serialize_string(value)


def test_random_strings_and_the_scripts_escape_as_pypsrp_does() -> None:
    rng = random.Random(7)
    alphabet = "_xX\x00\n\r\t\x1f\x7f\x85\x9f\xa0aé\u2028\ufffd\U0001f600"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(60))) for _ in range(300)]
    values += [script_text("inventory"), script_text("inventory")]  # the second: remembered
    fast, upstream = FastStringSerializer(), Serializer()
    for value in values:
        assert fast._serialize_string(value) == upstream._serialize_string(value), repr(value)


def test_remembered_strings_are_the_long_ones_only() -> None:
    _psrp_strings._escape_remembered.cache_clear()
    fast = FastStringSerializer()
    fast._serialize_string("short\n")
    long_text = "y\n" * _psrp_strings._REMEMBER
    fast._serialize_string(long_text)
    fast._serialize_string(long_text)
    info = _psrp_strings._escape_remembered.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_the_default_pool_serializes_with_it() -> None:
    opts = ConnectionOptions(host="127.0.0.1", port=5985, ssl=False, auth="ntlm", username="u", password="p")
    pool = default_pool(default_wsman(opts), opts)
    assert isinstance(pool._serializer, FastStringSerializer)
    assert pool._fragmenter.serializer is pool._serializer


def test_a_pool_of_another_shape_is_left_alone() -> None:
    class Other:
        _serializer = object()

    other = Other()
    use_fast_strings(other)
    assert not isinstance(other._serializer, FastStringSerializer)
