"""The loopback endpoint's server-time model and the naive baseline's single-cmdlet scripts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolkit.resources import demo_fixtures_dir, script_text
from toolkit.testing.fakeserver import scripts as scripts_mod
from toolkit.testing.fakeserver.naive import NAIVE_CMDLETS, naive_script, naive_scripts
from toolkit.testing.fakeserver.scripts import ScriptCatalogue
from toolkit.testing.simulator import SimulatedServer


@pytest.fixture
def server() -> SimulatedServer:
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    doc.pop("Faults", None)
    return SimulatedServer(doc)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(scripts_mod.time, "sleep", calls.append)
    return calls


def test_no_model_no_sleep(server: SimulatedServer, slept: list[float]) -> None:
    out = ScriptCatalogue().run(server, script_text("inventory"), {})
    assert out.output is not None and slept == []


def test_inventory_costs_a_call_and_every_zone(server: SimulatedServer, slept: list[float]) -> None:
    cat = ScriptCatalogue()
    cat.call_seconds, cat.zone_seconds = 0.5, 0.25
    out = cat.run(server, script_text("inventory"), {})
    assert out.output is not None
    assert slept == [pytest.approx(0.5 + 0.25 * len(server.state["Zones"]))]


def test_output_is_compact_as_the_scripts_print_it(server: SimulatedServer, slept: list[float]) -> None:
    out = ScriptCatalogue().run(server, script_text("inventory"), {})
    assert out.output is not None and "\n" not in out.output
    assert json.loads(out.output)["Zones"]


def test_naive_scripts_answer_and_cost_one_zone_each(server: SimulatedServer, slept: list[float]) -> None:
    cat = ScriptCatalogue(extra=naive_scripts)
    cat.call_seconds, cat.zone_seconds = 0.5, 0.25
    listed = cat.run(server, naive_script("Get-DnsServerZone"), {})
    assert listed.output is not None
    names = [z["ZoneName"] for z in json.loads(listed.output)]
    assert names == [z["ZoneName"] for z in server.state["Zones"]]
    answers: list[Any] = []
    for cmdlet, param in NAIVE_CMDLETS:
        out = cat.run(server, naive_script(cmdlet, param, names[0]), {})
        assert out.output is not None and out.error is None
        answers.append(json.loads(out.output))
    assert answers[0]["ZoneName"] == names[0]
    assert slept == [pytest.approx(0.5 + 0.25 * len(names))] + [pytest.approx(0.75)] * 3


def test_other_text_is_not_a_naive_script() -> None:
    assert naive_scripts("Get-DnsServerZone | ConvertTo-Json; Remove-Item x") is None
    assert naive_scripts(naive_script("Get-DnsServerSigningKey", "ZoneName", "a.example")) is not None
