"""``windns explain CODE``: a Win32 DNS error code or a rule id, explained.

Its own module so that explaining an error code loads the catalogue's data only: the rules (and
the engine they come with) are imported when ``CODE`` has the shape of a rule id. The text for a
code is ``toolkit.catalogue_lookup.explanation``'s, which ``toolkit.console`` prints without click
for ``windns explain CODE``.
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
    if RULE_ID.match(code.strip()):
        from toolkit.rules import explain_rule

        text = explain_rule(code)
        if text:
            click.echo(text)
            return
    from toolkit.catalogue_lookup import explanation

    click.echo(explanation(code))
