"""The anonymiser of doctor bundles: the same original gets the same stand-in in every spelling,
the structure of what it rewrites stays valid, and nothing it learnt survives."""

from __future__ import annotations

import json

from toolkit.anonymise import Anonymiser, strings_of

KEY = "9a1f3c52-6b7e-4d21-8c0a-5e2f7d913b64"


def _learnt(*zones: str, hosts: tuple[str, ...] = ()) -> Anonymiser:
    a = Anonymiser()
    for z in zones:
        a.add_zone(z)
    for h in hosts:
        a.add_host(h)
    return a


def test_a_guid_in_every_spelling_gets_one_stand_in_spelled_alike() -> None:
    a = Anonymiser()
    text = a.text(f'{{"KeyId":"{KEY}","ActiveKey":"{{{KEY.upper()}}}","NextKey":"{KEY.upper()}"}}')
    doc = json.loads(text)
    plain = doc["KeyId"]
    assert plain != KEY and plain == plain.lower()
    assert doc["ActiveKey"] == "{" + plain.upper() + "}" and doc["NextKey"] == plain.upper()
    assert KEY not in text.lower()


def test_subzones_keep_their_relation_and_reverse_zones_their_suffix() -> None:
    a = _learnt(
        "corp.example", "ecdsa.corp.example", "_msdcs.corp.example", "10.in-addr.arpa", "TrustAnchors"
    )
    out = json.loads(
        a.text(
            json.dumps(
                [
                    "corp.example",
                    "ecdsa.corp.example",
                    "_msdcs.corp.example",
                    "10.in-addr.arpa",
                    "TrustAnchors",
                ]
            )
        )
    )
    parent, child, msdcs, reverse, anchors = out
    assert parent.endswith(".example") and "corp" not in parent
    assert child.endswith("." + parent) and child != "ecdsa." + parent
    assert msdcs == "_msdcs." + parent  # a well-known label stays
    assert reverse.endswith(".in-addr.arpa") and reverse != "10.in-addr.arpa"
    assert anchors == "TrustAnchors"


def test_hosts_dns_and_partitions_follow_the_zone_names() -> None:
    a = _learnt("corp.example", hosts=("DNS1.corp.example", "DomainDnsZones.corp.example"))
    zone = a.text("corp.example")
    dn = "DC=corp.example,cn=MicrosoftDNS,DC=DomainDnsZones,DC=corp,DC=example"
    out = a.text(f"{dn} DNS1 DNS1.corp.example dns1.corp.example DomainDnsZones.corp.example")
    first, short, fqdn, lower, partition = out.split(" ")
    labels = zone.split(".")
    assert first == f"DC={zone},cn=MicrosoftDNS,DC=DomainDnsZones," + ",".join(f"DC={x}" for x in labels)
    assert short.isupper() and short != "DNS1" and fqdn == f"{short}.{zone}" and lower == fqdn.lower()
    assert partition == f"DomainDnsZones.{zone}"


def test_addresses_become_documentation_addresses_and_versions_stay() -> None:
    a = Anonymiser()
    a.add_address("10.1.2.3")
    a.keep("2.0.0.0")
    out = a.text("10.1.2.3 10.1.2.3 172.16.0.9 2.0.0.0 127.0.0.1 10.0.20348.0 fd00::1:2 ::1 12:34:56")
    first, again, other, version, loop, build, v6, v6loop, clock = out.split(" ")
    assert first == again and first.startswith(("192.0.2.", "198.51.100.", "203.0.113."))
    assert other != first and other.startswith("192.0.2.")
    assert (version, loop, build, v6loop, clock) == (
        "2.0.0.0",
        "127.0.0.1",
        "10.0.20348.0",
        "::1",
        "12:34:56",
    )
    assert v6.startswith("2001:db8::")


def test_names_inside_longer_words_are_left_alone() -> None:
    a = _learnt("corp.example", hosts=("DNS1.corp.example",))
    assert a.text("mycorp.example DNS10 MicrosoftDNS") == "mycorp.example DNS10 MicrosoftDNS"


def test_a_stand_in_never_spells_an_original() -> None:
    a = _learnt("zone1.example", "corp.example", hosts=("host1.corp.example", "dns1.corp.example"))
    out = a.text("zone1.example corp.example host1 dns1")
    assert not a.leftovers(json.dumps(out.split(" ")))
    assert len(set(out.split(" "))) == 4


def test_an_escaped_spelling_is_found_and_the_document_route_replaces_it() -> None:
    a = _learnt("bücher.example")
    printed = '{"ZoneName":"b\\u00fccher.example"}'  # what the WinRM bootstrap prints
    assert a.text(printed) == printed  # the text route cannot see it ...
    assert a.leftovers(a.text(printed)) == ["bücher.example"]  # ... the check can
    redone = json.dumps(a.document(json.loads(printed)), ensure_ascii=False)
    assert a.leftovers(redone) == [] and "example" in redone


def test_learning_from_an_inventory_and_cmdlet_output() -> None:
    a = Anonymiser()
    a.learn_inventory(
        {
            "Server": {"ComputerName": "DNS9.corp.example"},
            "Zones": [{"ZoneName": "corp.example", "DnsSecSetting": {"KeyMasterServer": "DC7.corp.example"}}],
            "Keys": {"ZoneName": ["corp.example"]},
            "TrustAnchors": [{"TrustAnchorName": "partner.example."}],
        }
    )
    a.learn_cmdlet_output(
        [{"ZoneName": "two.example", "MasterServers": {"value": ["192.0.2.53"], "Count": 1}}]
    )
    a.learn_probe({"ComputerName": "DNS9", "Modules": [{"Name": "DnsServer", "Version": "2.0.0.0"}]})
    text = json.dumps(
        ["DNS9.corp.example", "DC7", "partner.example.", "two.example", "192.0.2.53", "2.0.0.0"]
    )
    out = a.text(text)
    assert not a.leftovers(out) and out.count("2.0.0.0") == 1
    assert json.loads(out)[2].endswith(".")  # the trailing dot of an absolute name stays
    kinds = {r.kind for r in a.replacements()}
    assert {"host", "zone", "address"} <= kinds
    assert all(r.original != r.replacement for r in a.replacements())


def test_strings_of_walks_keys_and_values() -> None:
    assert sorted(strings_of({"a": ["b", {"c": 1, "d": None}]})) == ["a", "b", "c", "d"]
