"""`windns doctor` against `windns fake-server` on loopback: every step, each failure named by its
step, the anonymised capture and its replay (fixtures/captures/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from toolkit.anonymise import WELL_KNOWN_ZONES
from toolkit.cli import main
from toolkit.resources import demo_fixtures_dir

PASSWORD = "Doctor-pa55word"
ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "fixtures" / "captures"
STEPS = ["reachability", "tls", "authentication", "endpoint", "module", "inventory", "raw sample"]


@pytest.fixture(scope="module")
def served() -> Iterator[list[str]]:
    """`windns fake-server` in its own process, as a user runs it."""
    env = {**os.environ, "WINDNS_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "toolkit", "fake-server", "--port-base", "0", "--for", "180"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("try: "):
            break
    else:
        proc.kill()
    try:
        assert any(x.startswith("try: ") for x in lines), "fake-server did not come up:\n" + "\n".join(lines)
        yield lines
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _port(lines: list[str], server: str) -> int:
    for line in lines:
        m = re.match(rf"\s+{re.escape(server)}\s+port (\d+)\s", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"{server} not announced: {lines}")


def _wire(port: int, *more: str, transport: str = "psrp") -> list[str]:
    return ["--transport", transport, "--server", "127.0.0.1", "--port", str(port), "--no-ssl"] + [
        "--auth",
        "ntlm",
        "-u",
        "windns",
        *more,
    ]


def _doctor(argv: list[str], *extra: str, password: str = PASSWORD) -> tuple[Result, dict[str, Any]]:
    res = CliRunner().invoke(main, [*argv, "doctor", "-f", "json", *extra], env={"WINDNS_PASSWORD": password})
    assert "Traceback" not in res.output, res.output
    return res, json.loads(res.stdout)


def _verdicts(doc: Mapping[str, Any]) -> dict[str, str]:
    return {s["step"]: s["verdict"] for s in doc["steps"]}


def _detail(doc: Mapping[str, Any], step: str) -> str:
    return str(next(s["detail"] for s in doc["steps"] if s["step"] == step))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


# -- every step -------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_a_whole_run_passes_every_step(served: list[str], transport: str) -> None:
    res, doc = _doctor(_wire(_port(served, "DNS1.corp.example"), transport=transport))
    assert res.exit_code == 0, res.output
    assert [s["step"] for s in doc["steps"]] == STEPS
    assert _verdicts(doc) == {**dict.fromkeys(STEPS, "ok"), "tls": "skipped"}  # --no-ssl
    assert doc["ok"] is True
    facts = {s["step"]: s.get("facts", {}) for s in doc["steps"]}
    assert facts["endpoint"]["ps_version"].startswith("5.1.") and facts["endpoint"]["ps_edition"] == "Desktop"
    assert facts["module"]["modules"] == [{"name": "DnsServer", "version": "2.0.0.0"}]
    assert facts["inventory"]["zones"] == len(
        json.loads((demo_fixtures_dir() / "dns1.json").read_text())["Zones"]
    )
    assert facts["inventory"]["bytes"] > 0
    commands = [s["command"] for s in facts["raw sample"]["samples"]]
    assert commands == ["Get-DnsServerZone", "Get-DnsServerSigningKey", "Get-DnsServerDnsSecZoneSetting"]


def test_the_table_has_one_verdict_line_per_step(served: list[str]) -> None:
    argv = _wire(_port(served, "DNS1.corp.example"))
    res = CliRunner().invoke(main, [*argv, "doctor"], env={"WINDNS_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    for step in STEPS:
        assert any(re.match(rf"\s+(ok|FAIL|skipped)\s+{re.escape(step)}\s+\S", x) for x in lines), step
    assert lines[-1].startswith("every step passed")


def test_a_closed_port_names_the_reachability_step(served: list[str]) -> None:
    res, doc = _doctor(_wire(_free_port()))
    assert res.exit_code == 2, res.output
    assert _verdicts(doc)["reachability"] == "fail" and "refused" in _detail(doc, "reachability")
    for step in STEPS[1:]:
        assert _verdicts(doc)[step] == "skipped" and "reachability" in _detail(doc, step)


def test_a_wrong_password_names_the_authentication_step(
    served: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    res, doc = _doctor(["-vv", *_wire(_port(served, "DNS1.corp.example"))], password="not-the-password")
    assert res.exit_code == 2, res.output
    verdicts = _verdicts(doc)
    assert verdicts["reachability"] == "ok" and verdicts["authentication"] == "fail"
    assert "401" in _detail(doc, "authentication")
    assert all(verdicts[s] == "skipped" and "authentication" in _detail(doc, s) for s in STEPS[3:])
    assert "not-the-password" not in res.output and "not-the-password" not in caplog.text


def test_a_jea_endpoint_without_dnsserver_names_the_module_step(served: list[str]) -> None:
    argv = _wire(_port(served, "DNS1.corp.example"), "--configuration-name", "windns.JEA.NoDnsServer")
    res, doc = _doctor(argv)
    assert res.exit_code == 2, res.output
    verdicts = _verdicts(doc)
    assert verdicts["endpoint"] == "ok" and "windns.JEA.NoDnsServer" in _detail(doc, "endpoint")
    assert verdicts["module"] == "fail" and "no DnsServer module" in _detail(doc, "module")
    module = next(s for s in doc["steps"] if s["step"] == "module")
    assert module["facts"]["modules"] == [] and "Get-DnsServerZone" in module["facts"]["missing_commands"]
    assert verdicts["inventory"] == verdicts["raw sample"] == "skipped"
    assert "module" in _detail(doc, "inventory")


def test_an_unknown_session_configuration_names_the_endpoint_step(served: list[str]) -> None:
    res, doc = _doctor(_wire(_port(served, "DNS1.corp.example"), "--configuration-name", "no.such.endpoint"))
    assert res.exit_code == 2
    assert _verdicts(doc)["authentication"] == "ok" and _verdicts(doc)["endpoint"] == "fail"
    assert "no.such.endpoint" in _detail(doc, "endpoint")


def test_a_server_that_refuses_the_inventory_fails_that_step_only(served: list[str]) -> None:
    res, doc = _doctor(_wire(_port(served, "DNS3.corp.example")))  # dns3: Access is denied
    assert res.exit_code == 2
    verdicts = _verdicts(doc)
    assert verdicts["module"] == "ok" and verdicts["inventory"] == "fail"
    assert "Access is denied" in _detail(doc, "inventory")


def test_https_validates_the_certificate_as_configured() -> None:
    from toolkit.testing.fakeserver import FakeWinrmServer

    with FakeWinrmServer(servers=["dns1"], tls=True) as fake:
        assert fake.cert is not None
        port = fake.endpoint("dns1").port
        base = ["--server", "127.0.0.1", "--port", str(port), "--ssl", "--auth", "ntlm", "-u", "windns"]
        password = fake.credentials.password

        res, doc = _doctor([*base, "--ca-bundle", str(fake.cert.cert_file)], password=password)
        assert res.exit_code == 0, res.output
        assert _verdicts(doc)["tls"] == "ok" and "validated against the CA bundle" in _detail(doc, "tls")

        res, doc = _doctor(base, password=password)  # the self-signed certificate, no CA given
        assert res.exit_code == 2
        assert _verdicts(doc)["tls"] == "fail" and "does not validate" in _detail(doc, "tls")
        assert _verdicts(doc)["authentication"] == "skipped"

        res, doc = _doctor([*base, "--no-cert-validation"], password=password)
        assert res.exit_code == 0, res.output
        assert "NOT validated" in _detail(doc, "tls")


def test_the_fake_transport_skips_the_network_steps() -> None:
    res, doc = _doctor(["--transport", "fake", "--server", "dns2"])
    assert res.exit_code == 0, res.output
    verdicts = _verdicts(doc)
    assert [verdicts[s] for s in STEPS[:3]] == ["skipped"] * 3
    assert all(verdicts[s] == "ok" for s in STEPS[3:])


# -- capture ----------------------------------------------------------------------------------------
def _demo_secrets() -> tuple[set[str], set[str]]:
    """The demo server dns1's zone and host names, and its key GUIDs in every spelling."""
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    names = {doc["Server"]["ComputerName"], doc["Server"]["ComputerName"].split(".")[0]}
    guids: set[str] = set()
    for z in doc["Zones"]:
        names.add(z["ZoneName"])
        setting = z.get("DnsSecSetting") or {}
        if setting.get("KeyMasterServer"):
            names.add(setting["KeyMasterServer"])
        for k in z.get("SigningKeys", []):
            for member in ("KeyId", "ActiveKey", "StandbyKey", "NextKey"):
                if k.get(member):
                    guids.add(k[member].strip("{}").lower())
    names |= {a["TrustAnchorName"] for a in doc.get("TrustAnchors", []) if a["TrustAnchorName"] != "."}
    # Windows' own zone names (TrustAnchors, the auto-created reverse zones) say nothing about a
    # site: the anonymiser keeps them on purpose (toolkit/anonymise.py, WELL_KNOWN_ZONES)
    return {n for n in names if n.lower().rstrip(".") not in WELL_KNOWN_ZONES}, guids


@pytest.fixture(scope="module")
def captured(served: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("capture") / "dns1"
    argv = _wire(_port(served, "DNS1.corp.example"))
    res = CliRunner().invoke(
        main, [*argv, "doctor", "--capture", str(directory)], env={"WINDNS_PASSWORD": PASSWORD}
    )
    assert res.exit_code == 0, res.output
    assert f"bundle to attach: {directory / 'bundle'}" in res.stdout
    return directory


def test_capture_writes_the_answers_the_manifest_and_a_local_only_file(captured: Path) -> None:
    bundle = captured / "bundle"
    manifest = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {
        "probe.json",
        "inventory.json",
        "raw/Get-DnsServerZone.json",
        "raw/Get-DnsServerSigningKey.json",
        "raw/Get-DnsServerDnsSecZoneSetting.json",
    }
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert on_disk == listed | {"bundle.json"}
    for f in manifest["files"]:
        data = (bundle / f["path"]).read_bytes()
        assert len(data) == f["bytes"] and json.loads(data) is not None
    assert manifest["transport"] == "psrp" and [s["step"] for s in manifest["steps"]] == STEPS
    assert {s["verdict"] for s in manifest["steps"]} == {"ok", "skipped"}
    assert manifest["toolkit_version"] and manifest["created_at"]
    local = captured / "LOCAL-ONLY-replacements.json"
    assert local.is_file() and not (bundle / local.name).exists()
    assert "LOCAL ONLY" in json.loads(local.read_text(encoding="utf-8"))["warning"]
    # the raw samples are as the server's ConvertTo-Json printed them: the 5.1 layout survives
    assert '"KeyId":  "' in (bundle / "raw" / "Get-DnsServerSigningKey.json").read_text(encoding="utf-8")


def test_the_bundle_holds_no_demo_name_no_key_guid_and_no_password_anywhere(captured: Path) -> None:
    names, guids = _demo_secrets()
    assert len(names) > 5 and len(guids) > 5  # the demo server has them to hide
    bundle_text = "\n".join(
        p.read_text(encoding="utf-8").lower() for p in (captured / "bundle").rglob("*") if p.is_file()
    )
    for name in names:
        assert not re.search(rf"(?<![\w-]){re.escape(name.lower().rstrip('.'))}(?![\w-])", bundle_text), name
    for guid in guids:
        assert guid not in bundle_text and guid.replace("-", "") not in bundle_text, guid
    for path in captured.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and PASSWORD.encode("utf-16-le") not in data, path
    # ... and the local-only file is where they went
    local = json.loads((captured / "LOCAL-ONLY-replacements.json").read_text(encoding="utf-8"))
    originals = {r["original"].lower().strip("{}") for r in local["replacements"]}
    assert {n.lower().rstrip(".") for n in names} <= originals and guids <= originals


def test_a_fresh_capture_replays_to_what_the_audit_finds(captured: Path) -> None:
    from toolkit.services.doctor import replay

    got = replay(captured)["inventory"]
    res = CliRunner().invoke(main, ["--transport", "fake", "--server", "dns1", "audit", "-f", "json"])
    per_zone: dict[str, set[str]] = {}
    for f in json.loads(res.stdout)["findings"]:
        per_zone.setdefault(f["zone"], set()).add(f["rule_id"])
    audited = sorted(tuple(sorted(rules)) for zone, rules in per_zone.items() if zone)
    replayed = sorted(tuple(rules) for rules in got["findings"]["zones"].values() if rules)
    assert audited and replayed == audited


def test_capture_refuses_a_directory_that_holds_a_bundle_before_connecting(captured: Path) -> None:
    res = CliRunner().invoke(
        main, ["--server", "127.0.0.1", "--port", str(_free_port()), "doctor", "--capture", str(captured)]
    )
    assert res.exit_code == 4 and "already holds a bundle" in res.output and "Traceback" not in res.output


def test_write_bundle_removes_everything_when_a_secret_would_be_left(tmp_path: Path) -> None:
    from toolkit.errors import ConfigError
    from toolkit.remote import ConnectionOptions, connect
    from toolkit.services.doctor import diagnose, write_bundle

    opts = ConnectionOptions(host="dns1")
    report = diagnose(opts, "fake", open_remote=lambda: connect(opts, "fake"))
    with pytest.raises(ConfigError, match="password"):
        write_bundle(report, tmp_path, secrets=["Desktop"])  # a word the probe prints
    assert list(tmp_path.iterdir()) == []


# -- replay -----------------------------------------------------------------------------------------
def _committed() -> list[Path]:
    return sorted(p for p in CAPTURES.iterdir() if p.is_dir()) if CAPTURES.is_dir() else []


def test_there_is_a_committed_capture_to_replay() -> None:
    assert _committed(), "fixtures/captures/ holds no bundle"


@pytest.mark.parametrize("bundle", _committed(), ids=lambda p: p.name)
def test_every_committed_capture_replays_as_its_expected_json_says(bundle: Path) -> None:
    from toolkit.services.doctor import expected_of

    expected = json.loads((bundle / "expected.json").read_text(encoding="utf-8"))
    assert expected_of(bundle) == expected
    assert expected["inventory"]["zones"] == len(expected["inventory"]["findings"]["zones"]) > 0
    res = CliRunner().invoke(main, ["doctor", "--replay", str(bundle)])
    assert res.exit_code == 0 and "the replay matches it" in res.stdout, res.output


def test_a_replay_that_differs_from_expected_json_fails(tmp_path: Path) -> None:
    (source,) = _committed()[:1]
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    expected = json.loads((copy / "expected.json").read_text(encoding="utf-8"))
    expected["inventory"]["zones"] += 1
    (copy / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    res = CliRunner().invoke(main, ["doctor", "--replay", str(copy)])
    assert res.exit_code == 4 and "DIFFERS" in res.stdout


def test_a_bundle_copied_into_captures_gets_its_expected_json_by_the_documented_command(
    captured: Path, tmp_path: Path
) -> None:
    target = tmp_path / "captures" / "demo-dns1"
    shutil.copytree(captured / "bundle", target)
    assert not (target / "expected.json").exists()
    written = CliRunner().invoke(main, ["doctor", "--replay", str(target), "--write-expected"])
    assert written.exit_code == 0 and "wrote" in written.stdout, written.output
    again = CliRunner().invoke(main, ["doctor", "--replay", str(target), "-f", "json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["matches_expected"] is True


def test_replay_and_capture_do_not_go_together(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["doctor", "--replay", str(tmp_path), "--capture", str(tmp_path / "x")])
    assert res.exit_code == 3 and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["doctor", "--replay", str(tmp_path)])
    assert res.exit_code == 4 and "no bundle.json" in res.output


# -- verdicts on odd answers --------------------------------------------------------------------------
class _Scripted:
    """A Remote answering each script with a given document (or raising a given error)."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self.host = "scripted"
        self.answers = answers

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> Any:
        from toolkit.remote import RemoteResult

        answer = self.answers[script]
        if isinstance(answer, BaseException):
            raise answer
        return RemoteResult(script=script, data=answer, raw=json.dumps(answer))

    def close(self) -> None:
        pass

    def __enter__(self) -> _Scripted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _probe(**changes: Any) -> dict[str, Any]:
    from toolkit.remote import ConnectionOptions, connect

    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        probe: dict[str, Any] = remote.run("doctor_probe", {}).data
    probe.update(changes)
    return probe


def _diagnose(answers: Mapping[str, Any]) -> Any:
    from toolkit.remote import ConnectionOptions
    from toolkit.services.doctor import diagnose

    return diagnose(ConnectionOptions(host="scripted"), "fake", open_remote=lambda: _Scripted(answers))


def test_an_old_powershell_fails_the_endpoint_step() -> None:
    report = _diagnose({"doctor_probe": _probe(PSVersion="4.0", PSEdition=None)})
    assert report.step("endpoint").verdict == "fail" and "5.1 or later" in report.step("endpoint").detail
    assert report.step("module").verdict == "skipped" and report.exit_code == 2


def test_a_module_whose_cmdlets_the_session_hides_fails_the_module_step() -> None:
    probe = _probe()
    probe["Commands"][-1] = {**probe["Commands"][-1], "Found": False}
    report = _diagnose({"doctor_probe": probe})
    assert report.step("module").verdict == "fail"
    assert "Get-DnsServerTrustPoint is not a command" in report.step("module").detail


def test_the_key_tag_read_cmdlet_is_checked_too() -> None:
    # zone_dnskeys.ps1 reads each zone's DNSKEY set with Get-DnsServerResourceRecord
    probe = _probe()
    names = [c["Name"] for c in probe["Commands"]]
    assert "Get-DnsServerResourceRecord" in names
    at = names.index("Get-DnsServerResourceRecord")
    probe["Commands"][at] = {**probe["Commands"][at], "Found": False}
    report = _diagnose({"doctor_probe": probe})
    assert report.step("module").verdict == "fail"
    assert "Get-DnsServerResourceRecord is not a command" in report.step("module").detail


def test_cmdlets_without_a_listed_module_pass_the_module_step() -> None:
    from toolkit.remote import ConnectionOptions, connect

    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        inventory = remote.run("inventory", {}).data
        sample = remote.run("raw_sample", {"ZoneName": "corp.example"}).data
    report = _diagnose({"doctor_probe": _probe(Modules=[]), "inventory": inventory, "raw_sample": sample})
    assert report.ok and "lists no DnsServer module" in report.step("module").detail


@pytest.mark.parametrize(
    "answer",
    [
        {"Schema": "not.an.inventory"},
        "ProtocolError",
    ],
    ids=["a document that does not normalise", "a self-check that fails"],
)
def test_an_inventory_that_does_not_check_out_fails_its_step_and_the_sample_still_runs(answer: Any) -> None:
    from toolkit.errors import ProtocolError
    from toolkit.remote import ConnectionOptions, connect

    if answer == "ProtocolError":
        answer = ProtocolError("the inventory holds 3 zones but says it holds 4")
    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        sample = remote.run("raw_sample", {}).data
    report = _diagnose({"doctor_probe": _probe(), "inventory": answer, "raw_sample": sample})
    inventory = report.step("inventory")
    assert inventory.verdict == "fail" and inventory.kind in ("protocol", "normalise")
    assert report.step("raw sample").verdict == "ok" and "no inventory" in report.step("raw sample").detail
    assert report.exit_code == 2


def test_a_raw_sample_the_toolkit_cannot_read_fails_that_step() -> None:
    from toolkit.remote import ConnectionOptions, connect

    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        inventory = remote.run("inventory", {}).data
        sample = remote.run("raw_sample", {"ZoneName": "corp.example"}).data
    sample["Samples"][1]["Json"] = '{"KeyId": "x", "KeyType": "KeySigningKey", "KeyLength": "long"}'
    report = _diagnose({"doctor_probe": _probe(), "inventory": inventory, "raw_sample": sample})
    step = report.step("raw sample")
    assert step.verdict == "fail" and "cannot read what Get-DnsServerSigningKey printed" in step.detail


def test_a_failed_run_still_captures_its_verdicts(tmp_path: Path) -> None:
    argv = [*_wire(_free_port()), "doctor", "--capture", str(tmp_path / "c")]
    res = CliRunner().invoke(main, argv, env={"WINDNS_PASSWORD": PASSWORD})
    assert res.exit_code == 2, res.output
    manifest = json.loads((tmp_path / "c" / "bundle" / "bundle.json").read_text(encoding="utf-8"))
    assert manifest["ok"] is False and manifest["files"] == []
    assert manifest["steps"][0]["verdict"] == "fail" and manifest["steps"][0]["step"] == "reachability"
