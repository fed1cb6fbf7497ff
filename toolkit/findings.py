"""Findings and reports: what rules produce and renderers consume. Pure data.

A ``Report`` covers one or more hosts (a one-server audit is a report with one host), so every
renderer serves both ``windns audit`` and ``windns scan``. The exit code comes from the report
and the policy's ``fail_on`` threshold, never from a renderer.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from toolkit.model import ServerInventory

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_INTERNAL",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "Finding",
    "HostError",
    "HostReport",
    "Listing",
    "Report",
    "RuleBook",
    "RuleInfo",
    "Severity",
    "Target",
    "fmt_td",
    "sort_findings",
]

# Exit codes (documented in the README): the same for audit and scan.
EXIT_OK = 0  # nothing at or above --fail-on
EXIT_FINDINGS = 1  # findings at or above --fail-on
EXIT_INCOMPLETE = 2  # a host (or the only host) could not be audited
EXIT_USAGE = 3  # bad command line (click's usage errors are remapped from 2 to 3)
EXIT_CONFIG = 4  # bad inventory/policy/fixture/input file, or any other toolkit error
EXIT_LOCKED = 5  # another scan holds the history database lock
EXIT_REFUSED = 6  # an admin change refused by the pre-flight guard (nothing was sent)
EXIT_INTERNAL = 70  # a bug in windns (EX_SOFTWARE): one line on stderr, the traceback with -vv


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r}; choose one of {', '.join(s.label for s in cls)}"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """What a finding is about: a server, optionally a zone, optionally a key."""

    server: str
    zone: str | None = None
    key_id: str | None = None

    def __str__(self) -> str:
        parts = [self.server]
        if self.zone:
            parts.append(self.zone)
        if self.key_id:
            parts.append(f"key {self.key_id}")
        return " / ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    target: Target
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    suppressed_reason: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.suppressed_reason is not None

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        t = self.target
        return (t.server, t.zone or "", self.rule_id, t.key_id or "", self.message)


@dataclass(frozen=True, slots=True)
class HostError:
    """A host that could not be audited (fully or in part). ``kind`` is the error class's kind."""

    server: str
    kind: str
    message: str
    code: int | None = None

    @classmethod
    def from_exception(cls, server: str, exc: BaseException) -> HostError:
        """A toolkit error as its kind, message (without the host prefix) and Win32 code; anything
        else (a bug below) as kind ``internal``, its type and text on one line."""
        from toolkit.errors import WindnsError

        if isinstance(exc, WindnsError):
            return cls(server, exc.kind, exc.detail, getattr(exc, "code", None))
        from toolkit.safetext import without_surrogates

        return cls(server, "internal", without_surrogates(" ".join(f"{type(exc).__name__}: {exc}".split())))


@dataclass(frozen=True, slots=True)
class Listing:
    """Where the scanned inventory names a host: its file and the line of its entry. Reports that
    point at a file (SARIF, GitHub annotations, GitLab Code Quality) point there."""

    file: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a report knows of one rule: the registry's metadata, without its check.

    ``references`` are all of them (the rule's own, its DISA STIG ids, the Win32 error it
    predicts); ``dns_view`` marks a join rule, which runs only with the DNS view (area DNS).
    """

    id: str
    title: str
    severity: Severity
    scope: Literal["zone", "server"]
    checks: str = ""
    why: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    dns_view: bool = False

    @property
    def area(self) -> str:
        return self.id.rstrip("0123456789")


class _Selecting(Protocol):
    def is_selected(self, rule_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The rules a report's findings come from, in registry order (``toolkit.rules.RULE_BOOK``
    for every report the toolkit builds). Renderers read titles, help and the list of rules that
    ran from here; a report built without one names its rules by id."""

    rules: tuple[RuleInfo, ...] = ()
    _by_id: Mapping[str, RuleInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})

    def __iter__(self) -> Iterator[RuleInfo]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> RuleInfo | None:
        """The rule with this id (case-insensitive), or None."""
        return self._by_id.get(rule_id.strip().upper())

    def title(self, rule_id: str) -> str:
        """The rule's title, or its id when the book does not hold it."""
        rule = self.get(rule_id)
        return rule.title if rule is not None else rule_id

    def selected(self, policy: _Selecting | None = None, *, dns_view: bool = True) -> tuple[RuleInfo, ...]:
        """The rules a report under ``policy`` ran (all of them without one); ``dns_view=False``
        leaves out the join rules: without a DNS view they did not run."""
        return tuple(
            r
            for r in self.rules
            if (dns_view or not r.dns_view) and (policy is None or policy.is_selected(r.id))
        )


@dataclass(frozen=True, slots=True)
class HostReport:
    server: str
    inventory: ServerInventory | None = None
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Finding, ...] = ()
    error: HostError | None = None
    duration: float = 0.0
    #: the inventory document as the server printed it, when the inventory came from one: the
    #: history stores this text as it is instead of serialising ``inventory`` again (not compared)
    inventory_text: str | None = field(default=None, compare=False, repr=False)
    #: the inventory file and line that named this host (None for ``--host``, the demo fleet and
    #: reports read back from the history)
    listed_at: Listing | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Report:
    hosts: tuple[HostReport, ...]
    generated_at: datetime
    policy_name: str = "baseline"
    duration: float = 0.0
    interrupted: bool = False
    #: hosts of the inventory a stopped scan never scanned (not started, or cut off at the end
    #: of the grace time), in inventory order; ``hosts`` has the ones it did
    not_scanned: tuple[str, ...] = ()
    #: the metadata of the rules the findings come from (titles, help, the rules that ran)
    rules: RuleBook = field(default_factory=RuleBook)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for h in self.hosts for f in h.findings)

    @property
    def suppressed(self) -> tuple[Finding, ...]:
        return tuple(f for h in self.hosts for f in h.suppressed)

    @property
    def host_errors(self) -> tuple[HostError, ...]:
        return tuple(h.error for h in self.hosts if h.error is not None)

    def counts_by_severity(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s.label: c.get(s, 0) for s in sorted(Severity, reverse=True)}

    def summary(self) -> dict[str, Any]:
        return {
            "hosts": len(self.hosts),
            "hosts_ok": sum(1 for h in self.hosts if h.ok),
            "hosts_failed": sum(1 for h in self.hosts if not h.ok),
            "hosts_not_scanned": len(self.not_scanned),
            "zones": sum(len(h.inventory.zones) for h in self.hosts if h.inventory),
            "findings": len(self.findings),
            "suppressed": len(self.suppressed),
            "by_severity": self.counts_by_severity(),
        }

    def exit_code(self, fail_on: Severity) -> int:
        """0 when nothing reaches ``fail_on``; 1 when a finding does; 2 when a host failed.

        Host errors win over findings: an incomplete audit must not look compliant, and a
        scheduler must be able to tell "the estate has problems" from "we could not look".
        """
        if self.interrupted or self.not_scanned or self.host_errors:
            return EXIT_INCOMPLETE
        if any(f.severity >= fail_on for f in self.findings):
            return EXIT_FINDINGS
        return EXIT_OK


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: f.sort_key))


def fmt_td(value: timedelta | None) -> str | None:
    """A timedelta as the shortest exact ``Nd``/``Nh``/``Nm``/``Ns`` text (``None`` stays None)."""
    if value is None:
        return None
    secs = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs and secs % size == 0:
            return f"{secs // size}{unit}"
    return f"{secs}s"
