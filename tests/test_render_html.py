"""The HTML report: one self-contained file that parses, with charts, tables and no URLs."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from rules_fixtures import NOW, inventory

from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.render import FORMATS, render
from toolkit.render.html import TrendPoint, render_html


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in ("meta", "br", "rect", "line", "img", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("rect", "line"):
            return
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _report() -> Report:
    f = [
        Finding("KEY001", Severity.CRITICAL, Target("dns1", "a.example"), "zone has no ZSK <b>9104</b>"),
        Finding("ROLL004", Severity.HIGH, Target("dns1", "a.example", "k1"), "rollover in RollError"),
        Finding(
            "SRV010",
            Severity.LOW,
            Target("dns1"),
            "root trust anchors URL is https://data.iana.org/root-anchors/root-anchors.xml",
        ),
    ]
    hosts = (
        HostReport("dns1", inventory=inventory(), findings=tuple(f), duration=1.5),
        HostReport("dns3", error=HostError("dns3", "cmdlet", "Access is denied.", 5)),
    )
    return Report(hosts=hosts, generated_at=NOW, policy_name="baseline", duration=2.0)


def _html(trend: list[TrendPoint] | None = None) -> str:
    out = io.StringIO()
    render_html(_report(), out, trend=trend)
    return out.getvalue()


def test_one_self_contained_file_that_parses() -> None:
    text = _html([TrendPoint("#1", {"high": 3, "low": 1}), TrendPoint("#2", {"critical": 1, "high": 1})])
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.stack == [] and p.tags[0] == "html"
    # no external assets, no URLs of any kind
    assert not re.search(r"(?i)https?:", text)
    for name, value in p.attrs:
        assert name not in ("src", "href"), (name, value)
    assert "<link" not in text and "@import" not in text
    # inline CSS and JS, two SVG charts
    assert text.count("<style>") == 1 and text.count("<script>") == 1
    assert text.count("<svg") == 2
    body = "".join(p.text)
    assert "data.iana.org" in body  # the URL text survives as text, defanged in the source
    assert "<b>9104</b>" in body and "<b>9104</b>" not in text  # escaped


def test_summary_servers_errors_and_sortable_findings() -> None:
    text = _html()
    assert text.count("<svg") == 1  # no trend without history
    rows = re.findall(r'<table class="sortable" id="findings-table">.*?<tbody>(.*?)</tbody>', text, re.S)[0]
    assert rows.count("<tr>") == 3
    # severity cells carry a numeric sort value, critical first
    assert re.findall(r'<td data-v="(\d)">', rows) == ["4", "3", "1"]
    assert "Access is denied." in text and ">cmdlet<" in text
    assert 'id="servers"' in text and ">dns3<" in text
    assert "addEventListener('click'" in text


def test_registered_as_a_report_format() -> None:
    assert "html" in FORMATS
    out = io.StringIO()
    render(_report(), "html", out)
    assert out.getvalue().startswith("<!DOCTYPE html>")


def test_hosts_not_scanned_are_named() -> None:
    import dataclasses

    out = io.StringIO()
    render_html(dataclasses.replace(_report(), interrupted=True, not_scanned=("dns7", "dns<8>")), out)
    text = out.getvalue()
    assert "2 host(s) not scanned: dns7, dns&lt;8&gt;" in text
    assert "not scanned" not in _html()
