"""GitHub Actions annotations: one workflow command per active finding and per host error, so a
``windns scan -f github`` step marks the inventory file in the run summary and on pull requests
(the ``github`` output format of ruff and other linters).

Syntax and escaping as GitHub documents them ("Workflow commands for GitHub Actions":
``::error file={name},line={line},title={title}::{message}``): in the message ``%``, CR and LF
are written ``%25``, ``%0D``, ``%0A``; in a property also ``:`` and ``,`` (``%3A``, ``%2C``).
The job log is a terminal of sorts: what a server names (zones, messages) has its control and
bidirectional characters escaped first, as on the terminal (``\x1b``, ``\n``), so no text from a
server can colour the log or start a workflow command of its own.
Levels: critical and high ``error``, medium ``warning``, low and info ``notice``. GitHub shows
a limited number of annotations of each level per step, so the worst come first. A host no
inventory file names (``--host``, the demo fleet) gets an annotation without a file. Suppressed
findings are not annotated.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from toolkit.findings import Finding, Report, Severity
from toolkit.policy import Policy
from toolkit.render.common import Place, host_place, target_label
from toolkit.safetext import for_terminal

__all__ = ["LEVELS", "escape_data", "escape_property", "render", "workflow_commands"]

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return for_terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, props: Mapping[str, str | int], message: str) -> str:
    head = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    return f"::{level} {head}::{escape_data(message)}" if head else f"::{level}::{escape_data(message)}"


def _where(place: Place) -> dict[str, str | int]:
    return {"file": place.path, "line": place.line} if place.in_file else {}


def workflow_commands(report: Report, *, root: Path | None = None) -> list[str]:
    """The workflow commands, worst first: host errors, then findings by severity."""
    out: list[str] = []
    rows: list[tuple[Finding, Place]] = []
    for h in report.hosts:
        place = host_place(h, root)
        if h.error is not None:
            e = h.error
            props = {**_where(place), "title": f"windns: {e.server} not audited ({e.kind})"}
            out.append(_command("error", props, f"{e.server}: {e.message}"))
        rows += [(f, place) for f in h.findings]
    if report.not_scanned:
        out.append(
            _command(
                "error",
                {"title": "windns: scan interrupted"},
                f"{len(report.not_scanned)} host(s) not scanned: {', '.join(report.not_scanned)}",
            )
        )
    rows.sort(key=lambda fp: (-int(fp[0].severity), fp[0].sort_key))
    for f, place in rows:
        props = {
            **_where(place),
            "title": f"windns {f.rule_id} ({f.severity.label}): {report.rules.title(f.rule_id)}",
        }
        out.append(_command(LEVELS[f.severity], props, f"{target_label(f)}: {f.message}"))
    return out


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    for line in workflow_commands(report):
        stream.write(line + "\n")
