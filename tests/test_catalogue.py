"""The Win32 DNS error catalogue: exact names/messages, lookups, and the 9104 explanation."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import catalogue, catalogue_advice, catalogue_lookup
from toolkit.catalogue import CATALOGUE, Win32Error, describe_code, get, known_ranges, lookup
from toolkit.errors import CmdletError, ConfigError

# A sample of exact (code, hex, name, message) rows from Microsoft's system error code list,
# spread over every range, including the longest messages.
EXACT = [
    (5, "0x0005", "ERROR_ACCESS_DENIED", "Access is denied."),
    (9001, "0x2329", "DNS_ERROR_RCODE_FORMAT_ERROR", "DNS server unable to interpret format."),
    (9003, "0x232B", "DNS_ERROR_RCODE_NAME_ERROR", "DNS name does not exist."),
    (9010, "0x2332", "DNS_ERROR_RCODE_NOTZONE", "DNS name in update or prereq is not in zone."),
    (9016, "0x2338", "DNS_ERROR_RCODE_BADSIG", "DNS signature failed to verify."),
    (9018, "0x233A", "DNS_ERROR_RCODE_BADTIME", "DNS signature validity expired."),
    (
        9101,
        "0x238D",
        "DNS_ERROR_KEYMASTER_REQUIRED",
        "Only the DNS server acting as the key master for the zone may perform this operation.",
    ),
    (
        9102,
        "0x238E",
        "DNS_ERROR_NOT_ALLOWED_ON_SIGNED_ZONE",
        "This operation is not allowed on a zone that is signed or has signing keys.",
    ),
    (
        9103,
        "0x238F",
        "DNS_ERROR_NSEC3_INCOMPATIBLE_WITH_RSA_SHA1",
        "NSEC3 is not compatible with the RSA-SHA-1 algorithm. Choose a different algorithm or use NSEC.",
    ),
    (
        9104,
        "0x2390",
        "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS",
        "The zone does not have enough signing keys. There must be at least one key signing key (KSK) "
        "and at least one zone signing key (ZSK).",
    ),
    (
        9107,
        "0x2393",
        "DNS_ERROR_SIGNING_KEY_NOT_ACCESSIBLE",
        "One or more of the signing keys for a zone are not accessible to the DNS server. "
        "Zone signing will not be operational until this error is resolved.",
    ),
    (
        9113,
        "0x2399",
        "DNS_ERROR_TOO_MANY_SKDS",
        "The DNS server cannot accept any more signing keys with the specified algorithm and KSK flag "
        "value for this zone.",
    ),
    (
        9117,
        "0x239D",
        "DNS_ERROR_STANDBY_KEY_NOT_PRESENT",
        "The specified signing key does not have a standby key to revoke.",
    ),
    (
        9122,
        "0x23A2",
        "DNS_ERROR_BAD_KEYMASTER",
        "This operation could not be completed because the DNS server listed as the current key master "
        "for this zone is down or misconfigured. Resolve the problem on the current key master for this "
        "zone or use another DNS server to seize the key master role.",
    ),
    (
        9124,
        "0x23A4",
        "DNS_ERROR_INVALID_NSEC3_ITERATION_COUNT",
        "The specified NSEC3 iteration count is higher than allowed by the minimum key length used in "
        "the zone.",
    ),
    (
        9127,
        "0x23A7",
        "DNS_ERROR_NO_VALID_TRUST_ANCHORS",
        "This operation completed, but no trust anchors were added because all of the trust anchors "
        "received were either invalid, unsupported, expired, or would not become valid in less than 30 "
        "days.",
    ),
    (
        9130,
        "0x23AA",
        "DNS_ERROR_NSEC_INCOMPATIBLE_WITH_NSEC3_RSA_SHA1",
        "NSEC is not compatible with the NSEC3-RSA-SHA-1 algorithm. Choose a different algorithm or use "
        "NSEC3.",
    ),
    (9601, "0x2581", "DNS_ERROR_ZONE_DOES_NOT_EXIST", "DNS zone does not exist."),
    (9617, "0x2591", "DNS_ERROR_NBSTAT_INIT_FAILED", "NBTSTAT initialization call failed."),
    (
        9619,
        "0x2593",
        "DNS_ERROR_FORWARDER_ALREADY_EXISTS",
        "A conditional forwarding zone already exists for that name.",
    ),
    (
        9622,
        "0x2596",
        "DNS_ERROR_ZONE_LOCKED_FOR_SIGNING",
        "This operation cannot be performed because the zone is currently being signed. "
        "Please try again later.",
    ),
    (9701, "0x25E5", "DNS_ERROR_RECORD_DOES_NOT_EXIST", "DNS record does not exist."),
    (9711, "0x25EF", "DNS_ERROR_RECORD_ALREADY_EXISTS", "DNS record already exists."),
    (9714, "0x25F2", "DNS_ERROR_NAME_DOES_NOT_EXIST", "DNS name does not exist."),
]

RCODE = {*range(9001, 9011), 9016, 9017, 9018}
DNSSEC = set(range(9101, 9131))
ZONE = set(range(9601, 9623))
OTHER = {5, 9701, 9711, 9714}


# -- contents -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "hex_", "name", "message"), EXACT)
def test_exact_entries(code: int, hex_: str, name: str, message: str) -> None:
    err = get(code)
    assert err is not None
    assert (err.code, err.hex, err.name, err.message) == (code, hex_, name, message)


def test_catalogue_holds_exactly_the_documented_codes() -> None:
    assert set(CATALOGUE) == RCODE | DNSSEC | ZONE | OTHER
    assert list(CATALOGUE) == sorted(CATALOGUE)


def test_dnssec_range_is_complete_and_contiguous() -> None:
    dnssec = sorted(c for c in CATALOGUE if 9100 <= c < 9200)
    assert dnssec == list(range(9101, 9131))
    assert all(CATALOGUE[c].name.startswith("DNS_ERROR_") for c in dnssec)


def test_structural_invariants_for_every_entry() -> None:
    names: list[str] = []
    for code, err in CATALOGUE.items():
        assert err.code == code
        assert re.fullmatch(r"0x[0-9A-F]{4,}", err.hex), err.hex
        assert int(err.hex, 16) == code
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", err.name), err.name
        assert err.message and err.message == err.message.strip() and "  " not in err.message
        assert err.message.endswith("."), err.message
        names.extend((err.name, *err.aliases))
    assert len(names) == len(set(names)), "names and aliases are unique"


def test_entries_are_frozen_and_catalogue_read_only() -> None:
    err = CATALOGUE[9104]
    with pytest.raises(dataclasses.FrozenInstanceError):
        err.code = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        CATALOGUE[4242] = err  # type: ignore[index]
    assert not hasattr(err, "__dict__")  # slotted


def test_known_wrong_names_are_absent() -> None:
    """Names that circulate on the web but are not Microsoft's (reference: not in winerror.h)."""
    for fake in ("DNS_ERROR_NO_KX_RECORD", "DNS_ERROR_NO_ZSK_RECORD", "DNS_ERROR_ZONE_HAS_NO_KEY"):
        with pytest.raises(ConfigError):
            lookup(fake)


# -- advice -----------------------------------------------------------------------------------
def test_every_dnssec_code_has_cause_diagnose_resolve() -> None:
    for code in DNSSEC:
        err = CATALOGUE[code]
        for field in ("cause", "diagnose", "resolve"):
            text = getattr(err, field)
            assert text and text == text.strip(), (code, field)
            indents = {len(line) - len(line.lstrip(" ")) for line in text.splitlines()}
            assert indents <= {0, 4}, (code, field)  # dedented cleanly; 4 = a continuation line
        assert "DnsServer" in (err.diagnose or "") + (err.resolve or ""), code


def test_9104_full_treatment() -> None:
    err = lookup("9104")
    text = f"{err.cause}\n{err.diagnose}\n{err.resolve}"
    for needle in (
        "KSK",
        "ZSK",
        "Add-DnsServerSigningKey",
        "Get-DnsServerSigningKey -ZoneName <Zone> | "
        "Format-Table KeyId,KeyType,CryptoAlgorithm,KeyLength,CurrentState",
        "-Type KeySigningKey",
        "-Type ZoneSigningKey",
        "-CryptoAlgorithm RsaSha256 -KeyLength 2048",
        "-CryptoAlgorithm RsaSha256 -KeyLength 1024",
        "Invoke-DnsServerZoneSign -ZoneName <Zone> -DoResign -Force",
        "Get-DnsServerDnsSecZoneSetting",
        "Test-DnsServerDnsSecZoneSetting",
    ):
        assert needle in text, needle
    assert "unsigned zone" in (err.cause or "")  # the latent case: one key type, zone not yet signed
    # the KSK line carries 2048 and the ZSK line 1024, not the other way round
    resolve = err.resolve or ""
    assert re.search(r"-Type KeySigningKey .*-KeyLength 2048", resolve)
    assert re.search(r"-Type ZoneSigningKey .*-KeyLength 1024", resolve)


@pytest.mark.parametrize(
    ("code", "needles"),
    [
        (9113, ("3 ", "Remove-DnsServerSigningKey")),
        (9124, ("150", "500", "2500", "Set-DnsServerDnsSecZoneSetting", "-NSec3Iterations")),
        (9114, ("7 to 7300", "7 to 1825", "-RolloverPeriod")),
        (9115, ("0 to 30", "-InitialRolloverOffset")),
        (9123, ("6 to 720", "-ZoneSignatureValidityPeriod")),
        (9106, ("1024", "4096", "64")),
        (9101, ("Reset-DnsServerZoneKeyMasterRole", "KeyMasterServer")),
        (9122, ("-SeizeRole",)),
        (9125, ("EnableDnsSec", "Set-DnsServerSetting")),
    ],
)
def test_advice_quotes_documented_limits(code: int, needles: tuple[str, ...]) -> None:
    err = CATALOGUE[code]
    text = f"{err.cause}\n{err.diagnose}\n{err.resolve}"
    for needle in needles:
        assert needle in text, (code, needle)


def test_codes_without_advice_have_none() -> None:
    err = CATALOGUE[9004]
    assert (err.cause, err.diagnose, err.resolve) == (None, None, None)


# -- lookup -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "9104",
        " 9104 ",
        "0x2390",
        "0X2390",
        "0x00002390",
        "0x80072390",  # HRESULT_FROM_WIN32
        "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS",
        "dns_error_not_enough_signing_key_descriptors",
        "NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS",
        "WIN32 9104",
        "win32 9104",
        "WIN32 9104,Invoke-DnsServerZoneSign",
    ],
)
def test_lookup_forms(text: str) -> None:
    assert lookup(text) is CATALOGUE[9104]


def test_lookup_alias_and_short_names() -> None:
    assert lookup("DNS_ERROR_INVALID_NSEC3_PARAMETERS").code == 9103
    assert lookup("invalid_nsec3_parameters").code == 9103
    assert CATALOGUE[9103].aliases == ("DNS_ERROR_INVALID_NSEC3_PARAMETERS",)
    assert lookup("ERROR_ACCESS_DENIED").code == 5
    assert lookup("access_denied").code == 5
    assert lookup("5").code == 5
    assert lookup("0x25EF").name == "DNS_ERROR_RECORD_ALREADY_EXISTS"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_lookup_round_trips_every_code(code: int) -> None:
    err = CATALOGUE[code]
    assert lookup(str(code)) is err
    assert lookup(err.hex) is err
    assert lookup(err.name) is err
    assert lookup(err.name.lower()) is err


def test_unknown_code_is_config_error_listing_known_ranges() -> None:
    with pytest.raises(ConfigError) as exc:
        lookup("4242")
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("unknown Win32 DNS error code 4242 (known: ")
    for part in ("5", "9001-9010", "9016-9018", "9101-9130", "9601-9622", "9701", "9711", "9714"):
        assert re.search(rf"(?<![\d-]){part}(?![\d-])", msg), part


def test_known_ranges_matches_catalogue() -> None:
    expanded: set[int] = set()
    for part in known_ranges().split(", "):
        lo, _, hi = part.partition("-")
        expanded.update(range(int(lo), int(hi or lo) + 1))
    assert expanded == set(CATALOGUE)


@pytest.mark.parametrize("text", ["9011", "0x2337", "1234", "0"])
def test_unknown_numbers(text: str) -> None:
    with pytest.raises(ConfigError, match="unknown Win32 DNS error code"):
        lookup(text)


@pytest.mark.parametrize("text", ["", "   ", "foo bar", "0x", "0xZZ", "-9104", "9104.0", "0x123456789"])
def test_unparseable_text(text: str) -> None:
    with pytest.raises(ConfigError) as exc:
        lookup(text)
    assert "\n" not in str(exc.value)


def test_near_miss_name_suggests() -> None:
    with pytest.raises(ConfigError, match=r"did you mean DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS\?"):
        lookup("DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTOR")


@pytest.mark.parametrize("text", ["9100", "0x238C", "DNS_ERROR_DNSSEC_BASE", "dnssec_base"])
def test_dnssec_base_is_explained_not_an_error(text: str) -> None:
    assert get(9100) is None
    with pytest.raises(ConfigError, match=r"9100 \(0x238C\) is DNS_ERROR_DNSSEC_BASE.*not an error"):
        lookup(text)


# -- describe_code ------------------------------------------------------------------------------
def test_describe_code() -> None:
    assert describe_code(9104) == "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104, 0x2390)"
    assert describe_code(5) == "ERROR_ACCESS_DENIED (5, 0x0005)"
    assert describe_code(1234) == "Win32 error 1234 (0x04D2)"
    assert describe_code(9100) == "Win32 error 9100 (0x238C)"


def test_cmdlet_error_uses_describe_code() -> None:
    err = CmdletError("failed", code=9104, cmdlet="Invoke-DnsServerZoneSign")
    assert "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104, 0x2390)" in str(err)


def test_win32error_str_and_defaults() -> None:
    err = Win32Error(code=42, name="X_ERROR", message="Boom.")
    assert err.hex == "0x002A"
    assert str(err) == "X_ERROR (42, 0x002A): Boom."
    assert (err.cause, err.diagnose, err.resolve, err.aliases) == (None, None, None, ())


def test_public_api() -> None:
    for module in (catalogue, catalogue_lookup):
        assert sorted(module.__all__) == module.__all__
        for name in module.__all__:
            assert hasattr(module, name)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_explanation_is_the_entry_in_full(code: int) -> None:
    # what `windns explain` prints, read from the data as the entries are built from it
    err = CATALOGUE[code]
    want = [f"{err.name} ({err.code}, {err.hex})", err.message]
    want += [
        f"\n{t}:\n{b}"
        for t, b in (("Cause", err.cause), ("Diagnose", err.diagnose), ("Resolve", err.resolve))
        if b
    ]
    assert catalogue_lookup.explanation(str(code)) == "\n".join(want)
    assert catalogue_lookup.explanation(err.hex) == catalogue_lookup.explanation(err.name.lower())


def test_explanation_raises_as_lookup() -> None:
    for text in ("4242", "9100", "no-such-code", "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTOR"):
        with pytest.raises(ConfigError) as want:
            lookup(text)
        with pytest.raises(ConfigError) as got:
            catalogue_lookup.explanation(text)
        assert str(got.value) == str(want.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\nab", max_size=40))
def test_the_advice_is_dedented_as_inspect_cleandoc_does(doc: str) -> None:
    assert catalogue_advice._cleandoc(doc) == inspect.cleandoc(doc)
