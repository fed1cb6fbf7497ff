"""What a zone in each demo state looks like to the toolkit, shared by the real-Windows test
(tests/windows/test_windows_states.py) and the check that the demo fleet itself agrees
(tests/test_windows_suite.py).

The states, as the CI workflow (.github/workflows/windows.yml) makes them and `windns demo`
shows them:

- ``rsa``: Invoke-DnsServerZoneSign -SignWithDefault (demo: corp.example);
- ``ecdsa``: an ECDsaP256Sha256 KSK and ZSK of 256 bits added, NSEC, then signed (ecdsa.corp.example);
- ``nsec3``: signed with defaults, then NSEC3 with more than 0 iterations (nsec3.corp.example);
- ``ksk-only``: unsigned, holding only a KSK; signing it fails with 9104 (staging.corp.example).
"""

from __future__ import annotations

from toolkit import dnssec_limits as lim
from toolkit.findings import Finding, HostReport
from toolkit.model import Zone
from toolkit.model.enums import DenialOfExistence
from toolkit.remote import Remote
from toolkit.services.audit import audit_server

__all__ = ["DEMO_STATES", "audit_zone", "check_state"]

#: each state and the demo zone it is modelled on (DNS1 of the demo fleet)
DEMO_STATES = {
    "rsa": "corp.example",
    "ecdsa": "ecdsa.corp.example",
    "nsec3": "nsec3.corp.example",
    "ksk-only": "staging.corp.example",
}


def audit_zone(remote: Remote, name: str) -> tuple[Zone, list[Finding]]:
    """One zone audited with the baseline policy: the zone and its findings."""
    report: HostReport = audit_server(remote, zones=[name])
    assert report.error is None, report.error
    assert report.inventory is not None
    zone = report.inventory.zone(name)
    assert zone is not None and not zone.errors, zone
    return zone, [f for f in report.findings if (f.target.zone or "").lower() == name.lower()]


def check_state(kind: str, zone: Zone, findings: list[Finding]) -> None:
    """Assert that ``zone`` (with its baseline ``findings``) is in state ``kind``."""
    rules = {f.rule_id for f in findings}
    algorithms = {k.algorithm.value for k in zone.keys}
    if kind == "ksk-only":
        assert not zone.signed
        assert (len(zone.ksks), len(zone.zsks)) == (1, 0)
        (key001,) = [f for f in findings if f.rule_id == "KEY001"]
        assert key001.evidence["win32"] == 9104
        assert key001.evidence["missing"] == ["ZSK"]
        return
    assert zone.signed
    assert (len(zone.ksks), len(zone.zsks)) == (1, 1)
    assert "KEY001" not in rules
    assert zone.dnssec is not None
    if kind == "rsa":
        assert algorithms == {"RsaSha256"}
        # the lengths the toolkit assumes Windows gives a new key (dnssec_limits.default_key_length)
        for key in zone.keys:
            assert key.key_length == lim.default_key_length(key.algorithm.value, key.key_type.value), key
    elif kind == "ecdsa":
        assert algorithms == {"ECDsaP256Sha256"}
        assert {k.key_length for k in zone.keys} == {256}
        assert zone.dnssec.denial_of_existence is DenialOfExistence.NSEC
    elif kind == "nsec3":
        assert zone.dnssec.denial_of_existence is DenialOfExistence.NSEC3
        assert (zone.dnssec.nsec3_iterations or 0) > 0
        assert "NSEC001" in rules
    else:
        raise AssertionError(f"unknown state {kind!r}")
