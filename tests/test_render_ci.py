"""Reports CI systems take: SARIF for GitHub code scanning, GitHub annotations, GitLab Code Quality.

What is checked is what the consumers document:

- SARIF: the 2.1.0 schema (``tests/data/sarif-schema-2.1.0.json``) and GitHub's "SARIF support for
  code scanning": every result needs ``message.text``, ``locations[0].physicalLocation`` with an
  ``artifactLocation.uri`` relative to the repository root and ``region.startLine``, and GitHub
  tracks a result across runs by ``partialFingerprints.primaryLocationLineHash`` only (form
  ``<hex>:<occurrence>``); ``security-severity`` is a number from 0.0 to 10.0.
- GitHub workflow commands ("Workflow commands for GitHub Actions"): ``::LEVEL k=v,...::MESSAGE``,
  LEVEL ``error``/``warning``/``notice``; the message escapes ``%``, CR, LF as ``%25``/``%0D``/
  ``%0A``, properties also ``:`` and ``,``. The parser below undoes exactly that, as the runner
  does.
- GitLab Code Quality ("Code Quality report format", docs.gitlab.com): a JSON array of issues
  with ``description``, ``check_name``, ``fingerprint`` (unique: GitLab shows one issue per
  fingerprint), ``severity`` in info/minor/major/critical/blocker and ``location.path`` with
  ``location.lines.begin``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
from click.testing import CliRunner

from tests.rules_fixtures import NOW
from toolkit.cli import main
from toolkit.findings import Finding, HostError, HostReport, Listing, Report, Severity, Target
from toolkit.render import render
from toolkit.render.common import host_place
from toolkit.render.github import workflow_commands
from toolkit.render.gitlab import code_quality
from toolkit.render.sarif import sarif_dict
from toolkit.rules import RULE_BOOK

DATA = Path(__file__).parent / "data"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)


def scan(runner: CliRunner, *args: str) -> str:
    r = runner.invoke(main, ["scan", *args, "--no-history"])
    assert r.exit_code in (0, 1, 2), r.output + r.stderr
    assert "Traceback" not in r.stderr
    return r.stdout


def github_problems(doc: dict[str, Any]) -> list[str]:
    """What GitHub's documented requirements find wrong in a SARIF log (empty: nothing)."""
    problems: list[str] = []
    for run in doc["runs"]:
        rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        for r in rules.values():
            sev = float(r["properties"]["security-severity"])
            if not 0.0 <= sev <= 10.0:
                problems.append(f"{r['id']}: security-severity {sev}")
        hashes = []
        for res in run["results"]:
            where = f"{res.get('ruleId')}: "
            if not res.get("message", {}).get("text"):
                problems.append(where + "no message.text")
            if res.get("ruleId") not in rules:
                problems.append(where + "ruleId not among the rules")
            locs = res.get("locations") or []
            phys = locs[0].get("physicalLocation") if locs else None
            if not phys:
                problems.append(where + "no physicalLocation")
                continue
            uri = phys.get("artifactLocation", {}).get("uri", "")
            if not uri or (urlparse(uri).scheme not in ("", "file")) or uri.startswith("/"):
                problems.append(where + f"uri {uri!r} is not a repository path")
            if (
                not isinstance(phys.get("region", {}).get("startLine"), int)
                or phys["region"]["startLine"] < 1
            ):
                problems.append(where + "no region.startLine")
            h = res.get("partialFingerprints", {}).get("primaryLocationLineHash", "")
            if not re.fullmatch(r"[0-9a-f]{16}:[1-9][0-9]*", h):
                problems.append(where + f"primaryLocationLineHash {h!r}")
            hashes.append(h)
        if len(hashes) != len(set(hashes)):
            problems.append("two results share a primaryLocationLineHash")
    return problems


# -- SARIF ----------------------------------------------------------------------------------------
def test_demo_sarif_validates_and_every_result_has_a_physical_location(runner: CliRunner) -> None:
    doc = json.loads(scan(runner, "--demo", "-f", "sarif"))
    VALIDATOR.validate(doc)
    results = doc["runs"][0]["results"]
    assert results
    assert github_problems(doc) == []
    # the demo fleet has no inventory file: each host has its own stable stand-in path
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "windns/hosts/dns1.corp.example" in uris and len(uris) > 1


def test_github_checks_catch_what_github_refuses(runner: CliRunner) -> None:
    doc = json.loads(scan(runner, "--demo", "-f", "sarif"))
    res = doc["runs"][0]["results"]
    del res[0]["locations"][0]["physicalLocation"]
    res[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "https://dns1/zone"
    res[2]["partialFingerprints"]["primaryLocationLineHash"] = res[3]["partialFingerprints"][
        "primaryLocationLineHash"
    ]
    problems = github_problems(doc)
    assert any("no physicalLocation" in p for p in problems)
    assert any("not a repository path" in p for p in problems)
    assert "two results share a primaryLocationLineHash" in problems


def _inventory(path: Path, names: list[str], *, header: str = "") -> Path:
    body = "".join(f'[[servers]]\nname = "{n}"\n\n' for n in names)
    path.write_text(header + '[defaults]\ntransport = "fake"\n\n' + body, encoding="utf-8")
    return path


def _line_of(path: Path, name: str) -> int:
    """The line of the ``[[servers]]`` table that names ``name`` (where its entry starts)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(f'name = "{name}"')
    return max(i for i in range(at) if lines[i] == "[[servers]]") + 1


def _located(doc: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """fingerprint -> (uri, line) of each result."""
    return {
        r["partialFingerprints"]["primaryLocationLineHash"]: (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in doc["runs"][0]["results"]
    }


def test_results_point_at_the_inventory_line_and_keep_their_fingerprints(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inv = _inventory(tmp_path / "fleet.toml", ["dns1", "dns2"])
    first = json.loads(scan(runner, "fleet.toml", "-f", "sarif"))
    VALIDATOR.validate(first)
    assert github_problems(first) == []
    placed = _located(first)
    assert set(placed.values()) == {
        ("fleet.toml", _line_of(inv, "dns1")),
        ("fleet.toml", _line_of(inv, "dns2")),
    }
    # by the server: each result of DNS2 at dns2's line
    for r in first["runs"][0]["results"]:
        server = r["locations"][0]["logicalLocations"][0]["name"].split(".")[0].lower()
        assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == _line_of(inv, server)

    # the inventory is edited (comments on top, servers swapped): lines move, alerts stay
    _inventory(inv, ["dns2", "dns1"], header="# fleet\n# owner: dns team\n\n")
    again = _located(json.loads(scan(runner, "fleet.toml", "-f", "sarif")))
    assert set(again) == set(placed)
    assert {again[h] for h in again} != {placed[h] for h in placed}
    assert all(uri == "fleet.toml" for uri, _ in again.values())


def test_absolute_inventory_path_is_made_relative_to_the_root(tmp_path: Path) -> None:
    inside = HostReport("dns1", listed_at=Listing(str(tmp_path / "inv" / "fleet.toml"), 7))
    place = host_place(inside, root=tmp_path)
    assert (place.path, place.line, place.uri) == ("inv/fleet.toml", 7, "inv/fleet.toml")
    outside = host_place(inside, root=tmp_path / "elsewhere")
    assert outside.uri == (tmp_path / "inv" / "fleet.toml").as_uri()
    spaced = host_place(HostReport("dns1", listed_at=Listing("my fleet.toml", 3)), root=tmp_path)
    assert spaced.uri == "my%20fleet.toml"


def _report() -> Report:
    odd = 'zone with %, "quotes",\nnewline: and ::error:: inside'
    findings = (
        Finding("KEY001", Severity.CRITICAL, Target("dns1.corp.example", "a.example"), "no ZSK"),
        Finding("NSEC001", Severity.INFO, Target("dns1.corp.example", "b.example"), odd),
        Finding("SRV001", Severity.MEDIUM, Target("dns1.corp.example"), "validation off"),
    )
    hosts = (
        HostReport("dns1", findings=findings, listed_at=Listing("fleet.toml", 4)),
        HostReport("dns3", error=HostError("dns3", "auth", "bad password, try: again")),
    )
    return Report(hosts, generated_at=NOW, not_scanned=("dns9",), rules=RULE_BOOK)


def test_sarif_host_errors_are_notifications_with_a_location() -> None:
    doc = sarif_dict(_report())
    VALIDATOR.validate(doc)
    (note,) = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "windns/hosts/dns3"


# -- GitHub annotations ----------------------------------------------------------------------------
_COMMAND = re.compile(r"::(error|warning|notice)(?: ([^:]*))?::(.*)")


def _unescape(text: str, *, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for code, char in [*pairs, ("%25", "%")]:
        text = text.replace(code, char)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.fullmatch(line)
    assert m is not None, line
    props = {}
    for part in (m.group(2) or "").split(","):
        if part:
            k, _, v = part.partition("=")
            props[k] = _unescape(v, prop=True)
    return m.group(1), props, _unescape(m.group(3), prop=False)


def test_github_annotations_parse_and_carry_file_line_and_level() -> None:
    lines = workflow_commands(_report())
    parsed = [parse_command(line) for line in lines]
    assert all("\n" not in line and "\r" not in line for line in lines)
    by_message = {msg: (level, props) for level, props, msg in parsed}
    assert by_message["dns1.corp.example / a.example: no ZSK"][0] == "error"
    assert by_message["dns1.corp.example: validation off"][0] == "warning"
    # the server's newline is shown as \n (escaped like on a terminal), so it starts no command
    level, props = by_message[
        'dns1.corp.example / b.example: zone with %, "quotes",\\nnewline: and ::error:: inside'
    ]
    assert level == "notice"
    assert props == {
        "file": "fleet.toml",
        "line": "4",
        "title": f"windns NSEC001 (info): {RULE_BOOK.title('NSEC001')}",
    }
    # a host error, and the hosts an interruption left, are errors; dns3 is in no file
    err = next(p for p in parsed if "dns3" in p[1].get("title", ""))
    assert err[0] == "error" and "file" not in err[1] and err[2] == "dns3: bad password, try: again"
    assert any("dns9" in msg for _, _, msg in parsed)
    # worst first: GitHub shows a limited number per level
    order = [level for level, _, _ in parsed]
    assert (
        order.index("notice") > order.index("warning") > max(i for i, x in enumerate(order) if x == "error")
    )


def test_github_format_from_the_command_line(runner: CliRunner) -> None:
    out = scan(runner, "--demo-all", "-f", "github")
    parsed = [parse_command(line) for line in out.splitlines()]
    assert parsed and {level for level, _, _ in parsed} == {"error", "warning", "notice"}
    assert any("not audited" in props.get("title", "") for _, props, _ in parsed)


# -- GitLab Code Quality ---------------------------------------------------------------------------
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def gitlab_problems(issues: Any) -> list[str]:
    problems = []
    if not isinstance(issues, list):
        return ["not a JSON array"]
    for i in issues:
        for member, kind in (("description", str), ("check_name", str), ("fingerprint", str)):
            if not isinstance(i.get(member), kind) or not i[member]:
                problems.append(f"{i}: no {member}")
        if i.get("severity") not in GITLAB_SEVERITIES:
            problems.append(f"severity {i.get('severity')!r}")
        loc = i.get("location", {})
        if not loc.get("path") or not isinstance(loc.get("lines", {}).get("begin"), int):
            problems.append(f"{i.get('check_name')}: no location.path / lines.begin")
    prints = [i.get("fingerprint") for i in issues]
    if len(prints) != len(set(prints)):
        problems.append("fingerprints are not unique")
    return problems


def test_gitlab_code_quality_from_an_inventory(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inv = _inventory(tmp_path / "fleet.toml", ["dns1", "dns4"])
    issues = json.loads(scan(runner, "fleet.toml", "-f", "gitlab"))
    assert issues and gitlab_problems(issues) == []
    lines = {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues}
    assert lines == {("fleet.toml", _line_of(inv, "dns1")), ("fleet.toml", _line_of(inv, "dns4"))}
    assert {i["severity"] for i in issues if i["check_name"] == "KEY001"} <= {"blocker", "critical"}
    _inventory(inv, ["dns4", "dns1"], header="# moved\n")
    again = json.loads(scan(runner, "fleet.toml", "-f", "gitlab"))
    assert {i["fingerprint"] for i in again} == {i["fingerprint"] for i in issues}


def test_gitlab_checks_and_host_errors() -> None:
    issues = code_quality(_report())
    assert gitlab_problems(issues) == []
    assert gitlab_problems([*issues, issues[0]]) == ["fingerprints are not unique"]
    err = next(i for i in issues if i["check_name"] == "windns/host-error")
    assert (
        err["location"] == {"path": "windns/hosts/dns3", "lines": {"begin": 1}}
        and "dns3" in err["description"]
    )
    # the same finding twice (same target) still gets two fingerprints
    f = _report().hosts[0].findings[0]
    twice = Report((HostReport("dns1", findings=(f, f)),), generated_at=NOW)
    assert gitlab_problems(code_quality(twice)) == []


def test_registered_formats_render() -> None:
    for fmt in ("github", "gitlab"):
        buf = io.StringIO()
        render(_report(), fmt, buf)
        assert buf.getvalue().endswith("\n")
