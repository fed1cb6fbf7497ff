"""The simulated server's write scripts: Windows's semantics, codes and messages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory_docs import nested
from toolkit.errors import CmdletError
from toolkit.testing.simulator import Fleet, SimulatedServer


def _key(server: SimulatedServer, zone: str, key_type: str) -> dict[str, Any]:
    z = server.find_zone(zone)
    assert z is not None
    return next(k for k in z["SigningKeys"] if k["KeyType"] == key_type)


def _read_zone(server: SimulatedServer, zone: str) -> dict[str, Any]:
    doc = nested(server.run("inventory", {"ZoneName": [zone]}))
    return doc["Zones"][0]  # type: ignore[no-any-return]


def test_key_add_then_inventory_shows_it(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    out = dns1.run("key_add", {"ZoneName": "nozsk.corp.example", "KeyType": "ZoneSigningKey"})
    assert out["KeyType"] == "ZoneSigningKey"
    assert out["CryptoAlgorithm"] == "RsaSha256" and out["KeyLength"] == 1024  # Windows defaults for a ZSK
    assert out["RolloverPeriod"] == 90 * 86400 and out["RolloverType"] == "PrePublish"
    zone = _read_zone(dns1, "nozsk.corp.example")
    assert out["KeyId"] in [k["KeyId"] for k in zone["SigningKeys"]]


def test_key_add_validation_codes(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"KeyLength": 1000}, 9106),
        ({"KeyLength": 8192}, 9106),
        ({"CryptoAlgorithm": "ECDsaP256Sha256", "KeyLength": 384}, 9106),
        ({"RolloverPeriodSeconds": 3 * 86400}, 9114),
        ({"RolloverPeriodSeconds": 2000 * 86400}, 9114),  # ZSK max is 1825 days
        ({"InitialRolloverOffsetSeconds": 31 * 86400}, 9115),
        ({"DnsKeySignatureValidityPeriodSeconds": 3600}, 9123),
        ({"ZoneSignatureValidityPeriodSeconds": 721 * 3600}, 9123),
        ({"CryptoAlgorithm": "RsaSha1"}, 9103),  # the zone uses NSEC3
    ]
    for extra, code in cases:
        with pytest.raises(CmdletError) as exc:
            dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey", **extra})
        assert exc.value.code == code, extra
        assert exc.value.fully_qualified_error_id == f"WIN32 {code},Add-DnsServerSigningKey"
    assert len(_read_zone(dns1, "corp.example")["SigningKeys"]) == 2  # nothing was added


@pytest.mark.parametrize(("length", "code"), [(-5, None), (0, 9106), (99999, 9106), (99999999999, None)])
def test_key_add_impossible_length_is_refused(fleet: Fleet, length: int, code: int | None) -> None:
    # A length that fits key_add.ps1's [uint32]$KeyLength (L14; Add-DnsServerSigningKey's own
    # KeyLength is UInt32, PSD) reaches the cmdlet, which answers 9106; one that does not fit (-5,
    # beyond 2^32) is refused by PowerShell's parameter binding, with no Win32 code.
    dns1 = fleet.get("dns1")
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "KeySigningKey", "KeyLength": length})
    assert exc.value.code == code
    if code is None:
        assert exc.value.fully_qualified_error_id == "ParameterArgumentTransformationError,key_add"
    assert len(_read_zone(dns1, "corp.example")["SigningKeys"]) == 2


def test_key_add_unknown_key_storage_provider_is_9112(fleet: Fleet) -> None:
    from toolkit import dnssec_limits as lim

    dns1 = fleet.get("dns1")
    with pytest.raises(CmdletError) as exc:
        dns1.run(
            "key_add",
            {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey", "KeyStorageProvider": "Bogus KSP"},
        )
    assert exc.value.code == 9112
    assert exc.value.fully_qualified_error_id == "WIN32 9112,Add-DnsServerSigningKey"
    assert len(_read_zone(dns1, "corp.example")["SigningKeys"]) == 2
    provider = lim.KEY_STORAGE_PROVIDERS[1]
    out = dns1.run(
        "key_add",
        {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey", "KeyStorageProvider": provider.upper()},
    )
    assert out["KeyStorageProvider"] == provider  # Windows's spelling


def test_fourth_key_of_an_algorithm_is_refused_9113(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    for _ in range(2):
        dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey"})
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey"})
    assert exc.value.code == 9113
    # a different algorithm is counted separately
    dns1.run(
        "key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey", "CryptoAlgorithm": "RsaSha512"}
    )


def test_nsec_with_rsasha1nsec3_is_9130(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    with pytest.raises(CmdletError) as exc:
        dns1.run(
            "key_add",
            {"ZoneName": "ecdsa.corp.example", "KeyType": "KeySigningKey", "CryptoAlgorithm": "RsaSha1NSec3"},
        )
    assert exc.value.code == 9130


def test_remove_only_zsk_of_signed_zone_is_9104_with_reference_message(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    zsk = _key(dns1, "corp.example", "ZoneSigningKey")
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_remove", {"ZoneName": "corp.example", "KeyId": [zsk["KeyId"]]})
    assert exc.value.code == 9104
    assert exc.value.cmdlet == "Remove-DnsServerSigningKey"
    assert "at least one key signing key (KSK) and at least one zone signing key (ZSK)" in str(exc.value)


def test_remove_active_key_with_a_spare_is_9119(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    dns1.run("key_add", {"ZoneName": "corp.example", "KeyType": "ZoneSigningKey"})
    zsk = _key(dns1, "corp.example", "ZoneSigningKey")
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_remove", {"ZoneName": "corp.example", "KeyId": [zsk["KeyId"]]})
    assert exc.value.code == 9119


def test_remove_from_unsigned_zone_is_allowed(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    ksk = _key(dns1, "staging.corp.example", "KeySigningKey")
    removed = dns1.run(
        "key_remove", {"ZoneName": "staging.corp.example", "KeyId": ["{" + ksk["KeyId"].upper() + "}"]}
    )
    assert [k["KeyId"] for k in removed] == [ksk["KeyId"]]
    zone = _read_zone(dns1, "staging.corp.example")
    assert zone["SigningKeys"] == [] and zone["DnsSecSetting"] is None


def test_unknown_zone_is_9601_and_secondary_is_refused(fleet: Fleet) -> None:
    with pytest.raises(CmdletError) as exc:
        fleet.get("dns1").run("key_add", {"ZoneName": "nope.example", "KeyType": "KeySigningKey"})
    assert exc.value.code == 9601
    with pytest.raises(CmdletError) as exc:
        fleet.get("dns2").run("zone_sign", {"ZoneName": "partner.example", "SignWithDefault": True})
    assert exc.value.code == 9611


def test_not_key_master_is_9101(fleet: Fleet) -> None:
    dns2 = fleet.get("dns2")
    with pytest.raises(CmdletError) as exc:
        dns2.run("key_add", {"ZoneName": "branch.corp.example", "KeyType": "ZoneSigningKey"})
    assert exc.value.code == 9101


def test_set_key_changes_and_validates(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    ksk = _key(dns1, "corp.example", "KeySigningKey")
    out = dns1.run(
        "key_set",
        {
            "ZoneName": "corp.example",
            "KeyId": ksk["KeyId"],
            "RolloverPeriodSeconds": 400 * 86400,
            "NextRolloverAction": "retire",
        },
    )
    assert out["RolloverPeriod"] == 400 * 86400 and out["NextRolloverAction"] == "Retire"
    with pytest.raises(CmdletError) as exc:
        dns1.run(
            "key_set", {"ZoneName": "corp.example", "KeyId": ksk["KeyId"], "RolloverPeriodSeconds": 86400}
        )
    assert exc.value.code == 9114
    zsk = _key(dns1, "corp.example", "ZoneSigningKey")
    with pytest.raises(CmdletError) as exc:
        dns1.run(
            "key_set",
            {"ZoneName": "corp.example", "KeyId": zsk["KeyId"], "NextRolloverAction": "RevokeStandby"},
        )
    assert exc.value.code == 9118


def test_rollover_actions(fleet: Fleet) -> None:
    dns4 = fleet.get("dns4")
    ksk = _key(dns4, "manual.branch.example", "KeySigningKey")
    out = dns4.run(
        "key_rollover", {"Action": "enable", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
    )
    assert out["IsRolloverEnabled"] is True and out["RolloverPeriod"] == 755 * 86400
    assert out["NextRolloverTime"] is not None
    out = dns4.run(
        "key_rollover", {"Action": "disable", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
    )
    assert out["IsRolloverEnabled"] is False and out["NextRolloverTime"] is None
    # now: a KSK waits for the parent's DS; step completes it; step again is 9128
    before = ksk["ActiveKey"]
    out = dns4.run(
        "key_rollover", {"Action": "now", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
    )
    assert out["CurrentRolloverStatus"] == "KskWaitingForDSUpdate" and out["ActiveKey"] != before
    with pytest.raises(CmdletError) as exc:
        dns4.run(
            "key_rollover", {"Action": "now", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
        )
    assert exc.value.code == 9116
    out = dns4.run(
        "key_rollover", {"Action": "step", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
    )
    assert out["CurrentRolloverStatus"] == "NotRolling"
    with pytest.raises(CmdletError) as exc:
        dns4.run(
            "key_rollover", {"Action": "step", "ZoneName": "manual.branch.example", "KeyId": ksk["KeyId"]}
        )
    assert exc.value.code == 9128


def test_rollover_queued_is_9120_and_unsigned_is_9121(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    zsk = _key(dns1, "corp.example", "ZoneSigningKey")
    zsk["CurrentRolloverStatus"] = "Queued"
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_rollover", {"Action": "now", "ZoneName": "corp.example", "KeyId": zsk["KeyId"]})
    assert exc.value.code == 9120
    ksk = _key(dns1, "staging.corp.example", "KeySigningKey")
    with pytest.raises(CmdletError) as exc:
        dns1.run("key_rollover", {"Action": "now", "ZoneName": "staging.corp.example", "KeyId": ksk["KeyId"]})
    assert exc.value.code == 9121


def test_sign_zone_semantics(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    with pytest.raises(CmdletError) as exc:  # a KSK but no ZSK: the founding case
        dns1.run("zone_sign", {"ZoneName": "staging.corp.example"})
    assert exc.value.code == 9104
    with pytest.raises(CmdletError) as exc:  # defaults on a zone that has keys, without -DoResign
        dns1.run("zone_sign", {"ZoneName": "staging.corp.example", "SignWithDefault": True})
    assert exc.value.code == 9102
    out = dns1.run(
        "zone_sign", {"ZoneName": "staging.corp.example", "SignWithDefault": True, "DoResign": True}
    )
    assert out["IsSigned"] is True
    zone = _read_zone(dns1, "staging.corp.example")
    types = sorted((k["KeyType"], k["KeyLength"]) for k in zone["SigningKeys"])
    assert types == [("KeySigningKey", 2048), ("ZoneSigningKey", 1024)]
    assert zone["DnsSecSetting"]["NSec3Iterations"] == 50  # Windows's defaults
    out = dns1.run("zone_sign", {"ZoneName": "_msdcs.corp.example", "SignWithDefault": True})
    assert out["IsSigned"] is True


def test_unsign_and_unsigned_errors(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    out = dns1.run("zone_unsign", {"ZoneName": "corp.example"})
    assert out["IsSigned"] is False
    assert _read_zone(dns1, "corp.example")["IsSigned"] is False
    with pytest.raises(CmdletError) as exc:
        dns1.run("zone_unsign", {"ZoneName": "corp.example"})
    assert exc.value.code == 9121
    with pytest.raises(CmdletError) as exc:
        dns1.run("zone_export_keys", {"ZoneName": "corp.example"})
    assert exc.value.code == 9121


def test_dnssec_setting_changes_and_9124(fleet: Fleet) -> None:
    dns1 = fleet.get("dns1")
    out = dns1.run(
        "zone_dnssec_set",
        {
            "ZoneName": "nsec3.corp.example",
            "NSec3Iterations": 0,
            "NSec3UserSalt": "-",
            "DSRecordGenerationAlgorithm": ["sha256"],
        },
    )
    assert (out["NSec3Iterations"], out["NSec3UserSalt"], out["NSec3CurrentSalt"]) == (0, "-", "-")
    assert out["DSRecordGenerationAlgorithm"] == ["Sha256"]
    assert _read_zone(dns1, "nsec3.corp.example")["DnsSecSetting"]["NSec3Iterations"] == 0
    out = dns1.run("zone_dnssec_set", {"ZoneName": "nsec3.corp.example", "NSec3RandomSaltLength": 4})
    assert (out["NSec3RandomSaltLength"], out["NSec3UserSalt"], len(out["NSec3CurrentSalt"])) == (4, "-", 8)
    # 256 does not fit the script's [byte]$NSec3RandomSaltLength (zone_dnssec_set.ps1 L14): refused
    # when binding, before any cmdlet runs.
    with pytest.raises(CmdletError) as exc:
        dns1.run("zone_dnssec_set", {"ZoneName": "nsec3.corp.example", "NSec3RandomSaltLength": 256})
    assert exc.value.code is None and "NSec3RandomSaltLength" in str(exc.value)
    assert _read_zone(dns1, "nsec3.corp.example")["DnsSecSetting"]["NSec3RandomSaltLength"] == 4
    # 0 is what the script itself sends with a user salt (zone_dnssec_set.ps1 L34-L36): MS-DNSP
    # 3.1.1.2.3, the user salt "MUST be ignored unless the NSEC3RandomSaltLength property is set to
    # 0". The simulator answers the cmdlet, which cannot tell the two calls apart, so 0 is taken and
    # the zone goes back to its user salt ("-": none). (It used to be refused by a handler that
    # answered the script's intent instead of the cmdlet.)
    out = dns1.run("zone_dnssec_set", {"ZoneName": "nsec3.corp.example", "NSec3RandomSaltLength": 0})
    assert (out["NSec3RandomSaltLength"], out["NSec3UserSalt"], out["NSec3CurrentSalt"]) == (0, "-", "-")
    with pytest.raises(CmdletError) as exc:  # smallest key 1024 bits: at most 150
        dns1.run("zone_dnssec_set", {"ZoneName": "nsec3.corp.example", "NSec3Iterations": 151})
    assert exc.value.code == 9124
    dns1.run("zone_dnssec_set", {"ZoneName": "nsec3.corp.example", "NSec3Iterations": 150})
    with pytest.raises(CmdletError) as exc:  # legacy zone signs with RsaSha1
        dns1.run("zone_dnssec_set", {"ZoneName": "legacy.corp.example", "DenialOfExistence": "NSec3"})
    assert exc.value.code == 9103


def test_export_keys_dnskey_and_ds(fleet: Fleet) -> None:
    import dns.rdata

    dns1 = fleet.get("dns1")
    keys = dns1.run("zone_export_keys", {"ZoneName": "corp.example"})
    assert keys["Kind"] == "DnsKey" and len(keys["Records"]) == 1  # the KSK only
    assert keys["Records"][0]["RecordData"]["KeyFlags"] == 257
    ds = dns1.run("zone_export_keys", {"ZoneName": "corp.example", "DigestType": ["Sha256", "Sha384"]})
    assert [r["RecordData"]["DigestType"] for r in ds["Records"]] == ["Sha256", "Sha384"]
    assert ds["Records"][0]["RecordData"]["KeyTag"] == keys["Records"][0]["RecordData"]["KeyTag"]
    line = ds["File"].splitlines()[0].split(" IN DS ")[1]
    rd = dns.rdata.from_text("IN", "DS", line)
    assert rd.digest_type == 2 and len(rd.digest) == 32  # type: ignore[attr-defined]


def test_save_round_trips_writes(fleet: Fleet, demo_dir: Any) -> None:
    dns1 = fleet.get("dns1")
    added = dns1.run("key_add", {"ZoneName": "nozsk.corp.example", "KeyType": "ZoneSigningKey"})
    dns1.save()
    again = Fleet.load(demo_dir).get("dns1")
    zone = _read_zone(again, "nozsk.corp.example")
    assert added["KeyId"] in [k["KeyId"] for k in zone["SigningKeys"]]


def test_every_simulated_script_has_a_real_script_that_parses_and_back() -> None:
    import tree_sitter
    import tree_sitter_powershell

    from toolkit.resources import ps_scripts_dir
    from toolkit.testing.simulator.server import _registry

    handlers = _registry()
    shipped = {p.stem for p in ps_scripts_dir().glob("*.ps1") if not p.stem.startswith("_")}
    assert shipped == set(handlers)
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    for name in handlers:
        text = (ps_scripts_dir() / f"{name}.ps1").read_text(encoding="utf-8")
        assert "$ErrorActionPreference = 'Stop'" in text
        assert "ConvertTo-Json" in text and "-AsArray" not in text
        assert not parser.parse(text.encode()).root_node.has_error, name
