"""Rule and policy commands: ``windns rules list|explain``, ``windns policy show``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.cli.app import main

__all__ = ["policy_group", "rules_group"]


@main.group("rules")
def rules_group() -> None:
    """The compliance rules: ids, severities, what they check and why."""


@rules_group.command("list")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
@click.option(
    "--profile", default=None, help="Mark which rules this built-in profile selects, with its severities."
)
@click.option(
    "--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path), help="Policy file (TOML)."
)
def rules_list(fmt: str, profile: str | None, policy_file: Path | None) -> None:
    """List every rule. JSON: a list of {id, title, severity, scope, area, checks, why,
    remediation, references, stig, win32} (plus selected and effective_severity with a policy)."""
    from toolkit.policy import load_policy
    from toolkit.rules import RULES

    policy = load_policy(policy_file, profile or "baseline") if (profile or policy_file) else None
    rows = []
    for rule in RULES:
        row = rule.to_dict()
        if policy is not None:
            row["selected"] = policy.is_selected(rule.id)
            row["effective_severity"] = policy.severity_for(rule.id, rule.severity).label
        rows.append(row)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        sev = row.get("effective_severity", row["severity"])
        mark = "" if row.get("selected", True) else "  (not selected)"
        click.echo(f"{row['id']:<8} {sev:<8} {row['title']}{mark}")
    click.echo(f"{len(rows)} rules")


@rules_group.command("explain")
@click.argument("rule_id")
def rules_explain(rule_id: str) -> None:
    """Explain one rule: what it checks, why, remediation, references."""
    from toolkit.errors import ConfigError
    from toolkit.rules import explain_rule

    text = explain_rule(rule_id)
    if text is None:
        raise ConfigError(f"unknown rule {rule_id!r}; see `windns rules list`")
    click.echo(text)


@main.group("policy")
def policy_group() -> None:
    """Compliance policies (built-in profiles and policy files)."""


@policy_group.command("show")
@click.option(
    "--profile", default="baseline", show_default=True, help="Built-in profile: baseline, rfc, stig."
)
@click.option(
    "--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path), help="Policy file (TOML)."
)
@click.option("--format", "-f", "fmt", type=click.Choice(("toml", "json")), default="toml", show_default=True)
def policy_show(profile: str, policy_file: Path | None, fmt: str) -> None:
    """Print the effective policy (a profile, or a policy file over the profile it extends)."""
    from toolkit.policy import load_policy, policy_to_dict, policy_to_toml

    policy = load_policy(policy_file, profile)
    if fmt == "json":
        click.echo(json.dumps(policy_to_dict(policy), indent=2))
    else:
        click.echo(policy_to_toml(policy), nl=False)
