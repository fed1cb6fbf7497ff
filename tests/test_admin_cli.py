"""Admin commands through the CLI: acceptance of issue 5, dry run, confirmation, persistence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import toolkit.cli.changes as changes
from toolkit.audit_log import AuditLog
from toolkit.cli import main
from toolkit.findings import EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_REFUSED, EXIT_USAGE
from toolkit.resources import demo_fixtures_dir
from toolkit.testing.simulator import Fleet

ZSK_CORP = "9b05eefd-f46b-5a83-880d-3ed99ff9f2c6"  # the only ZSK of corp.example on DNS1


def _bundled_digest() -> str:
    h = hashlib.sha256()
    for f in sorted(demo_fixtures_dir().glob("*.json")):
        h.update(f.read_bytes())
    return h.hexdigest()


def _fake(dir_: Path, *args: str) -> list[str]:
    return ["--transport", "fake", "--fixtures", str(dir_), "--server", "dns1", *args]


def _keys(dir_: Path, zone: str) -> list[dict[str, object]]:
    z = Fleet.load(dir_).get("dns1").find_zone(zone)
    assert z is not None
    return list(z["SigningKeys"])


def test_remove_only_zsk_is_refused_then_force_shows_server_9104(runner: CliRunner, demo_dir: Path) -> None:
    log = demo_dir.parent / "audit.log"
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "remove", "--zone", "corp.example", ZSK_CORP, "--audit-log", str(log))
    )
    assert res.exit_code == EXIT_REFUSED
    assert "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104" in res.output
    assert len(_keys(demo_dir, "corp.example")) == 2
    res = runner.invoke(
        main,
        _fake(
            demo_dir,
            "keys",
            "remove",
            "--zone",
            "corp.example",
            ZSK_CORP,
            "--force",
            "--yes",
            "--audit-log",
            str(log),
        ),
    )
    assert res.exit_code != 0
    assert "guard is skipped" in res.output
    assert "the server refused the change: DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104)" in res.output
    assert "Remove-DnsServerSigningKey" in res.output
    assert len(_keys(demo_dir, "corp.example")) == 2
    assert [e["result"] for e in AuditLog(log)] == ["refused", "failed"]


def test_demo_export_then_add_zsk_persists_and_clears_9104(runner: CliRunner, tmp_path: Path) -> None:
    before = _bundled_digest()
    fleet_dir = tmp_path / "mine"
    res = runner.invoke(main, ["demo", "export", str(fleet_dir)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in fleet_dir.glob("*.json")) == sorted(
        p.name for p in demo_fixtures_dir().glob("*.json")
    )
    res = runner.invoke(
        main, _fake(fleet_dir, "keys", "add", "--zone", "nozsk.corp.example", "--type", "ZSK")
    )
    assert res.exit_code == 0, res.output
    import toolkit.testing.fake_remote as fake_remote_mod

    fake_remote_mod._FLEETS.clear()  # a new process: state comes from the files
    res = runner.invoke(main, _fake(fleet_dir, "keys", "list", "--zone", "nozsk.corp.example", "-f", "json"))
    assert res.exit_code == 0, res.output
    assert sorted(r["key_type"] for r in json.loads(res.output)) == ["KSK", "ZSK"]
    assert [k["KeyType"] for k in _keys(fleet_dir, "nozsk.corp.example")] == [
        "KeySigningKey",
        "ZoneSigningKey",
    ]
    assert _bundled_digest() == before


def test_audit_no_longer_reports_9104_after_adding_zsk(runner: CliRunner, demo_dir: Path) -> None:
    def nozsk_findings() -> list[dict[str, object]]:
        res = runner.invoke(main, _fake(demo_dir, "audit", "--zone", "nozsk.corp.example", "-f", "json"))
        doc = json.loads(res.output)
        return [
            f
            for f in _all_findings(doc)
            if "9104" in json.dumps(f) or "NOT_ENOUGH_SIGNING_KEY" in json.dumps(f)
        ]

    assert nozsk_findings()
    res = runner.invoke(main, _fake(demo_dir, "keys", "add", "--zone", "nozsk.corp.example", "--type", "ZSK"))
    assert res.exit_code == 0, res.output
    assert nozsk_findings() == []


def _all_findings(doc: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    if isinstance(doc, dict):
        if "rule_id" in doc:
            out.append(doc)
        for v in doc.values():
            out.extend(_all_findings(v))
    elif isinstance(doc, list):
        for v in doc:
            out.extend(_all_findings(v))
    return out


def test_dry_run_prints_plan_and_writes_nothing(runner: CliRunner, demo_dir: Path) -> None:
    before = (demo_dir / "dns1.json").read_bytes()
    res = runner.invoke(
        main,
        _fake(
            demo_dir,
            "zone",
            "dnssec",
            "set",
            "nsec3.corp.example",
            "--nsec3-iterations",
            "0",
            "--nsec3-salt",
            "-",
            "--dry-run",
        ),
    )
    assert res.exit_code == 0, res.output
    assert "Plan (dry run, nothing sent):" in res.output
    assert (
        "DNS1.corp.example: Set-DnsServerDnsSecZoneSetting -ZoneName 'nsec3.corp.example' "
        "-NSec3Iterations 0 -NSec3UserSalt '-'"
    ) in res.output
    assert (demo_dir / "dns1.json").read_bytes() == before


def test_destructive_without_tty_needs_yes(runner: CliRunner, demo_dir: Path) -> None:
    ksk = str(_keys(demo_dir, "staging.corp.example")[0]["KeyId"])
    res = runner.invoke(main, _fake(demo_dir, "keys", "remove", "--zone", "staging.corp.example", ksk))
    assert res.exit_code != 0 and "--yes" in res.output
    assert len(_keys(demo_dir, "staging.corp.example")) == 1
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "remove", "--zone", "staging.corp.example", ksk, "--yes")
    )
    assert res.exit_code == 0, res.output
    assert _keys(demo_dir, "staging.corp.example") == []


def test_destructive_on_tty_asks(runner: CliRunner, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "is_tty", lambda: True)
    ksk = str(_keys(demo_dir, "staging.corp.example")[0]["KeyId"])
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "remove", "--zone", "staging.corp.example", ksk), input="n\n"
    )
    assert "Proceed?" in res.output and res.exit_code != 0
    assert len(_keys(demo_dir, "staging.corp.example")) == 1
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "remove", "--zone", "staging.corp.example", ksk), input="y\n"
    )
    assert res.exit_code == 0, res.output
    assert _keys(demo_dir, "staging.corp.example") == []


def test_each_command_happy_path(runner: CliRunner, demo_dir: Path) -> None:
    def ok(*args: str) -> str:
        res = runner.invoke(main, _fake(demo_dir, *args))
        assert res.exit_code == 0, res.output
        return res.output

    zsk = str(_keys(demo_dir, "nsec3.corp.example")[1]["KeyId"])
    ok(
        "keys",
        "set",
        "--zone",
        "nsec3.corp.example",
        zsk,
        "--rollover-period",
        "60d",
        "--next-action",
        "retire",
    )
    k = next(k for k in _keys(demo_dir, "nsec3.corp.example") if k["KeyId"] == zsk)
    assert (k["RolloverPeriod"], k["NextRolloverAction"]) == (60 * 86400, "Retire")
    ok("keys", "rollover", "disable", "--zone", "nsec3.corp.example", zsk)
    assert (
        next(k for k in _keys(demo_dir, "nsec3.corp.example") if k["KeyId"] == zsk)["IsRolloverEnabled"]
        is False
    )
    ok("keys", "rollover", "enable", "--zone", "nsec3.corp.example", zsk, "--rollover-period", "30d")
    assert (
        next(k for k in _keys(demo_dir, "nsec3.corp.example") if k["KeyId"] == zsk)["RolloverPeriod"]
        == 30 * 86400
    )
    ok("keys", "rollover", "now", "--zone", "nsec3.corp.example", zsk)
    ok("zone", "dnssec", "set", "legacy.corp.example", "--ds-digests", "sha256")
    z = Fleet.load(demo_dir).get("dns1").find_zone("legacy.corp.example")
    assert z is not None and z["DnsSecSetting"]["DSRecordGenerationAlgorithm"] == ["Sha256"]
    ok("zone", "sign", "_msdcs.corp.example", "--defaults")
    assert len(_keys(demo_dir, "_msdcs.corp.example")) == 2
    out = ok("zone", "export-keys", "_msdcs.corp.example", "--ds", "--digest", "sha256")
    assert out.startswith("_msdcs.corp.example. 3600 IN DS ")
    out = ok("zone", "export-keys", "_msdcs.corp.example")
    assert " IN DNSKEY 257 3 8 " in out
    ok("zone", "unsign", "_msdcs.corp.example", "--yes")
    z = Fleet.load(demo_dir).get("dns1").find_zone("_msdcs.corp.example")
    assert z is not None and z["IsSigned"] is False


def test_guard_messages_through_cli(runner: CliRunner, demo_dir: Path) -> None:
    res = runner.invoke(
        main, _fake(demo_dir, "zone", "dnssec", "set", "corp.example", "--nsec3-iterations", "500")
    )
    assert res.exit_code == EXIT_REFUSED and "(9124, 0x23A4)" in res.output
    res = runner.invoke(
        main,
        _fake(demo_dir, "keys", "add", "--zone", "corp.example", "--type", "KSK", "--rollover-period", "3d"),
    )
    assert res.exit_code == EXIT_REFUSED and "(9114, 0x239A)" in res.output
    res = runner.invoke(main, _fake(demo_dir, "zone", "unsign", "corp.example", "--yes"))
    assert res.exit_code == EXIT_REFUSED and "parent" in res.output


def test_audit_log_has_no_secrets(runner: CliRunner, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = demo_dir.parent / "env-audit.log"
    monkeypatch.setenv("WINDNS_AUDIT_LOG", str(log))
    monkeypatch.setenv("WINDNS_PASSWORD", "Sup3r-Secret-Pw!")
    res = runner.invoke(
        main,
        [
            "--username",
            "CORP\\dnsadmin",
            *_fake(demo_dir, "keys", "add", "--zone", "nozsk.corp.example", "--type", "ZSK"),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        main,
        [
            "--username",
            "CORP\\dnsadmin",
            *_fake(demo_dir, "keys", "remove", "--zone", "corp.example", ZSK_CORP),
        ],
    )
    assert res.exit_code == EXIT_REFUSED
    text = log.read_text(encoding="utf-8")
    assert "Sup3r-Secret-Pw!" not in text
    done, refused = AuditLog(log).entries()
    assert done["operator"]["remote"] == "CORP\\dnsadmin" and done["result"] == "done"
    assert refused["result"] == "refused" and refused["error"]["code"] == 9104


def test_default_audit_log_is_in_the_data_dir(
    runner: CliRunner, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(demo_dir.parent / "data"))
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "add", "--zone", "nozsk.corp.example", "--type", "ZSK", "--dry-run")
    )
    assert res.exit_code == 0, res.output
    (entry,) = AuditLog(demo_dir.parent / "data" / "windns" / "audit.log").entries()
    assert entry["dry_run"] is True


def test_bundled_fleet_is_never_written(runner: CliRunner) -> None:
    before = _bundled_digest()
    res = runner.invoke(
        main,
        [
            "--transport",
            "fake",
            "--server",
            "dns1",
            "keys",
            "add",
            "--zone",
            "nozsk.corp.example",
            "--type",
            "ZSK",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        main,
        [
            "--transport",
            "fake",
            "--fixtures",
            str(demo_fixtures_dir()),
            "--server",
            "dns1",
            "keys",
            "add",
            "--zone",
            "nozsk.corp.example",
            "--type",
            "KSK",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "not saving into the bundled demo fleet" in res.output
    assert _bundled_digest() == before


def test_demo_export_refuses_to_clobber(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["demo", "export", str(tmp_path)]).exit_code == 0
    res = runner.invoke(main, ["demo", "export", str(tmp_path)])
    assert res.exit_code != 0 and "--overwrite" in res.output
    assert runner.invoke(main, ["demo", "export", str(tmp_path), "--overwrite"]).exit_code == 0


# -- bad values get one line and a documented exit code, never a traceback ------------------------
def _ksk_id(dir_: Path, zone: str) -> str:
    return str(next(k for k in _keys(dir_, zone) if k["KeyType"] == "KeySigningKey")["KeyId"])


@pytest.mark.parametrize(
    "extra", [("--length", "-5"), ("--length", "99999999999"), ("--length", "99999999999", "--force")]
)
def test_impossible_key_length_is_a_usage_error(
    runner: CliRunner, demo_dir: Path, extra: tuple[str, ...]
) -> None:
    res = runner.invoke(
        main, _fake(demo_dir, "keys", "add", "--zone", "corp.example", "--type", "KSK", *extra)
    )
    assert res.exit_code == EXIT_USAGE, res.output
    assert "--length" in res.stderr and "Traceback" not in res.output
    assert len(_keys(demo_dir, "corp.example")) == 2


def test_unsupported_key_length_is_refused_then_answered_9106_with_force(
    runner: CliRunner, demo_dir: Path
) -> None:
    args = _fake(demo_dir, "keys", "add", "--zone", "corp.example", "--type", "KSK", "--length", "99999")
    res = runner.invoke(main, args)
    assert res.exit_code == EXIT_REFUSED and "(9106, 0x2392)" in res.stderr
    res = runner.invoke(main, [*args, "--force"])
    assert res.exit_code == EXIT_INCOMPLETE, res.output
    assert "the server refused the change: DNS_ERROR_INVALID_KEY_SIZE (9106)" in res.stderr
    assert len(_keys(demo_dir, "corp.example")) == 2


def test_duration_beyond_a_timespan_is_a_usage_error(runner: CliRunner, demo_dir: Path) -> None:
    from toolkit.cli.admin_cmds import Duration

    ticks_per_day = 86400 * 10**7  # a .NET TimeSpan counts 100 ns ticks in an Int64
    assert Duration.MAX_DAYS * ticks_per_day <= 2**63 - 1 < (Duration.MAX_DAYS + 1) * ticks_per_day
    ksk = _ksk_id(demo_dir, "corp.example")

    def set_period(value: str) -> Any:
        return runner.invoke(
            main, _fake(demo_dir, "keys", "set", "--zone", "corp.example", ksk, "--rollover-period", value)
        )

    for value in ("99999999999999d", f"{Duration.MAX_DAYS + 1}d", "9" * 400 + "d"):
        res = set_period(value)
        assert res.exit_code == EXIT_USAGE and "too long a duration" in res.stderr, res.output
    res = set_period(f"{Duration.MAX_DAYS}d")  # parses; the guard then refuses the period
    assert res.exit_code == EXIT_REFUSED and "(9114, 0x239A)" in res.stderr


def test_failed_pre_read_is_not_called_a_refusal(runner: CliRunner, demo_dir: Path) -> None:
    args = ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns3"]
    before = (demo_dir / "dns3.json").read_bytes()
    res = runner.invoke(main, [*args, "keys", "add", "--zone", "dmz.corp.example", "--type", "KSK"])
    assert res.exit_code == EXIT_INCOMPLETE
    assert "refused the change" not in res.output
    assert "reading the current state of dmz.corp.example failed (Get-DnsServerZone)" in res.stderr
    assert "nothing was sent" in res.stderr
    assert (demo_dir / "dns3.json").read_bytes() == before


def test_server_refusal_prints_its_resolve_lines_with_the_zone(runner: CliRunner, demo_dir: Path) -> None:
    from toolkit.catalogue import get

    res = runner.invoke(
        main,
        _fake(demo_dir, "keys", "remove", "--zone", "corp.example", ZSK_CORP, "--force", "--yes"),
    )
    assert res.exit_code == EXIT_INCOMPLETE
    resolve = get(9104).resolve  # type: ignore[union-attr]
    assert resolve is not None
    printed = [line.strip() for line in res.stderr.splitlines()]
    for line in resolve.splitlines():
        if line.strip():
            assert line.strip().replace("<Zone>", "corp.example") in printed
    assert "<Zone>" not in res.stderr


def test_unknown_key_storage_provider_is_answered_9112(runner: CliRunner, demo_dir: Path) -> None:
    res = runner.invoke(
        main,
        _fake(
            demo_dir,
            "keys",
            "add",
            "--zone",
            "corp.example",
            "--type",
            "ZSK",
            "--ksp",
            "Bogus KSP",
            "--force",
        ),
    )
    assert res.exit_code == EXIT_INCOMPLETE
    assert "the server refused the change: DNS_ERROR_KSP_NOT_ACCESSIBLE (9112)" in res.stderr
    assert len(_keys(demo_dir, "corp.example")) == 2


def test_no_nsec3_salt_is_user_salt_dash(runner: CliRunner, demo_dir: Path) -> None:
    def dnssec_set(*extra: str) -> Any:
        return runner.invoke(main, _fake(demo_dir, "zone", "dnssec", "set", "nsec3.corp.example", *extra))

    for length in ("0", "256"):
        res = dnssec_set("--nsec3-salt-length", length)
        assert res.exit_code == EXIT_USAGE and "--nsec3-salt-length" in res.stderr, res.output
    assert "--nsec3-salt -" in dnssec_set("--nsec3-salt-length", "0").stderr
    res = dnssec_set("--nsec3-salt-length", "255")
    assert res.exit_code == 0, res.output
    res = dnssec_set("--nsec3-salt", "-")
    assert res.exit_code == 0, res.output
    z = Fleet.load(demo_dir).get("dns1").find_zone("nsec3.corp.example")
    assert z is not None
    s = z["DnsSecSetting"]
    assert (s["NSec3UserSalt"], s["NSec3RandomSaltLength"], s["NSec3CurrentSalt"]) == ("-", 0, "-")


# -- keys list (the read side of these commands) ---------------------------------------------------
def test_keys_list_of_an_unknown_zone_is_an_error(runner: CliRunner, demo_dir: Path) -> None:
    res = runner.invoke(main, _fake(demo_dir, "keys", "list", "--zone", "nosuch.example"))
    assert res.exit_code == EXIT_CONFIG
    assert "(nothing to show)" not in res.output
    (line,) = res.stderr.strip().splitlines()
    assert "nosuch.example" in line and "9601" in line
    res = runner.invoke(
        main,
        _fake(demo_dir, "keys", "list", "--zone", "nosuch.example", "--zone", "corp.example", "-f", "json"),
    )
    assert res.exit_code == EXIT_CONFIG
    rows = json.loads(res.stdout)  # what was found is still shown
    assert sorted(r["key_id"] for r in rows) == sorted(
        str(k["KeyId"]) for k in _keys(demo_dir, "corp.example")
    )


def test_keys_list_of_unreadable_keys_is_incomplete(runner: CliRunner, demo_dir: Path) -> None:
    args = ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns4"]
    res = runner.invoke(main, [*args, "keys", "list", "--zone", "broken.branch.example"])
    assert res.exit_code == EXIT_INCOMPLETE
    (line,) = res.stderr.strip().splitlines()
    assert "broken.branch.example" in line and "Get-DnsServerSigningKey" in line


def test_keys_list_of_a_whole_server_names_the_zones_it_could_not_read(
    runner: CliRunner, demo_dir: Path
) -> None:
    args = ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns4"]
    res = runner.invoke(main, [*args, "keys", "list", "-f", "json"])
    assert res.exit_code == EXIT_INCOMPLETE
    listed = {r["zone"] for r in json.loads(res.stdout)}
    assert "manual.branch.example" in listed and "broken.branch.example" not in listed
    (line,) = res.stderr.strip().splitlines()
    assert "broken.branch.example" in line
    healthy = runner.invoke(main, [*args[:-1], "dns1", "keys", "list"])
    assert healthy.exit_code == 0 and not healthy.stderr
