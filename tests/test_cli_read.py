"""The read-only CLI end to end through CliRunner and the simulated demo fleet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main

FAKE = ["--transport", "fake"]


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(main, list(args))
    assert "Traceback" not in r.output + r.stderr
    return r.exit_code, r.stdout, r.stderr


def test_version(runner: CliRunner) -> None:
    from toolkit import __version__

    code, out, _ = invoke(runner, "--version")
    assert code == 0 and __version__ in out


@pytest.mark.parametrize(
    ("arg", "name", "hexcode"),
    [
        ("9104", "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS", "0x2390"),
        ("0x2390", "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS", "0x2390"),
        ("0x2399", "DNS_ERROR_TOO_MANY_SKDS", "0x2399"),
        ("DNS_ERROR_TOO_MANY_SKDS", "DNS_ERROR_TOO_MANY_SKDS", "0x2399"),
    ],
)
def test_explain_codes(runner: CliRunner, arg: str, name: str, hexcode: str) -> None:
    code, out, _ = invoke(runner, "explain", arg)
    assert code == 0
    assert name in out and hexcode in out


def test_explain_9104_says_ksk_and_zsk_and_how_to_fix(runner: CliRunner) -> None:
    _, out, _ = invoke(runner, "explain", "9104")
    assert "at least one key signing key (KSK) and at least one zone signing key (ZSK)" in out
    assert "Add-DnsServerSigningKey" in out and "Get-DnsServerSigningKey" in out


def test_explain_unknown_code_is_one_line_error(runner: CliRunner) -> None:
    code, out, err = invoke(runner, "explain", "4242")
    assert code == 4
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "4242" in err


def test_demo_json_lists_servers_and_zones(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "demo", "--format", "json")
    assert code == 0
    servers = json.loads(out)["servers"]
    assert len(servers) >= 3
    assert sum(len(s["zones"]) for s in servers) >= 12
    assert all(z["illustrates"] for s in servers for z in s["zones"])


def test_keys_list_json_shape(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, *FAKE, "--server", "dns1", "keys", "list", "--format", "json")
    assert code == 0
    keys = json.loads(out)
    assert isinstance(keys, list) and keys
    for k in keys:
        assert {"zone", "key_id", "key_type", "algorithm", "key_length", "rollover"} <= set(k)
        assert k["key_type"] in ("KSK", "ZSK")
        assert {"name", "number"} <= set(k["algorithm"])
        assert {"enabled", "period_seconds", "next", "status"} <= set(k["rollover"])
    by_zone: dict[str, list[str]] = {}
    for k in keys:
        by_zone.setdefault(k["zone"], []).append(k["key_type"])
    assert by_zone["nozsk.corp.example"] == ["KSK"]
    assert by_zone["noksk.corp.example"] == ["ZSK"]
    ecdsa = [k for k in keys if k["zone"] == "ecdsa.corp.example"]
    assert {k["algorithm"]["number"] for k in ecdsa} == {13}


def test_keys_list_zone_filter_and_csv(runner: CliRunner) -> None:
    code, out, _ = invoke(
        runner, *FAKE, "--server", "dns1", "keys", "list", "--zone", "corp.example", "--format", "csv"
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("server,zone,key_id,key_tag,key_tag_note,key_type,algorithm.name")
    assert len(lines) == 3 and all(",corp.example," in line for line in lines[1:])


def test_zones_list_table(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, *FAKE, "--server", "dns2", "zones", "list")
    assert code == 0
    assert "partner.example" in out and "Secondary" in out


def test_unreachable_server_is_one_line_and_exit_2(runner: CliRunner) -> None:
    code, out, err = invoke(runner, *FAKE, "--server", "dns3", "keys", "list")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "Access is denied" in err and "DNS3.corp.example" in err


def test_unknown_demo_server_is_config_error(runner: CliRunner) -> None:
    code, _, err = invoke(runner, *FAKE, "--server", "nosuch", "keys", "list")
    assert code == 4 and "unknown simulated server" in err


def test_missing_server_is_usage_error(runner: CliRunner) -> None:
    code, _, err = invoke(runner, *FAKE, "keys", "list")
    assert code == 3 and "--server" in err


def test_offline_malformed_file_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"ZoneName": "x", "KeyId": ')
    code, out, err = invoke(runner, "keys", "list", "--offline", str(bad))
    assert code == 4 and out == ""
    assert len(err.strip().splitlines()) == 1 and "bad.json" in err


def test_fixtures_dir_option(runner: CliRunner, demo_dir: Path) -> None:
    (demo_dir / "dns1.json").unlink()
    code, _, err = invoke(runner, *FAKE, "--fixtures", str(demo_dir), "--server", "dns1", "keys", "list")
    assert code == 4 and "unknown simulated server" in err


def test_an_unexpected_error_is_one_line_and_exit_70(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.services.audit as audit

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(audit, "collect", broken)
    res = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "keys", "list"])
    assert res.exit_code == 70
    assert res.stderr.strip() == (
        "windns: internal error: RuntimeError: boom second line (a bug; -vv shows the traceback)"
    )
    assert "Traceback" not in res.output


def test_an_unwrapped_os_error_is_one_line_and_exit_4(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toolkit.services.audit as audit

    def broken(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied", "/var/lib/windns/x")

    monkeypatch.setattr(audit, "collect", broken)
    res = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "keys", "list"])
    assert res.exit_code == 4
    assert res.stderr.strip() == "windns: error: /var/lib/windns/x Permission denied"


def test_offline_audit_of_named_zones_audits_only_them(runner: CliRunner, tmp_path: Path) -> None:
    from toolkit.testing.fake_remote import FakeRemote, load_fleet

    saved = tmp_path / "dns1.json"
    saved.write_text(FakeRemote(load_fleet().get("dns1")).run("inventory").raw, encoding="utf-8")
    code, out, _ = invoke(runner, "audit", "--offline", str(saved), "--format", "json")
    everything = json.loads(out)
    zones = {f["zone"] for f in everything["findings"]} - {None}
    assert code == 1 and everything["summary"]["zones"] > 2 and len(zones) > 2
    code, out, _ = invoke(
        runner,
        "audit",
        "--offline",
        str(saved),
        "--format",
        "json",
        "-z",
        "NOZSK.corp.example.",
        "-z",
        "corp.example",
    )
    report = json.loads(out)
    assert report["summary"]["zones"] == 2
    assert {f["zone"] for f in report["findings"]} - {None} == {"nozsk.corp.example"}
    assert code == 1  # nozsk: the 9104 state
    code, out, err = invoke(
        runner, "audit", "--offline", str(saved), "-z", "corp.example", "-z", "nosuch.example"
    )
    assert code == 4 and out == "" and len(err.strip().splitlines()) == 1
    assert "nosuch.example" in err and str(saved) in err and "corp.example, ecdsa.corp.example" in err
