"""MockRemote: a library user's own test double, answered by a function (as httpx's MockTransport)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from toolkit import jsontext
from toolkit.errors import CmdletError
from toolkit.remote import MockRemote, RemoteResult
from toolkit.services.audit import audit_server

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "captures" / "demo-dns1" / "inventory.json"


def test_an_audit_over_a_mock_reads_what_the_handler_answers() -> None:
    answer = jsontext.loads(CAPTURE.read_text())
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(script: str, params: Mapping[str, Any]) -> Any:
        seen.append((script, dict(params)))
        return answer

    report = audit_server(MockRemote(handler, host="dns1"))
    assert report.error is None
    # the inventory, then one read of the DNSKEY records of the signed zones whose findings name
    # a key (their key tags), all in one call
    assert seen[0][0] == "inventory"
    naming_keys = {f.target.zone for f in (*report.findings, *report.suppressed) if f.target.key_id}
    signed = {z.name for z in report.inventory.zones if z.signed and z.keys} if report.inventory else set()
    assert naming_keys & signed
    assert [s for s, _ in seen[1:]] == ["zone_dnskeys"]
    assert set(seen[1][1]["ZoneName"]) == naming_keys & signed
    zones = {z.name for z in report.inventory.zones} if report.inventory else set()
    assert zones == {z["ZoneName"] for z in answer["Zones"]}
    assert report.findings  # the captured server has problems the rules find


def test_answers_go_through_json_so_nothing_is_shared() -> None:
    doc = {"a": [1, 2]}
    result = MockRemote(lambda s, p: doc).run("x")
    assert isinstance(result, RemoteResult) and result.data == doc
    result.data["a"].append(3)
    assert doc == {"a": [1, 2]}
    assert MockRemote(lambda s, p: '{"b": true}').run("x").data == {"b": True}


def test_an_error_from_the_handler_is_raised_with_the_host_and_audit_reports_it() -> None:
    def handler(script: str, params: Mapping[str, Any]) -> Any:
        raise CmdletError("Access is denied.", code=5, cmdlet="Get-DnsServerZone")

    with pytest.raises(CmdletError) as info:
        MockRemote(handler, host="dns9").run("inventory")
    assert info.value.host == "dns9"
    report = audit_server(MockRemote(handler, host="dns9"))
    assert report.error is not None and "Access is denied" in report.error.message


def test_close_and_context_manager() -> None:
    remote = MockRemote(lambda s, p: {})
    with remote as r:
        assert r is remote and not remote.closed
    assert remote.closed
