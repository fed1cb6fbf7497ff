"""The README's examples work: its TOML parses as an inventory or a policy, its Python runs, and
every `windns` command line it shows names commands and options that exist."""

from __future__ import annotations

import re
import shlex
from datetime import timedelta
from pathlib import Path

import click
import pytest

from toolkit.cli import main
from toolkit.findings import Severity
from toolkit.fleet import parse_toml_inventory
from toolkit.policy import parse_policy

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _titled(marker: str) -> str:
    found = [b for b in blocks("toml") if b.startswith(marker)]
    assert len(found) == 1, f"README has no single TOML block starting {marker!r}"
    return found[0]


def test_first_lines_give_the_demo_and_the_test_commands() -> None:
    sh = blocks("sh")[0].strip().splitlines()
    assert sh[0] == "pip install . && windns scan --demo"
    assert sh[1] == 'pip install -e ".[dev]" && python -m pytest'
    assert README.index(sh[0]) < 1200


def test_fleet_example_parses_with_groups_and_a_referenced_credential() -> None:
    inv = parse_toml_inventory(_titled("# fleet.toml"), "README")
    by_name = {h.name: h for h in inv.hosts}
    assert set(by_name) == {"dns1.corp.example", "dns7.branch.example"}
    branch = by_name["dns7.branch.example"]
    assert branch.auth == "ntlm" and branch.username == "CORP\\dnsaudit"
    assert by_name["dns1.corp.example"].auth == "kerberos"


def test_policy_example_parses_and_tunes_what_it_says() -> None:
    policy = parse_policy(_titled("# policy.toml"), "README")
    assert policy.fail_on is Severity.HIGH
    assert policy.thresholds.zsk_min_rsa_bits == 2048
    assert policy.thresholds.ksk_ds_wait_max == timedelta(days=3)
    assert not policy.is_selected("ALG002") and policy.is_selected("KEY001")
    assert len(policy.suppressions) == 1


def test_python_example_runs_and_finds_the_9104_zones(capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = blocks("python")
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"^KEY001 CRITICAL .*nozsk\.corp\.example", printed, flags=re.M), printed


def _command_lines() -> list[list[str]]:
    lines = []
    for block in blocks("sh") + blocks("cron"):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if "windns " in line and not line.startswith(("export", "pip ")):
                argv = shlex.split(line[line.index("windns ") :])[1:]
                ends = [i for i, a in enumerate(argv) if a in ("|", "&", "&&", ";")]
                argv = argv[: ends[0]] if ends else argv
                if argv:  # `windns | source`: the program's output, no command of its own
                    lines.append(argv)
    return lines


@pytest.mark.parametrize("argv", _command_lines(), ids=lambda a: " ".join(a)[:60])
def test_every_command_line_shown_resolves_to_real_commands_and_options(argv: list[str]) -> None:
    command: click.Command = main
    path = ["windns"]
    tokens = iter(argv)
    for token in tokens:
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            param = next((p for p in command.params if name in p.opts + p.secondary_opts), None)
            assert param is not None, f"`{name}` is not an option of `{' '.join(path)}`"
            if isinstance(param, click.Option) and not param.is_flag and "=" not in token:
                next(tokens)
        elif isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), token)
            assert sub is not None, f"no command `{token}` in `{' '.join(path)}`"
            command = sub
            path.append(token)
    assert not isinstance(command, click.Group) or command.invoke_without_command, " ".join(argv)
