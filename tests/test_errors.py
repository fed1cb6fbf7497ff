from __future__ import annotations

import pytest

from toolkit.errors import (
    AuthError,
    CmdletError,
    ConfigError,
    ConnectError,
    NormaliseError,
    ProtocolError,
    RemoteError,
    RemoteTimeout,
    WindnsError,
    parse_win32_code,
)


@pytest.mark.parametrize(
    ("fqid", "expected"),
    [
        ("WIN32 9104,Invoke-DnsServerZoneSign", (9104, "Invoke-DnsServerZoneSign")),
        ("win32 9711 , Add-DnsServerResourceRecordA", (9711, "Add-DnsServerResourceRecordA")),
        ("MiClientApiError_AccessDenied,Get-DnsServerZone", (None, "Get-DnsServerZone")),
        ("SomethingElse", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_win32_code(fqid: str | None, expected: tuple[int | None, str | None]) -> None:
    assert parse_win32_code(fqid) == expected


def test_tree() -> None:
    for cls in (ConnectError, AuthError, RemoteTimeout, ProtocolError, CmdletError):
        assert issubclass(cls, RemoteError)
    for cls in (RemoteError, NormaliseError, ConfigError):
        assert issubclass(cls, WindnsError)


def test_messages_are_one_line() -> None:
    e = ProtocolError("first line\r\n   second line\n", host="dns1")
    assert str(e) == "dns1: first line second line"


def test_cmdlet_error_carries_code_and_names_it() -> None:
    e = CmdletError("The zone has no ZSK.", code=9104, cmdlet="Invoke-DnsServerZoneSign", host="dns1")
    assert e.code == 9104
    assert "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104, 0x2390)" in str(e)
    assert str(e).startswith("dns1: Invoke-DnsServerZoneSign: ")


def test_config_and_normalise_errors_name_where() -> None:
    assert str(ConfigError("bad key", file="fleet.toml", line=7)) == "fleet.toml:7: bad key"
    assert str(NormaliseError("expected an integer", path="$.Zones[0].KeyLength", source="x.json")) == (
        "x.json: $.Zones[0].KeyLength: expected an integer"
    )
