"""Self-contained HTML report: one file, no external assets, no network, no URLs.

Inline CSS, a few lines of inline JavaScript (click a findings column header to sort; type in
the filter box to keep the rows that hold the text) and inline SVG charts: findings per
severity, the rollover timeline (each key's next rollover in the next 90 days, per zone and key;
overdue and stuck rollovers at the left edge), and findings per severity over the last scans
when a ``trend`` is given (``windns scan`` passes the history's scans of the same inventory).
Each finding carries its rule's remediation (folded) and, for the keys the DNS view saw, the
zone's served DNSKEY key tags. Any ``http`` in report text (a server
setting that holds a URL, say) is written as a character reference, so the file holds no URL a
browser or a scanner could follow.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TextIO

from toolkit.findings import Finding, HostReport, Report, RuleBook, Severity
from toolkit.model import zone_key
from toolkit.policy import Policy
from toolkit.render.common import key_label
from toolkit.rollovers import RolloverEntry, rollover_calendar

__all__ = ["TIMELINE_DAYS", "TrendPoint", "render", "render_html"]

#: the rollover timeline's window
TIMELINE_DAYS = 90
#: rows the timeline draws at most (a fleet's keys past that are counted, not drawn)
TIMELINE_ROWS = 150
STATE_COLORS = {
    "stuck": "#7b1fa2",
    "overdue": "#c62828",
    "rolling": "#ef6c00",
    "unknown": "#757575",
    "scheduled": "#1565c0",
}

COLORS = {
    "critical": "#7b1fa2",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#1565c0",
    "info": "#757575",
}
_ORDER = [s.label for s in sorted(Severity, reverse=True)]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One earlier scan for the trend chart: a label (scan id/date) and counts by severity."""

    label: str
    counts: Mapping[str, int]


_HTTP = re.compile(r"(?i)h(ttps?)")


def esc(value: object) -> str:
    """HTML-escape, and hide URL schemes behind a character reference."""
    text = html.escape(str(value), quote=True)
    return _HTTP.sub(lambda m: f"&#{ord(m.group(0)[0])};{m.group(1)}", text)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8}main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 8px}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}.charts{display:flex;flex-wrap:wrap;gap:24px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;
vertical-align:top}th{background:#f5f5f5;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" \\2195";opacity:.35}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:600}
.bad{color:#c62828;font-weight:600}.ok{color:#2e7d32;font-weight:600}.muted{color:#777}
.warn{background:#fff3e0;border-color:#ffb74d}code{font-size:12px}
#filter{font:inherit;padding:4px 8px;width:320px;margin:0 0 8px}
details summary{cursor:pointer;color:#1565c0}pre{white-space:pre-wrap;margin:4px 0;font-size:12px}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.dir!=='asc';
      t.querySelectorAll('th').forEach(function(o){delete o.dataset.dir;});th.dataset.dir=asc?'asc':'desc';
      rows.sort(function(x,y){
        var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent;
        var na=parseFloat(a),nc=parseFloat(c),r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);
        return asc?r:-r;});
      rows.forEach(function(r){b.appendChild(r);});});});});
var f=document.getElementById('filter');
if(f){f.addEventListener('input',function(){
  var q=f.value.toLowerCase(),shown=0,rows=document.querySelectorAll('#findings-table tbody tr');
  rows.forEach(function(r){var hit=r.textContent.toLowerCase().indexOf(q)>=0;
    r.style.display=hit?'':'none';if(hit){shown++;}});
  document.getElementById('filter-count').textContent=q?shown+' of '+rows.length+' shown':'';});}
"""


def _sev_badge(label: str) -> str:
    return f'<span class="sev" style="background:{COLORS.get(label, "#555")}">{esc(label.upper())}</span>'


def _bar_chart(counts: Mapping[str, int]) -> str:
    width, bar_h, gap, left = 420, 22, 8, 80
    top = max(counts.values(), default=0) or 1
    rows = []
    for i, label in enumerate(_ORDER):
        n = counts.get(label, 0)
        y = i * (bar_h + gap)
        w = round((width - left - 50) * n / top)
        rows.append(
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" font-size="12">{esc(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{max(w, 1 if n else 0)}" height="{bar_h}" '
            f'fill="{COLORS[label]}"><title>{esc(label)}: {n}</title></rect>'
            f'<text x="{left + w + 6}" y="{y + 16}" font-size="12">{n}</text>'
        )
    height = len(_ORDER) * (bar_h + gap)
    return (
        f'<svg role="img" aria-label="Findings per severity" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(rows)}</svg>'
    )


def _trend_chart(points: Sequence[TrendPoint]) -> str:
    width, height, left, bottom, top_pad = 520, 200, 40, 36, 10
    n = len(points)
    top = max((sum(p.counts.values()) for p in points), default=0) or 1
    slot = (width - left - 10) / max(n, 1)
    bar_w = max(4.0, min(40.0, slot * 0.6))
    plot_h = height - bottom - top_pad
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, p in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(height - bottom)
        for label in reversed(_ORDER):  # info at the bottom, critical on top
            v = p.counts.get(label, 0)
            if not v:
                continue
            h = plot_h * v / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{COLORS[label]}"><title>{esc(p.label)}: {v} {esc(label)}</title></rect>'
            )
        total = sum(p.counts.values())
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{max(y - 3, 9):.1f}" text-anchor="middle" '
            f'font-size="10">{total}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{esc(p.label)}</text>'
        )
    legend_x = left
    for label in _ORDER:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" fill="{COLORS[label]}"/>'
            f'<text x="{legend_x + 13}" y="{height - 3}" font-size="10">{esc(label)}</text>'
        )
        legend_x += 70
    return (
        f'<svg role="img" aria-label="Findings over the last scans" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def _served_tags(host: HostReport) -> dict[str, list[str]]:
    """Per zone (lower case, no final dot), the DNSKEYs the DNS view saw ("KSK tag 12345 ..."),
    from DNS000's evidence; empty without the view."""
    out: dict[str, list[str]] = {}
    for f in (*host.findings, *host.suppressed):
        zones = f.evidence.get("zones") if f.rule_id == "DNS000" else None
        if not isinstance(zones, Mapping):
            continue
        for zone, seen in zones.items():
            keys = seen.get("keys") if isinstance(seen, Mapping) else None
            if isinstance(keys, list | tuple):
                out[zone_key(str(zone))] = [str(k) for k in keys]
    return out


def _key_cell(f: Finding, tags: Mapping[str, list[str]]) -> str:
    parts = [f"<code>{esc(f.target.key_id)}</code>"] if f.target.key_id else []
    label = key_label(f)
    tag = f.evidence.get("key_tag")
    if label and "key_algorithm" in f.evidence:
        # the key tag (or why it is unknown), type and algorithm, as every report shows them
        parts.append(f'<br><span class="muted">{esc(label.rsplit(", id ", 1)[0])}</span>')
    elif isinstance(tag, int) and str(tag) != f.target.key_id:
        parts.append(f'<span class="muted">tag {tag}</span>')
    served = tags.get(zone_key(f.target.zone or ""), [])
    if served and f.target.key_id:
        parts.append(f'<br><span class="muted">served: {esc("; ".join(served))}</span>')
    return "".join(parts)


def _remediation(rule_id: str, rules: RuleBook) -> str:
    rule = rules.get(rule_id)
    if rule is None or not rule.remediation:
        return ""
    return f"<details><summary>Remediation</summary><pre>{esc(rule.remediation)}</pre></details>"


def _finding_row(f: Finding, tags: Mapping[str, list[str]], rules: RuleBook) -> str:
    sev = f.severity
    return (
        f'<tr><td data-v="{int(sev)}">{_sev_badge(sev.label)}</td>'
        f"<td><code>{esc(f.rule_id)}</code></td><td>{esc(rules.title(f.rule_id))}</td>"
        f"<td>{esc(f.target.server)}</td><td>{esc(f.target.zone or '')}</td>"
        f"<td>{_key_cell(f, tags)}</td><td>{esc(f.message)}{_remediation(f.rule_id, rules)}</td></tr>"
    )


def _timeline_entries(report: Report, policy: Policy | None) -> list[RolloverEntry]:
    inventories = [(h.server, h.inventory) for h in report.hosts if h.inventory is not None]
    return rollover_calendar(
        inventories, within=timedelta(days=TIMELINE_DAYS), now=report.generated_at, policy=policy
    )


def _timeline(entries: Sequence[RolloverEntry], report: Report) -> str:
    """One row per key (server, zone, key type and id), a mark at its next rollover on a 90-day
    axis from the report's time; overdue and stuck keys at the left edge."""
    now = report.generated_at
    drawn = list(entries[:TIMELINE_ROWS])
    left, right, row_h, top = 330, 20, 16, 24
    width = 980
    span = width - left - right
    height = top + row_h * len(drawn) + 10
    parts = []
    for d in range(0, TIMELINE_DAYS + 1, 15):
        x = left + span * d / TIMELINE_DAYS
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="#e0e0e0"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="10">'
            f"{esc((now + timedelta(days=d)).strftime('%m-%d'))}</text>"
        )
    for i, e in enumerate(drawn):
        y = top + i * row_h
        days = (e.next_time - now).total_seconds() / 86400 if e.next_time is not None else 0.0
        x = left + span * min(max(days, 0.0), TIMELINE_DAYS) / TIMELINE_DAYS
        color = STATE_COLORS.get(e.state, "#1565c0")
        when = e.next_time.strftime("%Y-%m-%d %H:%M") if e.next_time else "no time"
        label = f"{e.server} / {e.zone} {e.key_type} {e.key_id[:8]}"
        if len(label) > 54:  # the whole name is in the tooltip
            label = label[:25] + "\u2026" + label[-28:]
        tip = f"{e.server} / {e.zone} {e.key_type} {e.key_id} ({e.algorithm}): {e.state}, {when}"
        if e.detail:
            tip += f" ({e.detail})"
        parts.append(
            f'<text x="{left - 8}" y="{y + 11}" text-anchor="end" font-size="11">{esc(label)}</text>'
            f'<line x1="{left}" y1="{y + 7}" x2="{width - right}" y2="{y + 7}" stroke="#f3f3f3"/>'
            f'<circle cx="{x:.1f}" cy="{y + 7}" r="5" fill="{color}" data-state="{esc(e.state)}">'
            f"<title>{esc(tip)}</title></circle>"
        )
    return (
        f'<svg role="img" aria-label="Rollovers in the next {TIMELINE_DAYS} days" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def render_html(
    report: Report,
    stream: TextIO,
    *,
    policy: Policy | None = None,
    trend: Sequence[TrendPoint] | None = None,
    title: str = "windns fleet compliance report",
) -> None:
    s = report.summary()
    by_sev: dict[str, int] = s["by_severity"]
    policy_name = policy.name if policy is not None else report.policy_name
    w = stream.write
    w('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w(f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n")
    w(
        f"<header><h1>{esc(title)}</h1>"
        f"<p>Generated {esc(report.generated_at.strftime('%Y-%m-%d %H:%M:%S %Z'))}"
        f" &middot; policy {esc(policy_name)}"
        + (f" (fail on {esc(policy.fail_on.label)})" if policy is not None else "")
        + f" &middot; {report.duration:.1f} s</p></header>\n<main>\n"
    )
    if report.interrupted:
        w(
            '<section class="warn"><b>This scan was interrupted:</b> only the hosts listed below were '
            "audited.</section>\n"
        )
    cards = [
        ("Hosts", s["hosts"]),
        ("Hosts OK", s["hosts_ok"]),
        ("Hosts failed", s["hosts_failed"]),
        ("Zones", s["zones"]),
        ("Findings", s["findings"]),
        ("Suppressed", s["suppressed"]),
    ]
    w('<section id="summary"><h2>Summary</h2><div class="cards">')
    for label, n in cards:
        cls = ' class="bad"' if label == "Hosts failed" and n else ""
        w(f'<div class="card"><span class="muted">{esc(label)}</span><b{cls}>{n}</b></div>')
    for label in _ORDER:
        w(f'<div class="card">{_sev_badge(label)}<b>{by_sev.get(label, 0)}</b></div>')
    w("</div></section>\n")
    w(
        '<section id="charts"><h2>Charts</h2><div class="charts"><figure><figcaption>Findings per severity'
        f"</figcaption>{_bar_chart(by_sev)}</figure>"
    )
    if trend:
        w(
            f"<figure><figcaption>Findings over the last {len(trend)} scans</figcaption>{_trend_chart(trend)}"
            "</figure>"
        )
    w("</div></section>\n")
    entries = _timeline_entries(report, policy)
    w(f'<section id="rollovers"><h2>Rollovers in the next {TIMELINE_DAYS} days ({len(entries)})</h2>')
    if entries:
        legend = " ".join(
            f'<span class="sev" style="background:{c}">{esc(state)}</span>'
            for state, c in STATE_COLORS.items()
        )
        w(
            f'<p>{legend} <span class="muted">overdue and stuck keys sit at the left edge; '
            "hover for details</span></p>"
        )
        w(_timeline(entries, report))
        if len(entries) > TIMELINE_ROWS:
            w(f'<p class="muted">{len(entries) - TIMELINE_ROWS} more not drawn.</p>')
    else:
        w('<p class="muted">No rollover due in the window (or no key inventory in this report).</p>')
    w("</section>\n")
    # by server
    w(
        '<section id="servers"><h2>By server</h2><table class="sortable"><thead><tr><th>Server</th>'
        "<th>Status</th><th>Zones</th>"
        + "".join(f"<th>{esc(x)}</th>" for x in _ORDER)
        + "<th>Total</th><th>Duration (s)</th></tr></thead><tbody>"
    )
    for h in report.hosts:
        c = Counter(f.severity.label for f in h.findings)
        status = (
            '<span class="ok">ok</span>'
            if h.ok
            else f'<span class="bad">{esc(h.error.kind if h.error else "")}</span>'
        )
        zones = len(h.inventory.zones) if h.inventory else ""
        w(
            f"<tr><td>{esc(h.server)}</td><td>{status}</td><td>{zones}</td>"
            + "".join(f"<td>{c.get(x, 0)}</td>" for x in _ORDER)
            + f"<td>{len(h.findings)}</td><td>{h.duration:.2f}</td></tr>"
        )
    w("</tbody></table></section>\n")
    errors = report.host_errors
    w(f'<section id="errors"><h2>Host errors ({len(errors)})</h2>')
    if errors:
        w("<table><thead><tr><th>Server</th><th>Kind</th><th>Code</th><th>Message</th></tr></thead><tbody>")
        for e in errors:
            w(
                f"<tr><td>{esc(e.server)}</td><td>{esc(e.kind)}</td>"
                f"<td>{esc(e.code if e.code is not None else '')}</td><td>{esc(e.message)}</td></tr>"
            )
        w("</tbody></table>")
    elif not report.not_scanned:
        w('<p class="ok">Every host was audited.</p>')
    if report.not_scanned:
        names = ", ".join(esc(n) for n in report.not_scanned)
        w(f'<p class="warn">Interrupted: {len(report.not_scanned)} host(s) not scanned: {names}</p>')
    w("</section>\n")
    findings = sorted(report.findings, key=lambda f: (-int(f.severity), f.sort_key))
    w(f'<section id="findings"><h2>Findings ({len(findings)})</h2>')
    w(
        '<input id="filter" type="search" placeholder="Filter findings: server, zone, rule, text" '
        'aria-label="Filter findings"> <span id="filter-count" class="muted"></span>'
        '<p class="muted">Click a column header to sort.</p>'
        '<table class="sortable" id="findings-table"><thead><tr>'
        "<th>Severity</th><th>Rule</th><th>Title</th><th>Server</th><th>Zone</th><th>Key</th>"
        "<th>Message and remediation</th></tr></thead><tbody>"
    )
    rows = [(f, tags) for h in report.hosts for tags in (_served_tags(h),) for f in h.findings]
    rows.sort(key=lambda ft: (-int(ft[0].severity), ft[0].sort_key))
    for f, tags in rows:
        w(_finding_row(f, tags, report.rules))
    w("</tbody></table></section>\n")
    if report.suppressed:
        w(
            f'<section id="suppressed"><h2>Suppressed ({len(report.suppressed)})</h2><table><thead><tr>'
            "<th>Rule</th><th>Server</th><th>Zone</th><th>Reason</th></tr></thead><tbody>"
        )
        for f in report.suppressed:
            w(
                f"<tr><td><code>{esc(f.rule_id)}</code></td><td>{esc(f.target.server)}</td>"
                f"<td>{esc(f.target.zone or '')}</td><td>{esc(f.suppressed_reason or '')}</td></tr>"
            )
        w("</tbody></table></section>\n")
    w(f"</main><script>{_JS}</script></body></html>\n")


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    render_html(report, stream, policy=policy)
