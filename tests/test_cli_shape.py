"""The command groups are shaped alike (`zones` and `keys`: `list` beside the changes), the old
`zone` spelling keeps working out of sight, shell completion works as the README says, and a
table too wide for the terminal leaves out lower-priority columns rather than cut an id."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import main

FAKE = ["--transport", "fake", "-s", "dns1"]
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group) -> set[str]:
    return set(group.list_commands(click.Context(group)))


def test_zones_and_keys_are_shaped_alike(runner: CliRunner) -> None:
    top = _commands(main)
    assert {"zones", "keys"} <= top and "zone" not in top  # the old spelling is not listed
    zones, keys = (main.get_command(click.Context(main), n) for n in ("zones", "keys"))
    assert isinstance(zones, click.Group) and isinstance(keys, click.Group)
    assert {"list", "sign", "unsign", "dnssec", "export-keys"} <= _commands(zones)
    assert {"list", "add", "remove", "set", "rollover"} <= _commands(keys)
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0 and not any(line.split()[:1] == ["zone"] for line in r.stdout.splitlines())


@pytest.mark.parametrize(
    "args",
    [["export-keys", "corp.example"], ["export-keys", "corp.example", "--ds"], ["list", "-f", "json"]],
)
def test_the_old_zone_spelling_still_works(runner: CliRunner, args: list[str]) -> None:
    new = runner.invoke(main, [*FAKE, "zones", *args])
    old = runner.invoke(main, [*FAKE, "zone", *args])
    assert new.exit_code == 0 == old.exit_code, old.output
    assert old.stdout == new.stdout and new.stdout.strip()


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    home = tmp_path / "config-home"
    (home / "windns").mkdir(parents=True, exist_ok=True)
    (home / "windns" / "config.toml").write_text(text, encoding="utf-8")
    return {"XDG_CONFIG_HOME": str(home)}


@pytest.mark.parametrize(("table", "typed"), [("zone", "zones"), ("zones", "zone"), ("zones", "zones")])
def test_a_config_table_applies_under_either_name(
    runner: CliRunner, tmp_path: Path, table: str, typed: str
) -> None:
    env = _config(tmp_path, f'transport = "fake"\nserver = "dns1"\n[{table}.export-keys]\nds = true\n')
    r = runner.invoke(main, [typed, "export-keys", "corp.example"], env=env)
    assert r.exit_code == 0, r.output
    assert r.stdout.split()[3] == "DS"  # the DS records, as --ds gives them


def test_a_config_table_of_no_command_is_still_refused(runner: CliRunner, tmp_path: Path) -> None:
    env = _config(tmp_path, 'transport = "fake"\n[zonez.export-keys]\nds = true\n')
    r = runner.invoke(main, ["zones", "list"], env=env)
    assert r.exit_code != 0 and "zonez" in r.stderr and "Traceback" not in r.stderr


def _complete(env: dict[str, str]) -> str:
    code = "from toolkit.cli import main; main(prog_name='windns')"
    full = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize(
    ("shell", "readme_line", "mark"),
    [
        (
            "bash",
            'eval "$(_WINDNS_COMPLETE=bash_source windns)"',
            "complete -o nosort -F _windns_completion windns",
        ),
        ("zsh", 'eval "$(_WINDNS_COMPLETE=zsh_source windns)"', "#compdef windns"),
        ("fish", "_WINDNS_COMPLETE=fish_source windns | source", "complete --no-files --command windns"),
    ],
)
def test_shell_completion_is_documented_and_works(shell: str, readme_line: str, mark: str) -> None:
    assert readme_line in README
    assert mark in _complete({"_WINDNS_COMPLETE": f"{shell}_source"})


def test_completion_offers_commands_not_old_spellings() -> None:
    words = _complete({"_WINDNS_COMPLETE": "bash_complete", "COMP_WORDS": "windns zo", "COMP_CWORD": "1"})
    assert words.split() == ["plain,zones"]
    words = _complete({"_WINDNS_COMPLETE": "bash_complete", "COMP_WORDS": "windns zones ", "COMP_CWORD": "2"})
    assert {"plain,list", "plain,sign", "plain,export-keys"} <= set(words.split())


# -- a terminal table never cuts an id -------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _keys_table(monkeypatch: pytest.MonkeyPatch, width: int) -> str:
    from toolkit.cli.output import KEY_LIST_COLUMNS, emit

    monkeypatch.setenv("COLUMNS", str(width))
    row = {
        "zone": "corp.example",
        "key_type": "KSK",
        "key_tag": 3185,
        "algorithm": {"name": "RsaSha256"},
        "key_length": 2048,
        "current_state": "Active",
        "rollover": {"status": "NotRolling", "next": "2028-01-11T07:09:22Z"},
        "key_id": GUID,
    }
    out = _Terminal()
    emit([row, {**row, "key_type": "ZSK", "key_tag": None}], "table", columns=KEY_LIST_COLUMNS, stream=out)
    return re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())


GUID = "6f048320-1de2-5604-b5d3-041ce093bdb7"


def test_a_narrow_terminal_drops_lower_priority_columns_not_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = _keys_table(monkeypatch, 300)
    assert "left out" not in wide and "rollover.next" in wide and wide.count(GUID) == 2
    text = _keys_table(monkeypatch, 100)
    assert "…" not in text and text.count(GUID) == 2  # whole, on one line each
    assert "RsaSha256" in text and "3185" in text  # tag and algorithm stay beside it
    note = text.strip().splitlines()[-1]
    assert note.startswith("(left out to fit the terminal: ") and "rollover.next" in note
    assert "key_id" not in note and "key_tag" not in note
    # narrower than the ids themselves: wrapped, still never an ellipsis
    narrow = _keys_table(monkeypatch, 50)
    assert "…" not in narrow
    cells = [line.split("│")[-2].strip() for line in narrow.splitlines() if line.startswith("│")]
    assert "".join(cells) == GUID * 2
