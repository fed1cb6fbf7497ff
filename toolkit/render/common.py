"""Shared helpers for renderers: finding rows, JSON-safe values, where a host is.

What renderers show of a rule (title, help, which rules ran) comes with the report
(``Report.rules``, a ``RuleBook``): no renderer reads the rule registry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from toolkit.catalogue import describe_win32
from toolkit.findings import Finding, HostError, HostReport, Report, RuleBook, fmt_td

__all__ = [
    "HOST_ARTIFACT_DIR",
    "Place",
    "dns_view_collected",
    "finding_dict",
    "finding_identity",
    "host_error_dict",
    "host_place",
    "identity_hash",
    "key_label",
    "placed_findings",
    "plain",
    "target_label",
]

#: the stand-in path of a host no inventory file names (``--host``, the demo fleet, the history)
HOST_ARTIFACT_DIR = "windns/hosts"


def plain(value: Any) -> Any:
    """Evidence values as JSON-safe data (tuples to lists, times to ISO text, durations to 7d)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return fmt_td(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def key_label(f: Finding) -> str | None:
    """The key a finding names as every report shows it: its DNSKEY key tag (or that it is not
    known, and why), its algorithm and its whole GUID: ``KSK tag 40112, RsaSha256, id 6f04...``.
    Tag, type and algorithm come from the evidence the audit labelled (``label_findings``); a
    finding of an older stored scan has only the GUID. None when the finding names no key."""
    if not f.target.key_id:
        return None
    ev = f.evidence
    if "key_algorithm" not in ev:
        return f"key {f.target.key_id}"
    tag = ev.get("key_tag")
    if isinstance(tag, int) and not isinstance(tag, bool):
        tag_text = f"tag {tag}"
    else:
        note = ev.get("key_tag_note")
        tag_text = "tag unknown" + (f" ({note})" if note else "")
    kind = ev.get("key_type") or "key"
    return f"{kind} {tag_text}, {ev.get('key_algorithm')}, id {f.target.key_id}"


def target_label(f: Finding) -> str:
    """``server / zone / <key_label>``: what a finding is about, in one line."""
    t = f.target
    return " / ".join(p for p in (t.server, t.zone, key_label(f)) if p)


def _key_tag(f: Finding) -> int | None:
    tag = f.evidence.get("key_tag")
    return tag if isinstance(tag, int) and not isinstance(tag, bool) else None


def finding_dict(f: Finding, rules: RuleBook) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rule_id": f.rule_id,
        "title": rules.title(f.rule_id),
        "severity": f.severity.label,
        "server": f.target.server,
        "zone": f.target.zone,
        "key_id": f.target.key_id,
        # beside the GUID: the DNSKEY key tag (None when not known: the evidence says why)
        "key_tag": _key_tag(f),
        "key_algorithm": f.evidence.get("key_algorithm") if f.target.key_id else None,
        "message": f.message,
        "evidence": plain(f.evidence),
    }
    if f.suppressed:
        d["suppressed_reason"] = f.suppressed_reason
    return d


def host_error_dict(e: HostError) -> dict[str, Any]:
    return {
        "server": e.server,
        "kind": e.kind,
        "message": e.message,
        "code": e.code,
        "code_name": describe_win32(e.code) if e.code is not None else None,
    }


def dns_view_collected(host: HostReport, rules: RuleBook) -> bool:
    """Whether this host's audit included the DNS view (``--dns``): it then holds a DNS-area
    finding, active or suppressed (DNS000 records every view). As in the STIG checklists, a view
    whose DNS000 record a policy ignores and that found nothing cannot be told from no view."""
    for f in (*host.findings, *host.suppressed):
        rule = rules.get(f.rule_id)
        if rule is not None and rule.dns_view:
            return True
    return False


# -- where a host is: a file and a line, for reports whose consumers annotate files ------------------
@dataclass(frozen=True, slots=True)
class Place:
    """A host's place for file-based consumers: ``path`` (relative to the root when it is inside
    it, forward slashes) and ``line``; ``in_file`` False for the per-host stand-in path."""

    path: str
    line: int
    in_file: bool

    @property
    def uri(self) -> str:
        """``path`` as a SARIF ``artifactLocation.uri``: a relative URI reference, or a file URI
        for an absolute path outside the root."""
        if PurePath(self.path).is_absolute():
            return Path(self.path).as_uri()
        return quote(self.path, safe="/._-~")


def _relative(file: str, root: Path) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(path)
    return PurePath(file).as_posix().removeprefix("./")


def host_place(host: HostReport, root: Path | None = None) -> Place:
    """A host's place: the inventory file and line that named it (relative to ``root``, default
    the working directory, when inside it), else the stable stand-in path
    ``windns/hosts/<server, lower case>`` at line 1, so every result has a file to point at."""
    if host.listed_at is not None:
        base = root if root is not None else Path.cwd()
        return Place(_relative(host.listed_at.file, base), host.listed_at.line or 1, True)
    return Place(f"{HOST_ARTIFACT_DIR}/{host.server.lower()}", 1, False)


def placed_findings(report: Report, root: Path | None = None) -> list[tuple[Finding, Place]]:
    """Every finding of the report (active ones first, then suppressed ones, host by host) with
    its host's place. A finding names the server as the server calls itself, which may differ
    from the inventory's name for it: the place is the host's, not looked up by that name."""
    places = [(h, host_place(h, root)) for h in report.hosts]
    return [(f, p) for h, p in places for f in h.findings] + [(f, p) for h, p in places for f in h.suppressed]


def finding_identity(f: Finding) -> str:
    """What makes a finding the same one in the next scan: rule, server, zone and key (never the
    message, which holds counts and durations, nor the inventory line, which moves on edits)."""
    t = f.target
    return "/".join([f.rule_id, t.server.lower(), (t.zone or "").lower(), t.key_id or ""])


def identity_hash(identity: str, length: int = 16) -> str:
    return hashlib.sha256(identity.encode("utf-8", "backslashreplace")).hexdigest()[:length]
