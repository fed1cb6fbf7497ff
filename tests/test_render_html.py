"""The HTML report: one self-contained file that parses, with charts, tables and no URLs."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rules_fixtures import NOW, inventory

from toolkit.findings import Finding, HostError, HostReport, Report, Severity, Target
from toolkit.render import FORMATS, render
from toolkit.render.html import TrendPoint, render_html
from toolkit.rules import RULE_BOOK


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
        if tag not in ("meta", "br", "rect", "line", "img", "link", "input"):
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
    return Report(hosts=hosts, generated_at=NOW, policy_name="baseline", duration=2.0, rules=RULE_BOOK)


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


def _timeline_report() -> Report:
    from rules_fixtures import D, key, zone

    z = zone(
        "t.example",
        keys=(
            key("KSK", 1, zone="t.example", next_rollover_time=NOW + 45 * D),
            key("ZSK", 2, zone="t.example", next_rollover_time=NOW + 200 * D),  # past the window
            key("ZSK", 3, zone="t.example", next_rollover_time=NOW - 5 * D),  # overdue
        ),
    )
    record = Finding(
        "DNS000",
        Severity.INFO,
        Target("dns1"),
        "DNS view",
        {"zones": {"t.example": {"reachable": True, "keys": ["KSK tag 40112 (RSASHA256 2048 bits)"]}}},
    )
    old_alg = Finding(
        "ALG001",
        Severity.HIGH,
        Target("dns1", "t.example", "00000000-0000-0000-0000-000000000001"),
        "RsaSha1",
    )
    host = HostReport("dns1", inventory=inventory(z), findings=(record, old_alg))
    return Report(hosts=(host,), generated_at=NOW, rules=RULE_BOOK)


def _circles(text: str) -> dict[str, tuple[float, str, str]]:
    """key id -> (x, state, tooltip) of each timeline mark."""
    svg = re.search(r'<section id="rollovers">.*?</section>', text, re.S)
    assert svg is not None
    out = {}
    for x, state, tip in re.findall(
        r'<circle cx="([\d.]+)" cy="[\d.]+" r="5" fill="#\w+" data-state="(\w+)"><title>(.*?)</title>',
        svg.group(0),
    ):
        key_id = re.search(r"0{8}-0{4}-0{4}-0{4}-\d{12}", tip)
        assert key_id is not None
        out[key_id.group(0)] = (float(x), state, tip)
    return out


def test_rollover_timeline_shows_the_next_90_days_per_zone_and_key() -> None:
    out = io.StringIO()
    render_html(_timeline_report(), out)
    text = out.getvalue()
    marks = _circles(text)
    ksk, overdue = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000003"
    assert set(marks) == {ksk, overdue}  # the rollover in 200 days is not in the window
    assert marks[overdue][1] == "overdue" and marks[ksk][1] == "scheduled"
    # day 45 of 90 is half-way along the axis; overdue sits at its start
    axis = [
        float(x)
        for x in re.findall(r'<line x1="([\d.]+)" y1="\d+" x2="[\d.]+" y2="\d+" stroke="#e0e0e0"/>', text)
    ]
    start, end = min(axis), max(axis)
    assert marks[overdue][0] == start
    assert abs(marks[ksk][0] - (start + end) / 2) < 0.2
    assert "t.example" in marks[ksk][2] and "KSK" in marks[ksk][2]
    assert "Rollovers in the next 90 days (2)" in text


def test_findings_carry_remediation_served_key_tags_and_a_filter_box() -> None:
    from toolkit.rules import get_rule

    out = io.StringIO()
    render_html(_timeline_report(), out)
    text = out.getvalue()
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.stack == []
    assert ("id", "filter") in p.attrs and ("type", "search") in p.attrs
    assert "getElementById('filter')" in text and "#findings-table tbody tr" in text
    rows = re.findall(r'<table class="sortable" id="findings-table">.*?<tbody>(.*?)</tbody>', text, re.S)[0]
    alg = next(r for r in rows.split("</tr>") if "ALG001" in r)
    rule = get_rule("ALG001")
    assert rule is not None
    first_line = rule.remediation.splitlines()[0]
    assert "<summary>Remediation</summary>" in alg
    assert first_line in html.unescape(re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), alg))
    assert "served: KSK tag 40112 (RSASHA256 2048 bits)" in alg


def test_trend_only_counts_scans_of_the_same_inventory(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import main

    db = str(tmp_path / "h.db")
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    for path, name in ((a, "dns1"), (b, "dns2")):
        path.write_text(f'[defaults]\ntransport = "fake"\n\n[[servers]]\nname = "{name}"\n', encoding="utf-8")
    runner = CliRunner()
    for inv in (a, b, a):
        assert runner.invoke(main, ["scan", str(inv), "--db", db, "-f", "json"]).exit_code == 1
    html_out = tmp_path / "a.html"
    r = runner.invoke(main, ["scan", str(a), "--db", db, "-f", "html", "-o", str(html_out)])
    assert r.exit_code == 1, r.output + r.stderr
    text = html_out.read_text(encoding="utf-8")
    labels = re.findall(r'font-size="10">(#\d+) \d\d-\d\d</text>', text)
    assert labels == ["#1", "#3", "#4"]  # scan #2 was of b.toml
    assert "Findings over the last 3 scans" in text


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_filter_box_keeps_the_rows_that_hold_the_text() -> None:
    """The page's own script, run by node against a minimal DOM of the findings table."""
    report = _report()
    out = io.StringIO()
    render_html(report, out)
    script = re.search(r"<script>(.*?)</script>", out.getvalue(), re.S)
    assert script is not None
    rows = re.findall(r'id="findings-table">.*?<tbody>(.*?)</tbody>', out.getvalue(), re.S)[0].split("</tr>")[
        :-1
    ]
    texts = [html.unescape(re.sub(r"<[^>]+>", " ", r)) for r in rows]
    shim = """
const rows = ROWS.map(t => ({textContent: t, style: {display: ''}}));
const handlers = {};
const filter = {value: '', addEventListener: (e, h) => { handlers[e] = h; }};
const count = {textContent: ''};
globalThis.document = {
  getElementById: id => ({filter: filter, 'filter-count': count})[id] || null,
  querySelectorAll: sel => sel === '#findings-table tbody tr' ? rows : [],
};
SCRIPT
const shown = q => { filter.value = q; handlers.input();
  return rows.map(r => r.style.display !== 'none'); };
console.log(JSON.stringify([shown('ROLL004'), count.textContent, shown('DNS1'), shown('')]));
""".replace("ROWS", json.dumps(texts)).replace("SCRIPT", script.group(1))
    done = subprocess.run(["node", "-e", shim], capture_output=True, text=True, timeout=60, check=True)
    roll, counted, dns1, everything = json.loads(done.stdout)
    assert roll == ["ROLL004" in t for t in texts] and sum(roll) == 1
    assert counted == f"1 of {len(texts)} shown"
    assert all(dns1) and all(everything)  # case-insensitive; an empty box shows every row
