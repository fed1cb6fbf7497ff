"""The `windns` command line. ``main`` is the click group (and the console script).

Each command module registers its commands on ``main`` when imported. The table below is the
one place that says which modules make up the CLI: each top-level command, the modules that
define it (imported when the command is looked up, so a command loads only what it uses) and
the first paragraph of its help for the ``--help`` list. ``tests/test_cli_registry.py`` holds
it to the commands the modules define.

The console script answers ``windns --help`` without click, from click's rendering stored in
``toolkit/help_text.py``: after changing this table, a command's help or a root option, run
``python -m toolkit.cli.help_snapshot`` (``tests/test_cli_fast_start.py`` fails until then).
"""

from toolkit.cli.app import AppContext, LazyCommand, main, run

__all__ = ["AppContext", "main", "run"]

_READ = "toolkit.cli.read_cmds"  # zones list, keys list, audit, demo
_ADMIN = "toolkit.cli.admin_cmds"  # keys add/remove/set/rollover, zones sign/unsign/dnssec/export-keys
_SCAN = "toolkit.cli.scan_cmds"  # scan, history, diff, rollovers
_RULES = "toolkit.cli.rules_cmds"  # rules list/explain, policy show
_FIX = "toolkit.cli.fix_cmds"  # fix, demo export

COMMANDS: dict[str, LazyCommand] = {
    "audit": LazyCommand((_READ,), "Audit one server's DNSSEC configuration against the policy."),
    "demo": LazyCommand(
        (_READ, _FIX), "The bundled demo fleet: servers, zones and what each zone illustrates."
    ),
    "diff": LazyCommand(
        (_SCAN,),
        "What changed between two scans (default: the latest and the scan of the same inventory "
        "before it; one SCAN_A: it against the latest).",
    ),
    "dns": LazyCommand(
        ("toolkit.cli.dns_cmds",), "The outside-in DNSSEC view: what a server publishes over DNS."
    ),
    "doctor": LazyCommand(
        ("toolkit.cli.doctor_cmd",),
        "Check step by step that one server can be audited, each step with a verdict.",
    ),
    "explain": LazyCommand(
        ("toolkit.cli.explain_cmd",),
        "Explain a Win32 DNS error code (9104, 0x2390, DNS_ERROR_...) or a rule id.",
    ),
    "fake-server": LazyCommand(
        ("toolkit.cli.fakeserver_cmd",),
        "Serve simulated DNS servers over WinRM (PSRP and WinRS) on 127.0.0.1, one port each.",
    ),
    "fix": LazyCommand((_FIX,), "Plan (and with --apply make) the safe fixes for an audit's findings."),
    "history": LazyCommand((_SCAN,), "Stored scans: list, show, prune."),
    "keys": LazyCommand((_READ, _ADMIN), "Signing keys (KSK/ZSK) of a server's zones."),
    "policy": LazyCommand((_RULES,), "Compliance policies (built-in profiles and policy files)."),
    "rollovers": LazyCommand(
        (_SCAN,),
        "The rollover calendar of the fleet from the latest scan: next, stuck and overdue rollovers.",
    ),
    "rules": LazyCommand((_RULES,), "The compliance rules: ids, severities, what they check and why."),
    "scan": LazyCommand(
        (_SCAN,), "Audit every server of an inventory concurrently and record the scan in the history."
    ),
    "zones": LazyCommand(
        (_READ, _ADMIN), "Zones on a server: list them; sign, unsign, DNSSEC settings, export public keys."
    ),
}

main.register_lazy(COMMANDS)
