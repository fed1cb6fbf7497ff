from __future__ import annotations

import pytest

from toolkit.errors import ConfigError, ConnectError, RemoteTimeout
from toolkit.remote import ConnectionOptions, connect
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet


def test_fake_records_calls_and_returns_json_copy(fleet: Fleet) -> None:
    r = FakeRemote(fleet.get("dns1"))
    res = r.run("inventory", {"ZoneName": ["corp.example"]})
    assert res.script == "inventory"
    assert [z["ZoneName"] for z in res.data["Zones"]] == ["corp.example"]
    assert r.calls[0].script == "inventory" and r.calls[0].params == {"ZoneName": ["corp.example"]}
    # The answer is a copy: changing it leaves the simulator alone.
    res.data["Zones"][0]["ZoneName"] = "changed"
    assert r.run("inventory", {}).data["Zones"][0]["ZoneName"] == "corp.example"


def test_fake_fail_with_names_the_host(fleet: Fleet) -> None:
    r = FakeRemote(fleet.get("dns2"), fail_with=ConnectError("connection refused"))
    with pytest.raises(ConnectError) as ei:
        r.run("inventory")
    assert str(ei.value) == "DNS2.corp.example: connection refused"
    assert ei.value.transient


def test_fake_cmdlet_error_names_the_host(fleet: Fleet) -> None:
    from toolkit.errors import CmdletError

    with pytest.raises(CmdletError) as ei:
        FakeRemote(fleet.get("dns3")).run("inventory")
    assert ei.value.host == "DNS3.corp.example" and ei.value.code == 5


def test_connect_fake_uses_fixture_dir(demo_dir: object) -> None:
    with connect(ConnectionOptions(host="dns4"), "fake", fixtures=demo_dir) as r:  # type: ignore[arg-type]
        assert r.host == "DNS4.branch.example"
    with pytest.raises(ConfigError, match="unknown transport"):
        connect(ConnectionOptions(host="dns4"), "telnet")


def test_timeout_is_transient_auth_is_not() -> None:
    from toolkit.errors import AuthError

    assert RemoteTimeout("x").transient and not AuthError("x").transient


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"host": ""}, "server name is required"),
        ({"host": "h", "auth": "digest"}, "unknown auth method"),
        ({"host": "h", "auth": "basic", "ssl": False}, "refusing Basic authentication over plain HTTP"),
        ({"host": "h", "port": 0}, "port out of range"),
        ({"host": "h", "operation_timeout": 90, "read_timeout": 60}, "shorter than the read timeout"),
    ],
)
def test_connection_options_validation(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ConnectionOptions(**kw)  # type: ignore[arg-type]


def test_basic_over_http_allowed_explicitly_and_password_hidden() -> None:
    o = ConnectionOptions(host="h", auth="basic", ssl=False, allow_basic_over_http=True, password="S3cr3t!pw")
    assert o.endpoint == "http://h:5985/wsman"
    assert "S3cr3t" not in repr(o)
    assert ConnectionOptions(host="h").endpoint == "https://h:5986/wsman"
