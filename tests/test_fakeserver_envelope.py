"""The server's envelope size: both transports ask winrm/config for MaxEnvelopeSizekb and keep
every request within it, against a loopback endpoint configured for 150 KB that refuses anything
larger (fault 2150859025), as a real server so configured does (pypsrp's recording
test_wsman_update_envelope_size_150.yml is one such host)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_transport import synthetic_fleet
from toolkit.errors import ProtocolError
from toolkit.remote import connect
from toolkit.remote._envelope import CONFIG_GET_ENVELOPE, FALLBACK_ENVELOPE_SIZE, size_from_config
from toolkit.testing.fakeserver import FakeWinrmServer, Fault, wsman
from toolkit.testing.fakeserver.server import HostEndpoint

TRANSPORTS = ("psrp", "winrm")
HOST = "bench000.corp.example"
ZONES = 500
#: long names (235 characters, labels of at most 63), so that the 500 names as a parameter are
#: larger than 150 KiB once encoded, as the inventory of the 500 zones is
ZONE_NAME = "{z:03d}" + "-" + "a" * 59 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 35 + ".example"
RECORDING = Path(__file__).parent / "data" / "wsman-recordings" / "test_wsman_update_envelope_size_150.0.xml"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(
        synthetic_fleet(1, ZONES, ZONE_NAME), max_envelope_kb=150, receive_wait=2.0
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeWinrmServer) -> Iterator[None]:
    ep = fake.endpoint(HOST)
    ep.set_faults([])
    ep.stats.reset()
    yield
    ep.set_faults([])


def names(ep: HostEndpoint) -> list[str]:
    return [str(z["ZoneName"]) for z in ep.simulated.state["Zones"]]


def sent(ep: HostEndpoint) -> list[tuple[str, int, int]]:
    """(operation, MaxEnvelopeSize asked, size) of every request the endpoint received."""
    out = []
    for body in ep.stats.requests:
        req = wsman.parse_request(body)
        out.append((req.operation, req.max_envelope_size, len(body)))
    return out


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kb", [150, 64])
def test_500_zone_inventory_through_a_server_of_150_kb_or_less(
    fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str, kb: int
) -> None:
    monkeypatch.setattr(fake, "max_envelope_kb", kb)
    ep = fake.endpoint(HOST)
    zones = names(ep)
    assert len(zones) == ZONES
    with connect(fake.connection_options(HOST), transport) as remote:
        result = remote.run("inventory", {"ZoneName": zones})
    assert [z["ZoneName"] for z in result.data["Zones"]] == zones
    assert not any(z.get("Errors") for z in result.data["Zones"])
    expected = json.loads(json.dumps(ep.simulated.run("inventory", {"ZoneName": zones})))
    assert result.data == expected
    requests = sent(ep)
    assert ep.stats.envelope_refusals == 0
    # asked once for the connection, first, within the smallest envelope a server may be set to
    assert [(op, asked) for op, asked, _ in requests if op == "Get"] == [("Get", CONFIG_GET_ENVELOPE)]
    assert requests[0][0] == "Get"
    assert {asked for op, asked, _ in requests if op != "Get"} == {kb * 1024}
    assert max(size for _, _, size in requests) <= kb * 1024
    # both ways the data needed more than one envelope: the parameters went in several requests,
    # the inventory came back in several Receives
    assert sum(size for op, _, size in requests if op in ("Command", "Send")) > 150 * 1024
    assert len(result.raw) > 150 * 1024 and ep.stats.operations["Receive"] > 2


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("config_readable", "used"),
    [(True, 500 * 1024), (False, FALLBACK_ENVELOPE_SIZE)],
    ids=["read", "refused"],
)
def test_a_500_kb_server_is_used_at_500_kb_unless_its_configuration_is_refused(
    fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str, config_readable: bool, used: int
) -> None:
    monkeypatch.setattr(fake, "max_envelope_kb", 500)
    ep = fake.endpoint(HOST)
    if not config_readable:  # what an account that is not an administrator gets
        ep.set_faults([Fault("access_denied", operation="Get")])
    with connect(fake.connection_options(HOST), transport) as remote:
        result = remote.run("inventory", {})
    assert len(result.data["Zones"]) == ZONES
    requests = sent(ep)
    assert requests[0][:2] == ("Get", CONFIG_GET_ENVELOPE)
    assert {asked for op, asked, _ in requests if op != "Get"} == {used}
    assert ep.stats.envelope_refusals == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_server_refusing_the_size_it_reported_is_one_line(
    fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    ep = fake.endpoint(HOST)
    zone = names(ep)[:1]
    with connect(fake.connection_options(HOST), transport) as remote:
        assert len(remote.run("inventory", {"ZoneName": zone}).data["Zones"]) == 1
        monkeypatch.setattr(fake, "max_envelope_kb", 100)  # lowered under the open connection
        with pytest.raises(ProtocolError) as info:
            remote.run("inventory", {"ZoneName": zone})
    text = str(info.value)
    assert "\n" not in text and "2150859025" in text and "0x80338111" in text
    assert "MaxEnvelopeSizekb" in text
    assert ep.stats.envelope_refusals >= 1


def _without_ids(xml: bytes) -> str:
    root = ET.fromstring(xml)
    for name in ("MessageID", "RelatesTo"):
        el = root.find(f".//{{{wsman.NS['wsa']}}}{name}")
        assert el is not None
        el.text = ""
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def test_the_config_answer_is_the_recorded_one_with_the_configured_size() -> None:
    request = wsman.WSManRequest(
        operation="Get",
        action="http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
        message_id="uuid:452E314E-4267-4F1D-AE4F-5E3483848E3B",
        resource_uri="http://schemas.microsoft.com/wbem/wsman/1/config",
        max_envelope_size=153600,
        operation_timeout=20.0,
    )
    recorded = RECORDING.read_bytes()
    answer = wsman.config_response(request, 150)
    assert _without_ids(answer) == _without_ids(recorded)
    assert ET.fromstring(answer).find(f".//{{{wsman.NS['wsa']}}}RelatesTo").text == request.message_id  # type: ignore[union-attr]
    assert size_from_config(ET.fromstring(recorded)) == 150 * 1024
    assert size_from_config(ET.fromstring(wsman.config_response(request, 4096))) == 4096 * 1024


@pytest.mark.parametrize("value", ["", "lots", "16", "0"])
def test_an_unusable_size_in_the_config_is_no_size(value: str) -> None:
    cfg = wsman.NS["cfg"]
    body = (
        f'<cfg:Config xmlns:cfg="{cfg}"><cfg:MaxEnvelopeSizekb>{value}</cfg:MaxEnvelopeSizekb></cfg:Config>'
    )
    assert size_from_config(ET.fromstring(body)) is None  # MS-WSMV 2.2.4.10: at least 32
    assert size_from_config(ET.fromstring(f'<cfg:Config xmlns:cfg="{cfg}"/>')) is None
