"""Human-readable report: grouped by server and zone, coloured by severity (rich) only on request."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import TextIO

from toolkit.catalogue import describe_win32
from toolkit.findings import Finding, Report, Severity
from toolkit.policy import Policy
from toolkit.render.common import key_label
from toolkit.safetext import for_terminal

__all__ = ["STYLES", "render"]

STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

#: not-scanned hosts named in the table before "and N more"
_NOT_SCANNED_SHOWN = 20

Line = list[tuple[str, str]]  # (text, rich style) segments


def _finding_lines(findings: Iterable[Finding], suppressed: bool) -> list[Line]:
    out: list[Line] = []
    by_zone = groupby(sorted(findings, key=lambda f: f.sort_key), key=lambda f: f.target.zone or "")
    for zone, group in by_zone:
        out.append([("  " + (zone or "(server)"), "bold")])
        for f in group:
            sev = f.severity.label.upper()
            label = key_label(f)
            key = f"  [{label}]" if label else ""
            style = "dim" if suppressed else STYLES[f.severity]
            line: Line = [
                ("    ", ""),
                (f"{sev:<8}", style),
                (f" {f.rule_id:<8} ", "bold"),
                (f.message + key, ""),
            ]
            if suppressed:
                line.append((f"  (suppressed: {f.suppressed_reason})", "italic"))
            out.append(line)
    return out


def _lines(report: Report) -> list[Line]:
    lines: list[Line] = []
    for host in report.hosts:
        zones = len(host.inventory.zones) if host.inventory else 0
        head = f"{host.server}"
        if host.error is not None:
            code = ""
            if host.error.code is not None and describe_win32(host.error.code) not in host.error.message:
                code = f" [{describe_win32(host.error.code)}]"
            lines.append(
                [
                    (head, "bold"),
                    ("  ERROR ", "bold red"),
                    (f"{host.error.kind}: {host.error.message}{code}", ""),
                ]
            )
            lines.append([])
            continue
        lines.append([(head, "bold"), (f"  {zones} zones, {len(host.findings)} findings", "dim")])
        if not host.findings and not host.suppressed:
            lines.append([("  no findings", "green")])
        lines.extend(_finding_lines(host.findings, suppressed=False))
        if host.suppressed:
            lines.append([("  suppressed:", "dim")])
            lines.extend(_finding_lines(host.suppressed, suppressed=True))
        lines.append([])
    s = report.summary()
    counts = ", ".join(f"{n} {label}" for label, n in s["by_severity"].items() if n)
    summary = (
        f"Summary: {s['hosts']} host(s) ({s['hosts_failed']} failed), {s['zones']} zones, "
        f"{s['findings']} findings" + (f" ({counts})" if counts else "") + f", {s['suppressed']} suppressed"
    )
    if report.interrupted:
        summary += ", INTERRUPTED"
    if report.not_scanned:
        summary += f", {len(report.not_scanned)} host(s) not scanned"
        names = report.not_scanned[:_NOT_SCANNED_SHOWN]
        more = len(report.not_scanned) - len(names)
        lines.append(
            [("Not scanned: ", "bold yellow"), (", ".join(names) + (f" and {more} more" if more else ""), "")]
        )
    lines.append([(summary, "bold")])
    return lines


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    """The report as lines of text; what came from a server (names, messages) is shown with
    ``for_terminal``, so no control character, escape sequence or bidi override reaches the
    terminal as it is (a newline in a name cannot start a row of its own)."""
    lines = [[(for_terminal(text), style) for text, style in line] for line in _lines(report)]
    if policy is not None:
        lines.insert(0, [(f"Policy: {policy.name} (fail on {policy.fail_on.label})", "dim")])
    if not color:
        for line in lines:
            stream.write("".join(text for text, _ in line).rstrip() + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for line in lines:
        # Text.assemble takes its parts as text, never as markup
        console.print(Text.assemble(*[(text, style) if style else text for text, style in line]))
