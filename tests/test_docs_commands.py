"""Every `windns` command shown in README.md and docs/*.md runs, so the docs cannot drift.

The commands of ``sh``/``cron`` blocks and inline code spans run in order, in one directory
holding the files the README shows (fleet.toml, policy.toml, keys.json), against the demo fleet:
``WINDNS_TRANSPORT=fake``, so ``--server dns1.corp.example`` is the demo's DNS1 (and a command
shown without a server asks ``WINDNS_SERVER=dns1``), and a config
file that shortens DNS timeouts (the documentation's addresses are examples nobody answers on).
A command passes when it exits as the toolkit exits for work done: 0, 1 (findings), 2 (a host
or a zone that could not be read; the README's fleet names a server the demo does not have) or
6 (the guard refused a change, as the README says it does). Usage (3), configuration (4) and
internal (70) errors are drift.

Commands that need something running are only parsed: a server started in the background
(`&`), and those that talk to it (its port is printed when it starts: ``PORT``, 55985). A span
that only names a command (`windns doctor`) is checked by its ``--help``. The parse check of
every command line is ``test_readme.test_every_command_line_shown_resolves_to_real_commands_and_options``
for the README; here it runs for all of them.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import main

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OK = {0, 1, 2, 6}
#: what stands for a value in the docs, and what the demo run gives it
PLACEHOLDERS = {
    "KEYID": "9b05eefd-f46b-5a83-880d-3ed99ff9f2c6",  # DNS1's corp.example ZSK
    "ID": "KEY001",
    "ZONE": "corp.example",
    "ADDR": "192.0.2.53",  # TEST-NET-1: nobody answers (DNS001), quickly with the short timeouts
    "DIR": "ckl-out",
    "/etc/windns/": "",
    "/var/lib/node_exporter/": "",
    "/var/lib/windns/": "",
}
#: needs the background server of the line before (its port is printed as it starts)
NEEDS_A_RUNNING_SERVER = ("PORT", "55985")
SHELL_ENDS = ("|", "&", "&&", ";")
SHORT_DNS = "\n".join(
    f"[{table}]\ndns-timeout = 0.05"
    for table in ("audit", "scan", "fix", "dns.check", "keys.rollover.step", "keys.remove")
)


@dataclass(frozen=True)
class Shown:
    where: str
    argv: tuple[str, ...]
    background: bool
    inline: bool

    @property
    def text(self) -> str:
        return " ".join(self.argv)


def _argv(text: str) -> tuple[tuple[str, ...], bool] | None:
    if "windns " not in text:
        return None
    words = shlex.split(text[text.index("windns ") :], comments=True)[1:]
    ends = [i for i, w in enumerate(words) if w in SHELL_ENDS]
    background = bool(ends) and words[ends[0]] == "&"
    words = words[: ends[0]] if ends else words
    return (tuple(words), background) if words else None


def shown() -> list[Shown]:
    out: list[Shown] = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        name = doc.relative_to(ROOT).as_posix()
        for block in re.finditer(r"^```(sh|cron)\n(.*?)^```", text, flags=re.S | re.M):
            first = text.count("\n", 0, block.start(2)) + 1
            lines = block.group(2).splitlines()
            i = 0
            while i < len(lines):
                start, line = i, lines[i]
                while line.endswith("\\") and i + 1 < len(lines):  # a shell line continued
                    i += 1
                    line = line[:-1] + " " + lines[i].lstrip()
                i += 1
                if line.lstrip().startswith(("export ", "eval ", "_WINDNS_COMPLETE")):
                    continue
                got = _argv(line)
                if got is not None:
                    out.append(Shown(f"{name}:{first + start}", got[0], got[1], False))
        prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        for span in re.finditer(r"`(windns [^`]+)`", prose):
            got = _argv(span.group(1))
            if got is not None:
                line_no = text.count("\n", 0, text.index(span.group(0))) + 1
                out.append(Shown(f"{name}:{line_no}", got[0], got[1], True))
    # in the order a reader meets them (the demo scan before `windns diff --demo`)
    return sorted(out, key=lambda s: (DOCS.index(ROOT / s.where.split(":")[0]), int(s.where.split(":")[1])))


def _substitute(argv: tuple[str, ...]) -> list[str]:
    out = []
    for word in argv:
        for placeholder, value in PLACEHOLDERS.items():
            word = word.replace(placeholder, value) if placeholder.startswith("/") else word
            if word == placeholder:
                word = value
        out.append(word)
    # an optional part shown in brackets (`[-o FILE]`) is left out
    return [w for w in " ".join(out).split() if not (w.startswith("[") or w.endswith("]"))]


def _command_of(argv: list[str]) -> tuple[click.Command, list[str], bool]:
    """The command ``argv`` names, its path, and whether argv gives it anything but its path."""
    command: click.Command = main
    path: list[str] = []
    only_path = True
    tokens = iter(argv)
    for token in tokens:
        if token.startswith("-"):
            only_path = False
            name = token.split("=", 1)[0]
            param = next((p for p in command.params if name in p.opts + p.secondary_opts), None)
            if param is None and command is not main:  # a global option after the subcommand
                param = next((p for p in main.params if name in p.opts + p.secondary_opts), None)
            assert param is not None, f"`{name}` is not an option of `windns {' '.join(path)}`"
            if isinstance(param, click.Option) and not param.is_flag and not param.count and "=" not in token:
                next(tokens, None)
        elif isinstance(command, click.Group) and command.get_command(click.Context(command), token):
            sub = command.get_command(click.Context(command), token)
            assert sub is not None
            command = sub
            path.append(token)
        else:
            only_path = False
            assert not isinstance(command, click.Group), f"no command `{token}` in `windns {' '.join(path)}`"
    return command, path, only_path


SHOWN = shown()


def test_the_docs_show_commands() -> None:
    assert len(SHOWN) > 40 and {s.where.split(":")[0] for s in SHOWN} >= {"README.md", "docs/dns-view.md"}


@pytest.mark.parametrize("cmd", SHOWN, ids=lambda s: f"{s.where} {s.text}"[:90])
def test_every_command_shown_names_real_commands_and_options(cmd: Shown) -> None:
    command, path, only_path = _command_of(_substitute(cmd.argv))
    assert not isinstance(command, click.Group) or command.invoke_without_command or only_path, cmd.text


def test_every_command_shown_runs_on_the_demo_fleet(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```toml\n(.*?)```", readme, flags=re.S):
        first = block.splitlines()[0]
        if first.startswith("# ") and first.endswith(".toml") and "config" not in first:
            (work / first[2:]).write_text(block, encoding="utf-8")
    shutil.copy(ROOT / "fixtures" / "raw" / "ps51-signing-keys.json", work / "keys.json")
    config = tmp_path / "config.toml"
    config.write_text(SHORT_DNS + "\n", encoding="utf-8")
    env = {
        "WINDNS_TRANSPORT": "fake",
        "WINDNS_SERVER": "dns1",  # for a span that shows an option, not a target (`windns audit -f ckl`)
        "WINDNS_CONFIG": str(config),
        "WINDNS_PASSWORD": "not-a-real-password",
        "BRANCH_DNS_PASSWORD": "not-a-real-password",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "WINDNS_AUDIT_LOG": str(tmp_path / "audit.log"),
    }
    monkeypatch.chdir(work)
    failures: list[str] = []
    ran = 0
    for cmd in SHOWN:
        argv = _substitute(cmd.argv)
        if cmd.background or any(p in cmd.text for p in NEEDS_A_RUNNING_SERVER) or "..." in argv:
            continue
        _, path, only_path = _command_of(argv)
        if cmd.inline and only_path:
            argv = [*path, "--help"]
        r = runner.invoke(main, argv, env=env)
        ran += 1
        if r.exit_code not in OK or "Traceback" in r.output:
            last = (r.stderr or r.stdout).strip().splitlines()[-1:] or [repr(r.exception)]
            failures.append(f"{cmd.where}: windns {' '.join(argv)} -> exit {r.exit_code}: {last[0]}")
    assert ran > 30
    assert not failures, "\n".join(failures)
