"""`keys list` shows each key's DNSKEY key tag beside its GUID, read from the zone's DNSKEY records
(never guessed), its DS records with --ds, and says why where the tag is not known."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import dns.rdata
import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.dnsview import _dnssec
from toolkit.normalise import dump_inventory
from toolkit.remote import ConnectionOptions, connect
from toolkit.services.audit import collect
from toolkit.services.key_tags import dnskey_bits
from toolkit.testing.simulator import keymaterial

FAKE = ["--transport", "fake"]


def _keys(runner: CliRunner, *args: str) -> list[dict[str, Any]]:
    r = runner.invoke(main, [*FAKE, *args, "-f", "json"])
    assert r.exit_code == 0, r.output
    rows: list[dict[str, Any]] = json.loads(r.stdout)
    return rows


def _exported(runner: CliRunner, server: str, zone: str, *extra: str) -> list[list[str]]:
    r = runner.invoke(main, [*FAKE, "-s", server, "zone", "export-keys", zone, *extra])
    assert r.exit_code == 0, r.output
    return [line.split() for line in r.stdout.splitlines() if line.strip()]


def test_acceptance_keys_list_shows_key_tags(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "keys", "list"])
    assert r.exit_code == 0, r.output
    header, *lines = r.stdout.splitlines()
    assert header.split()[:3] == ["zone", "key_type", "key_tag"]
    ksk = next(line for line in lines if line.startswith("corp.example ") and " KSK " in line)
    tag = int(ksk.split()[2])
    # the same tag the zone's exported DNSKEY has, computed here from the record itself
    (dnskey,) = _exported(runner, "dns1", "corp.example")
    rdata = dns.rdata.from_text("IN", "DNSKEY", " ".join(dnskey[4:]))
    assert tag == _dnssec.load().key_id(rdata)
    # the GUID is on the same line, whole
    assert re.search(r"\b6f048320-1de2-5604-b5d3-041ce093bdb7$", ksk)


def test_json_tags_and_notes_say_why_a_tag_is_unknown(runner: CliRunner) -> None:
    rows = {(r["zone"], r["key_type"]): r for r in _keys(runner, "-s", "dns1", "keys", "list")}
    ksk = rows[("corp.example", "KSK")]
    assert isinstance(ksk["key_tag"], int) and ksk["key_tag_note"] is None and "ds" not in ksk
    # a ZSK's tag too, without --dns: the RFC 4034 tag of the zone's DNSKEY without the SEP bit
    zsk = rows[("corp.example", "ZSK")]
    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        (entry,) = remote.run("zone_dnskeys", {"ZoneName": ["corp.example"]}).data["Zones"]
    (data,) = [r["RecordData"] for r in entry["Records"] if not int(r["RecordData"]["KeyFlags"]) & 1]
    rdata = dns.rdata.from_text(
        "IN", "DNSKEY", f"{data['KeyFlags']} 3 8 {data['Base64Data']}"
    )  # RsaSha256 is algorithm 8
    assert zsk["key_tag"] == _dnssec.load().key_id(rdata) and zsk["key_tag_note"] is None
    unsigned = rows[("staging.corp.example", "KSK")]
    assert unsigned["key_tag"] is None and "not signed" in unsigned["key_tag_note"]
    # ECDSA keys are matched by curve
    assert isinstance(rows[("ecdsa.corp.example", "KSK")]["key_tag"], int)


def test_ds_on_request_matches_the_zones_own_ds_export(runner: CliRunner) -> None:
    rows = _keys(runner, "-s", "dns1", "keys", "list", "-z", "corp.example", "--ds", "--digest", "sha256")
    ksk = next(r for r in rows if r["key_type"] == "KSK")
    ((_, _, _, _, tag, alg, digest_type, digest),) = _exported(runner, "dns1", "corp.example", "--ds")
    assert ksk["key_tag"] == int(tag) and digest_type == "2"
    assert ksk["ds"] == [{"digest_type": "Sha256", "digest": digest.upper()}]
    r = runner.invoke(main, [*FAKE, "-s", "dns1", "keys", "list", "-z", "corp.example", "--ds"])
    assert r.exit_code == 0 and digest.upper() in r.stdout and r.stdout.splitlines()[0].endswith(" ds")
    r = runner.invoke(main, [*FAKE, "-s", "dns1", "keys", "list", "--digest", "sha1"])
    assert r.exit_code == 3 and "--digest goes with --ds" in r.stderr


def test_two_ksks_of_one_kind_are_not_guessed(runner: CliRunner, demo_dir: Path) -> None:
    lab = [*FAKE, "--fixtures", str(demo_dir), "-s", "dns1"]
    before = _keys(runner, "--fixtures", str(demo_dir), "-s", "dns1", "keys", "list", "-z", "corp.example")
    (old,) = [r for r in before if r["key_type"] == "KSK"]
    r = runner.invoke(
        main,
        [*lab, "keys", "add", "-z", "corp.example", "--type", "ksk", "--algorithm", "rsasha256"]
        + ["--length", "2048", "--yes"],
    )
    assert r.exit_code == 0, r.output
    after = _keys(runner, "--fixtures", str(demo_dir), "-s", "dns1", "keys", "list", "-z", "corp.example")
    ksks = [r for r in after if r["key_type"] == "KSK"]
    assert len(ksks) == 2 and all(k["key_tag"] is None for k in ksks)
    note = ksks[0]["key_tag_note"]
    assert note.startswith("one of ") and str(old["key_tag"]) in note and note == ksks[1]["key_tag_note"]


def test_no_tags_and_offline(runner: CliRunner, tmp_path: Path) -> None:
    rows = _keys(runner, "-s", "dns1", "keys", "list", "--no-tags")
    assert rows and all("key_tag" not in r for r in rows)
    r = runner.invoke(main, [*FAKE, "-s", "dns1", "keys", "list", "--no-tags"])
    assert r.exit_code == 0 and "key_tag" not in r.stdout.splitlines()[0]
    saved = tmp_path / "inv.json"
    with connect(ConnectionOptions(host="dns1"), "fake") as remote:
        saved.write_text(json.dumps(dump_inventory(collect(remote))), encoding="utf-8")
    rows = _keys(runner, "keys", "list", "--offline", str(saved))
    assert rows and all(r["key_tag"] is None and r["key_tag_note"] == "saved file: no export" for r in rows)


@pytest.mark.parametrize(
    ("algorithm", "length"), [("RsaSha256", 1024), ("RsaSha256", 2048), ("RsaSha512", 4096)]
)
def test_rsa_key_length_is_read_from_the_dnskey(algorithm: str, length: int) -> None:
    key = {"CryptoAlgorithm": algorithm, "KeyLength": length, "KeyType": "KeySigningKey", "KeyId": "x"}
    rdata = keymaterial.dnskey("z.example", key)
    assert dnskey_bits(int(rdata.algorithm), rdata.key) == length
    assert dnskey_bits(13, base64.b64decode("AAAA")) == 256
