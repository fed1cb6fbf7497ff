"""The registry: unique stable ids, complete metadata, explanations."""

from __future__ import annotations

import re

import pytest

from toolkit.catalogue import get as catalogue_get
from toolkit.rules import AREAS, RULES, explain_rule, get_rule
from toolkit.rules.base import Rule


def test_ids_unique_and_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Z]{2,4}[0-9]{3}", i) for i in ids)
    assert all(r.area in AREAS for r in RULES)


def test_at_least_25_rules() -> None:
    assert len(RULES) >= 25


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata_complete(rule: Rule) -> None:
    assert rule.title and rule.checks and rule.why and rule.remediation
    assert rule.references, "every rule cites at least one reference"
    if rule.win32 is not None:
        assert catalogue_get(rule.win32) is not None, "predicted Win32 codes are in the catalogue"
    d = rule.to_dict()
    assert d["id"] == rule.id and d["severity"] == rule.severity.label and d["references"]


def test_remediation_uses_placeholders_not_demo_names() -> None:
    for rule in RULES:
        assert "corp.example" not in rule.remediation
    assert "<Zone>" in get_rule("KEY001").remediation  # type: ignore[union-attr]


def test_explain_rule_includes_catalogue_entry_for_9104() -> None:
    text = explain_rule("key001")
    assert text is not None
    assert "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS" in text
    assert "Remediation" in text and "Add-DnsServerSigningKey" in text


def test_explain_rule_none_for_codes_and_unknown_ids() -> None:
    assert explain_rule("9104") is None
    assert explain_rule("0x2390") is None
    assert explain_rule("ZZZ999") is None


def test_stig_ids_appear_in_references() -> None:
    rule = get_rule("ROLL001")
    assert rule is not None
    assert any("V-259384" in r for r in rule.all_references())


def test_docs_rules_md_is_current() -> None:
    from pathlib import Path

    from toolkit.rules.docs import rules_markdown

    doc = Path(__file__).parent.parent / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == rules_markdown(), "regenerate docs/rules.md (see its header)"
