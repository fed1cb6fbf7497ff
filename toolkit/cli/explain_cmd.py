"""``windns explain CODE``: a Win32 DNS error code or a rule id, explained.

Its own module so that explaining an error code loads the catalogue only: the rules (and the
engine they come with) are imported when ``CODE`` has the shape of a rule id.
"""

from __future__ import annotations

import click

from toolkit.cli.app import main
from toolkit.rule_ids import RULE_ID

__all__ = ["explain_cmd"]


@main.command("explain")
@click.argument("code")
def explain_cmd(code: str) -> None:
    """Explain a Win32 DNS error code (9104, 0x2390, DNS_ERROR_...) or a rule id."""
    from toolkit.catalogue import lookup

    if RULE_ID.match(code.strip()):
        from toolkit.rules import explain_rule

        text = explain_rule(code)
        if text:
            click.echo(text)
            return
    err = lookup(code)
    click.echo(f"{err.name} ({err.code}, {err.hex})")
    click.echo(err.message)
    for title, body in (("Cause", err.cause), ("Diagnose", err.diagnose), ("Resolve", err.resolve)):
        if body:
            click.echo(f"\n{title}:\n{body}")
