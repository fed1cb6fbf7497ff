"""The config file (defaults for options), its precedence, and global options given after the
subcommand."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from toolkit.cli import main
from toolkit.cli.argv import hoist_global_options
from toolkit.findings import EXIT_CONFIG, EXIT_FINDINGS, EXIT_USAGE


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    """An XDG_CONFIG_HOME whose windns/config.toml is ``text`` (the default location)."""
    home = tmp_path / "config-home"
    (home / "windns").mkdir(parents=True, exist_ok=True)
    (home / "windns" / "config.toml").write_text(text, encoding="utf-8")
    return {"XDG_CONFIG_HOME": str(home)}


def _zones(r: Result) -> set[str]:
    assert r.exit_code == 0, r.output
    return {row["zone"] for row in json.loads(r.stdout)}


def _one_error_line(r: Result) -> str:
    assert "Traceback" not in r.output and r.stdout == "", r.output
    assert r.stderr.count("\n") == 1, r.stderr
    return r.stderr


def test_config_with_transport_and_server_makes_keys_list_work_with_no_options(
    runner: CliRunner, tmp_path: Path
) -> None:
    env = _config(tmp_path, 'transport = "fake"\nserver = "dns1"\n')
    r = runner.invoke(main, ["keys", "list"], env=env)
    assert r.exit_code == 0, r.output
    assert "corp.example" in r.stdout and "6f048320-1de2-5604-b5d3-041ce093bdb7" in r.stdout
    # without the file the same command has no server to ask
    r = runner.invoke(main, ["keys", "list"])
    assert r.exit_code == EXIT_USAGE and "no server given" in r.stderr


def test_precedence_option_over_environment_over_config_over_default(
    runner: CliRunner, tmp_path: Path
) -> None:
    env = _config(tmp_path, 'transport = "fake"\nserver = "dns1"\nformat = "json"\n')
    dns1 = _zones(runner.invoke(main, ["keys", "list"], env=env))
    assert "corp.example" in dns1 and "rollover.corp.example" not in dns1
    dns2 = _zones(runner.invoke(main, ["keys", "list"], env={**env, "WINDNS_SERVER": "dns2"}))
    assert "rollover.corp.example" in dns2 and "corp.example" not in dns2
    dns5 = _zones(runner.invoke(main, ["-s", "dns5", "keys", "list"], env={**env, "WINDNS_SERVER": "dns2"}))
    assert dns5 and dns5.isdisjoint(dns2) and dns5.isdisjoint(dns1)
    # the config's format = "json" is the default; the command line's -f wins
    r = runner.invoke(main, ["keys", "list", "-f", "csv"], env=env)
    assert r.exit_code == 0 and r.stdout.startswith("server,zone,"), r.stdout[:80]


def test_config_from_option_and_environment_and_command_tables(runner: CliRunner, tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('transport = "fake"\n[keys.list]\nformat = "json"\n', encoding="utf-8")
    for args, env in (
        (["--config", str(cfg), "-s", "dns1", "keys", "list"], {}),
        (["-s", "dns1", "keys", "list"], {"WINDNS_CONFIG": str(cfg)}),
        (["keys", "list", "--config", str(cfg), "-s", "dns1"], {}),
    ):
        assert "corp.example" in _zones(runner.invoke(main, args, env=env)), args
    # the [keys.list] table is that command's: zones list keeps its table default
    r = runner.invoke(main, ["--config", str(cfg), "-s", "dns1", "zones", "list"])
    assert r.exit_code == 0 and r.stdout.startswith("server "), r.stdout[:80]


def test_config_history_database_is_used_by_scan_and_history(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "team.sqlite3"
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("dns1\n", encoding="utf-8")
    env = _config(tmp_path, f'transport = "fake"\ndb = "{db}"\n')
    r = runner.invoke(main, ["-q", "scan", str(hosts)], env=env)
    assert r.exit_code == EXIT_FINDINGS and db.is_file(), r.output
    r = runner.invoke(main, ["history", "list", "--format", "json"], env=env)
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 1


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('server = "dns1"\npassword = "hunter2"\n', 2, "never put a password in the config file"),
        ('server = "dns1"\n[scan]\nPassword = "x"\n', 3, "never put a password"),
        ('transport = "fakes"\n', 1, "'fakes' is not one of"),
        ('server = "dns1"\n\n[scan]\nconcurrency = 0\n', 4, "0 is not in the range"),
        ("[scan]\nconcurrenc = 3\n", 2, "'concurrenc' is not an option of `windns scan`"),
        ('servers = "dns1"\n', 1, "unknown key 'servers'"),
        ('format = "pdf"\n', 1, "not a value any command's --format takes"),
        ('server = "dns1"\n[scan\n', 2, "invalid TOML"),
        ("scan = 3\n", 1, "give its options as a [scan] table"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_file_and_line(
    runner: CliRunner, tmp_path: Path, text: str, line: int, says: str
) -> None:
    env = _config(tmp_path, text)
    r = runner.invoke(main, ["--transport", "fake", "-s", "dns1", "keys", "list"], env=env)
    assert r.exit_code == EXIT_CONFIG
    err = _one_error_line(r)
    assert f"config.toml:{line}: " in err and says in err, err
    assert "hunter2" not in err


def test_a_named_config_file_must_exist(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    r = runner.invoke(main, ["--config", str(missing), "demo"])
    assert r.exit_code == EXIT_CONFIG and f"config file {missing} (--config) does not exist" in r.stderr
    r = runner.invoke(main, ["demo"], env={"WINDNS_CONFIG": str(missing)})
    assert r.exit_code == EXIT_CONFIG and "(WINDNS_CONFIG) does not exist" in _one_error_line(r)


def test_global_options_after_the_subcommand(runner: CliRunner, tmp_path: Path) -> None:
    before = runner.invoke(main, ["--transport", "fake", "--server", "dns2", "keys", "list", "-f", "json"])
    after = runner.invoke(main, ["keys", "list", "-f", "json", "--transport=fake", "-s", "dns2"])
    assert before.exit_code == after.exit_code == 0, after.output
    assert json.loads(before.stdout) == json.loads(after.stdout) != []
    # -v and -q after the subcommand are moved before it, as the group reads them
    with click.Context(main) as ctx:
        assert hoist_global_options(main, ctx, ["scan", "--demo", "-q"])[:1] == ["-q"]
        assert hoist_global_options(main, ctx, ["scan", "--demo", "-vv"])[:1] == ["-vv"]
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    quiet = runner.invoke(main, ["scan", "--demo", "-q"], env=cache)
    assert quiet.exit_code == EXIT_FINDINGS and quiet.stderr == ""
    # a subcommand's own option of the same name keeps its meaning (fake-server --username)
    r = runner.invoke(main, ["fake-server", "--help"])
    assert r.exit_code == 0 and "--username" in r.stdout
    # after `--`, nothing is moved
    r = runner.invoke(main, ["explain", "--", "--server"])
    assert r.exit_code == EXIT_CONFIG and "--server" in r.stderr


def test_help_documents_the_environment_and_the_config_file(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    for var in ("WINDNS_SERVER", "WINDNS_USERNAME", "WINDNS_TRANSPORT", "WINDNS_PASSWORD", "WINDNS_CONFIG"):
        assert var in text
    for var in ("WINDNS_DB", "WINDNS_AUDIT_LOG"):
        assert var in text
    assert "config.toml" in text and "command line > environment > config file > built-in default" in text
    assert "_WINDNS_COMPLETE=bash_source" in text and "zsh_source" in text and "fish_source" in text
