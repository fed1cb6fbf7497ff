"""Report renderers, one module per format; ``FORMATS`` maps a format name to its ``render``.

Every renderer has the signature of ``Renderer``: it writes one report to a text stream and
nothing else (the exit code comes from ``Report.exit_code``, never from a renderer). Adding a
format is one import and one entry in ``FORMATS``. The STIG checklists (``ckl``, ``cklb``) are
one document per server: they render a one-server report, and ``CHECKLIST_FORMATS`` tells the
commands to write a fleet as one file per server (``toolkit.render.checklist_files.write_checklists``).
"""

from __future__ import annotations

from typing import Protocol, TextIO

from toolkit.errors import ConfigError
from toolkit.findings import Report
from toolkit.policy import Policy
from toolkit.render import csv, github, gitlab, html, json, junit, prometheus, sarif, table
from toolkit.render.ckl import render_ckl
from toolkit.render.cklb import render_cklb

__all__ = ["CHECKLIST_FORMATS", "FORMATS", "Renderer", "render"]


class Renderer(Protocol):
    def __call__(self, report: Report, stream: TextIO, *, policy: Policy | None, color: bool) -> None: ...


FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json.render,
    "csv": csv.render,
    "sarif": sarif.render,
    "github": github.render,
    "gitlab": gitlab.render,
    "junit": junit.render,
    "html": html.render,
    "prometheus": prometheus.render,
    "ckl": render_ckl,
    "cklb": render_cklb,
}

#: formats that hold one server each: a fleet report is written as one file per server
CHECKLIST_FORMATS = frozenset({"ckl", "cklb"})


def render(
    report: Report, fmt: str, stream: TextIO, *, policy: Policy | None = None, color: bool = False
) -> None:
    """Write ``report`` to ``stream`` in format ``fmt`` (a key of ``FORMATS``)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ConfigError(
            f"unknown report format {fmt!r}; choose one of {', '.join(sorted(FORMATS))}"
        ) from None
    renderer(report, stream, policy=policy, color=color)
