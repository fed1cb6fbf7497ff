"""Policy: which rules run, at what severity, with which thresholds, and what is suppressed.

A policy is data: the built-in profiles are TOML files in ``toolkit/profiles/`` (``baseline``,
``rfc``, ``stig``) and a user's policy file is the same TOML, usually starting with
``extends = "rfc"``. ``load_policy(path, profile)`` returns one frozen ``Policy``; rules read
its ``thresholds``, the engine its selection, severity overrides and suppressions.

Selection follows flake8's DecisionEngine: ``select``/``extend-select``/``ignore`` hold id
prefixes; a rule runs when some selected prefix matches it and no *longer* ignored prefix does
(the longest prefix wins; a tie goes to ignore). ``"ALL"`` is the empty prefix. Every id or
prefix a file names (selection, ``[severity]`` keys, ``[[suppress]] rule``) must match at least
one registered rule: a typo such as ``ALG01`` is an error naming its line, not a silent no-op.

File format (every key optional; unknown keys are errors naming their line)::

    extends = "rfc"                 # baseline | rfc | stig (default baseline)
    name = "corp"
    classified-network = false      # true: STIG checklists mark the DNSSEC items Not_Applicable
    fail-on = "high"                # info | low | medium | high | critical
    select = ["ALL"]                # replaces the profile's selection
    extend-select = ["ZONE001"]     # adds to it
    ignore = ["NSEC002"]            # adds to the profile's ignores
    [severity]                      # per id or prefix (longest wins)
    ALG002 = "low"
    [thresholds]
    zsk-min-rsa-bits = 2048
    dnskey-validity-max = "168h"    # durations: "30m", "48h", "7d" or seconds
    rrsig-expiry-window = "48h"     # DNS008: served RRSIGs expiring sooner than this
    [[suppress]]
    rule = "ALG001"                 # id or prefix
    server = "dns1*"                # glob, default "*"
    zone = "legacy.*"               # glob, default "*"
    reason = "migration to ECDSA planned for Q3 (CHG-1234)"   # mandatory
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError
from toolkit.findings import Severity, fmt_td
from toolkit.model import zone_key
from toolkit.rules.registry import RULES_BY_ID
from toolkit.rules.thresholds import Thresholds

__all__ = [
    "PROFILES",
    "Policy",
    "Suppression",
    "Thresholds",
    "default_policy",
    "load_policy",
    "parse_duration",
    "parse_policy",
    "policy_to_dict",
    "policy_to_toml",
]

PROFILES = ("baseline", "rfc", "stig")
_ID_PREFIX = re.compile(r"^[A-Z]{0,4}[0-9]{0,3}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_KEY_LINE = re.compile(r"^\s*[\"']?[A-Za-z0-9_\-]+[\"']?\s*=")


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str
    reason: str
    server: str = "*"
    zone: str = "*"

    def matches(self, rule_id: str, server: str, zone: str | None) -> bool:
        """Rule prefix and server glob match; a server-level finding (no zone) needs zone ``*``."""
        if not rule_id.startswith(self.rule):
            return False
        if not fnmatch.fnmatchcase(server.lower(), self.server.lower()):
            return False
        if zone is None:
            return self.zone == "*"
        return fnmatch.fnmatchcase(zone_key(zone), zone_key(self.zone))


@dataclass(frozen=True, slots=True)
class Policy:
    name: str = "baseline"
    fail_on: Severity = Severity.HIGH
    select: tuple[str, ...] = ("",)
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    suppressions: tuple[Suppression, ...] = ()
    extends: str | None = None
    source: str | None = None  # the file it came from (None for a built-in profile)
    #: the STIG's DNSSEC checks do not apply on a classified network (checklists: Not_Applicable)
    classified_network: bool = False

    def is_selected(self, rule_id: str) -> bool:
        """flake8 semantics: the longest matching prefix decides; a tie goes to ``ignore``."""
        sel = _longest(rule_id, self.select)
        if sel is None:
            return False
        ign = _longest(rule_id, self.ignore)
        return ign is None or len(sel) > len(ign)

    def severity_for(self, rule_id: str, default: Severity) -> Severity:
        prefix = _longest(rule_id, self.severity.keys())
        return self.severity[prefix] if prefix is not None else default

    def suppression_for(self, rule_id: str, server: str, zone: str | None) -> Suppression | None:
        return next((s for s in self.suppressions if s.matches(rule_id, server, zone)), None)


def _longest(rule_id: str, prefixes: Iterable[str]) -> str | None:
    hits = [p for p in prefixes if rule_id.startswith(p)]
    return max(hits, key=len) if hits else None


# -- parsing ------------------------------------------------------------------------------------
def parse_duration(value: object) -> timedelta:
    """``"48h"``, ``"7d"``, ``"30m"``, ``"90s"`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "48h" or "7d"')
    if isinstance(value, int | float):
        secs = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        secs = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f'expected a duration such as "48h" or "7d", got {value!r}')
    if secs < 0:
        raise ValueError("a duration must not be negative")
    try:
        return timedelta(seconds=secs)
    except OverflowError:  # infinity, or more days than a timedelta holds
        raise ValueError(f"duration {value!r} is too large") from None


_TOP_KEYS = {
    "name",
    "extends",
    "fail-on",
    "classified-network",
    "select",
    "extend-select",
    "ignore",
    "severity",
    "thresholds",
    "suppress",
}


class _Located:
    """Finds the line of a key in the TOML text, for semantic errors tomllib cannot place."""

    def __init__(self, text: str, file: str) -> None:
        self.lines = text.splitlines()
        self.file = file

    def line_of(self, key: str, section: str | None = None, occurrence: int = 0) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        header = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"']+)\s*\]\]?")
        current: str | None = None
        seen = 0
        for no, line in enumerate(self.lines, start=1):
            h = header.match(line)
            if h:
                current = h.group(1).strip("\"'")
                if section is not None and current == section and key == "":
                    if seen == occurrence:
                        return no
                    seen += 1
                continue
            if key and current == section and pattern.match(line):
                if seen == occurrence:
                    return no
                seen += 1
        return None

    def line_of_value(self, key: str, value: str, section: str | None = None) -> int | None:
        """The line of ``value`` (a string in ``key``'s array, which may span lines), else ``key``'s."""
        start = self.line_of(key, section)
        if start is None:
            return None
        quoted = (f'"{value}"', f"'{value}'")
        for no in range(start, len(self.lines) + 1):
            line = self.lines[no - 1]
            if no > start and (line.lstrip().startswith("[") or _KEY_LINE.match(line)):
                break  # the next table or key: the array has ended
            if any(q in line for q in quoted):
                return no
        return start

    def error(
        self, message: str, key: str = "", section: str | None = None, occurrence: int = 0
    ) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line_of(key, section, occurrence))


def _profile_text(name: str) -> str:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return resources.files("toolkit").joinpath("profiles", f"{name}.toml").read_text(encoding="utf-8")


@functools.cache
def default_policy() -> Policy:
    """The baseline profile, read once: what the rule engines judge by when given no policy."""
    return load_policy()


def load_policy(path: Path | None = None, profile: str = "baseline") -> Policy:
    """The effective policy: a built-in ``profile``, or a policy file (which may ``extends`` one).

    With both, the file's own ``extends`` wins when present, else it extends ``profile``.
    Raises ``ConfigError`` (file and line) on any bad input.
    """
    if path is None:
        return parse_policy(_profile_text(profile), f"<profile {profile}>", base=None, builtin=profile)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read policy file: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("policy file is not UTF-8 text", file=str(path)) from None
    return parse_policy(text, str(path), default_extends=profile)


def parse_policy(
    text: str,
    file: str = "<policy>",
    *,
    base: Policy | None = None,
    builtin: str | None = None,
    default_extends: str = "baseline",
) -> Policy:
    """Parse policy TOML ``text``. ``builtin`` marks a bundled profile (no ``extends`` chain)."""
    loc = _Located(text, file)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = str(getattr(exc, "msg", None) or exc).split(" (at line")[0]
        if line is None and (m := re.search(r"line (\d+)", str(exc))):
            line = int(m.group(1))
        raise ConfigError(f"invalid TOML: {msg}", file=file, line=line) from None
    for key in doc:
        if key not in _TOP_KEYS:
            hint = _did_you_mean(key, _TOP_KEYS)
            raise loc.error(f"unknown key {key!r}{hint}", key)
    if base is None:
        if builtin is not None:
            base = Policy(name=builtin)
        else:
            ext = doc.get("extends", default_extends)
            if not isinstance(ext, str) or ext not in PROFILES:
                raise loc.error(f"extends must be one of {', '.join(PROFILES)}, got {ext!r}", "extends")
            base = load_policy(None, ext)
    return _apply(doc, base, loc, builtin)


def _did_you_mean(key: str, options: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _str_list(doc: Mapping[str, Any], key: str, loc: _Located, section: str | None = None) -> tuple[str, ...]:
    value = doc[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise loc.error(f"{key} must be a list of strings", key, section)
    return tuple(value)


def _unknown_prefix(prefix: str) -> str | None:
    """None when ``prefix`` ("" = ALL) matches a registered rule, else why not (with a suggestion)."""
    if any(rule_id.startswith(prefix) for rule_id in RULES_BY_ID):
        return None
    areas = {rule_id.rstrip("0123456789") for rule_id in RULES_BY_ID}
    hint = _did_you_mean(prefix, [*RULES_BY_ID, *areas])
    return f"matches no registered rule{hint}; see windns rules list"


def _prefixes(doc: Mapping[str, Any], key: str, loc: _Located) -> tuple[str, ...]:
    out = []
    for raw in _str_list(doc, key, loc):
        p = "" if raw.upper() == "ALL" else raw.strip().upper()
        if not _ID_PREFIX.match(p):
            raise loc.error(f"{key}: {raw!r} is not a rule id or id prefix (like KEY, KEY001, ALL)", key)
        if (why := _unknown_prefix(p)) is not None:
            raise ConfigError(f"{key}: {raw!r} {why}", file=loc.file, line=loc.line_of_value(key, raw))
        out.append(p)
    return tuple(out)


def _severity(value: object, key: str, loc: _Located, section: str | None = None) -> Severity:
    try:
        if not isinstance(value, str):
            raise ValueError(f"expected a severity name, got {value!r}")
        return Severity.parse(value)
    except ValueError as exc:
        raise loc.error(f"{key}: {exc}", key, section) from None


def _apply(doc: Mapping[str, Any], base: Policy, loc: _Located, builtin: str | None) -> Policy:
    changes: dict[str, Any] = {}
    if "name" in doc:
        if not isinstance(doc["name"], str) or not doc["name"].strip():
            raise loc.error("name must be a non-empty string", "name")
        changes["name"] = doc["name"].strip()
    elif builtin is None:
        changes["name"] = Path(loc.file).stem if not loc.file.startswith("<") else "custom"
    if "extends" in doc and builtin is None:
        changes["extends"] = doc["extends"]
    elif builtin is None:
        changes["extends"] = base.name
    if "fail-on" in doc:
        changes["fail_on"] = _severity(doc["fail-on"], "fail-on", loc)
    if "classified-network" in doc:
        if not isinstance(doc["classified-network"], bool):
            raise loc.error("classified-network must be true or false", "classified-network")
        changes["classified_network"] = doc["classified-network"]
    own_select = _prefixes(doc, "select", loc) if "select" in doc else ()
    extend = _prefixes(doc, "extend-select", loc) if "extend-select" in doc else ()
    select = (own_select or base.select) + extend
    changes["select"] = tuple(dict.fromkeys(select))
    # A file's explicit select/extend-select of exactly an inherited ignore turns that rule on
    # (in one file the tie goes to ignore, as in flake8).
    inherited = tuple(i for i in base.ignore if i not in own_select + extend)
    own_ignore = _prefixes(doc, "ignore", loc) if "ignore" in doc else ()
    changes["ignore"] = tuple(dict.fromkeys(inherited + own_ignore))
    if "severity" in doc:
        table = doc["severity"]
        if not isinstance(table, dict):
            raise loc.error("severity must be a table of rule id = severity", "severity")
        # the file's overrides replace inherited ones they cover (NSEC = "high" beats a profile's NSEC001)
        sev = {k: v for k, v in base.severity.items() if not any(k.startswith(p) for p in table)}
        for key, value in table.items():
            if not _ID_PREFIX.match(key) or not key:
                raise loc.error(f"severity: {key!r} is not a rule id or prefix", key, "severity")
            if (why := _unknown_prefix(key)) is not None:
                raise loc.error(f"severity: {key!r} {why}", key, "severity")
            sev[key] = _severity(value, key, loc, "severity")
        changes["severity"] = sev
    if "thresholds" in doc:
        changes["thresholds"] = _thresholds(doc["thresholds"], base.thresholds, loc)
    if "suppress" in doc:
        changes["suppressions"] = base.suppressions + _suppressions(doc["suppress"], loc)
    if builtin is None:
        changes["source"] = loc.file
    return dataclasses.replace(base, **changes)


def _thresholds(table: object, base: Thresholds, loc: _Located) -> Thresholds:
    if not isinstance(table, dict):
        raise loc.error("thresholds must be a table", "thresholds")
    fields = {f.name: f for f in dataclasses.fields(Thresholds)}
    changes: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in fields or "_" in key:
            hint = _did_you_mean(key, (n.replace("_", "-") for n in fields))
            raise loc.error(f"unknown threshold {key!r}{hint}", key, "thresholds")
        current = getattr(base, name)
        try:
            if isinstance(current, timedelta):
                changes[name] = parse_duration(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"expected true or false, got {value!r}")
                changes[name] = value
            elif isinstance(current, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"expected a non-negative integer, got {value!r}")
                changes[name] = value
            elif isinstance(current, float):
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValueError(f"expected a positive number, got {value!r}")
                changes[name] = float(value)
            elif isinstance(current, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("expected a list of strings")
                changes[name] = tuple(value)
            else:
                if not isinstance(value, str):
                    raise ValueError(f"expected a string, got {value!r}")
                changes[name] = value
        except ValueError as exc:
            raise loc.error(f"thresholds.{key}: {exc}", key, "thresholds") from None
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as exc:
        first = next(iter(table), "")
        raise loc.error(f"thresholds: {exc}", first, "thresholds") from None


def _suppressions(items: object, loc: _Located) -> tuple[Suppression, ...]:
    if not isinstance(items, list):
        raise loc.error("suppress must be an array of tables ([[suppress]])", "suppress")
    out = []
    for i, item in enumerate(items):
        where = loc.line_of("", "suppress", i)

        def err(msg: str, key: str = "", i: int = i, where: int | None = where) -> ConfigError:
            line = _line_in_block(loc, key, where) if key else where
            return ConfigError(f"suppress #{i + 1}: {msg}", file=loc.file, line=line)

        if not isinstance(item, dict):
            raise err("must be a table")
        for key in item:
            if key not in ("rule", "server", "zone", "reason"):
                raise err(
                    f"unknown key {key!r}{_did_you_mean(key, ('rule', 'server', 'zone', 'reason'))}", key
                )
        rule = item.get("rule")
        if not isinstance(rule, str) or not rule or not _ID_PREFIX.match(rule.upper()):
            raise err("rule must be a rule id or prefix", "rule" if "rule" in item else "")
        if (why := _unknown_prefix(rule.upper())) is not None:
            raise err(f"rule {rule!r} {why}", "rule")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise err("a suppression must carry a non-empty reason", "reason" if "reason" in item else "")
        for key in ("server", "zone"):
            if key in item and (not isinstance(item[key], str) or not item[key]):
                raise err(f"{key} must be a non-empty glob string", key)
        out.append(
            Suppression(
                rule=rule.upper(),
                reason=" ".join(reason.split()),
                server=item.get("server", "*"),
                zone=item.get("zone", "*"),
            )
        )
    return tuple(out)


def _line_in_block(loc: _Located, key: str, start: int | None) -> int | None:
    if start is None:
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for no in range(start + 1, len(loc.lines) + 1):
        line = loc.lines[no - 1]
        if line.lstrip().startswith("["):
            break
        if pattern.match(line):
            return no
    return start


# -- showing ------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return fmt_td(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The effective policy as plain data (the shape of a policy file, fully expanded)."""
    return {
        "name": policy.name,
        "extends": policy.extends,
        "source": policy.source,
        "fail-on": policy.fail_on.label,
        "classified-network": policy.classified_network,
        "select": ["ALL" if p == "" else p for p in policy.select],
        "ignore": list(policy.ignore),
        "severity": {k: v.label for k, v in sorted(policy.severity.items())},
        "thresholds": {
            f.name.replace("_", "-"): _plain(getattr(policy.thresholds, f.name))
            for f in dataclasses.fields(Thresholds)
        },
        "suppress": [
            {"rule": s.rule, "server": s.server, "zone": s.zone, "reason": s.reason}
            for s in policy.suppressions
        ],
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    import json

    return json.dumps(str(value))


def policy_to_toml(policy: Policy) -> str:
    """The effective policy as a TOML policy file (``parse_policy`` reads it back to the same rules,
    severities, thresholds and suppressions)."""
    d = policy_to_dict(policy)
    lines = [f"# effective policy {d['name']!r}" + (f" (from {d['source']})" if d["source"] else "")]
    base = policy.extends or (policy.name if policy.name in PROFILES else None)
    if base:
        lines.append(f"extends = {_toml_value(base)}")
    lines.append(f"name = {_toml_value(d['name'])}")
    lines.append(f"fail-on = {_toml_value(d['fail-on'])}")
    lines.append(f"classified-network = {_toml_value(d['classified-network'])}")
    lines.append(f"select = {_toml_value(d['select'])}")
    lines.append(f"ignore = {_toml_value(d['ignore'])}")
    lines.append("\n[severity]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in d["severity"].items())
    lines.append("\n[thresholds]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in d["thresholds"].items())
    for s in d["suppress"]:
        lines.append("\n[[suppress]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in s.items())
    return "\n".join(lines) + "\n"
