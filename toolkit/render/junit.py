"""JUnit XML report: one test suite per server, one test case per rule per zone (and per rule for
the server itself), so CI dashboards show which checks pass. A CI tree reads server / zone / rule:
the suite is the server, the class name ``SERVER / ZONE`` (the server alone for its own rules;
host and zone names hold dots, so a dot could not tell where one ends), the name ``RULE title``.
A finding is a ``failure``, a suppressed finding ``skipped``, a host that could not be audited an
``error``. The join rules (area DNS) appear only for hosts audited with the DNS view: without it
they did not run, and a passing test case would claim a check that never happened.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TextIO

from toolkit.findings import Finding, HostReport, Report, RuleBook
from toolkit.policy import Policy
from toolkit.render.common import dns_view_collected, key_label
from toolkit.safetext import for_xml

__all__ = ["classname", "junit_tree", "render"]

SEPARATOR = " / "  # in no host or zone name


def classname(server: str, zone: str | None) -> str:
    return f"{server}{SEPARATOR}{zone}" if zone else server


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": classname, "name": name, "time": "0"})


def _fill(case: ET.Element, active: list[Finding], suppressed: list[Finding]) -> tuple[int, int]:
    if active:
        worst = max(active, key=lambda f: f.severity)
        fail = ET.SubElement(case, "failure", {"message": worst.message, "type": worst.severity.label})
        fail.text = "\n".join(
            f"[{f.severity.label}] {f.message}" + (f" ({key_label(f)})" if f.target.key_id else "")
            for f in active
        )
        return 1, 0
    if suppressed:
        ET.SubElement(case, "skipped", {"message": f"suppressed: {suppressed[0].suppressed_reason}"})
        return 0, 1
    return 0, 0


def _suite(
    root: ET.Element, host: HostReport, policy: Policy | None, timestamp: str, rules: RuleBook
) -> None:
    suite = ET.SubElement(root, "testsuite", {"name": host.server, "timestamp": timestamp})
    tests = failures = errors = skipped = 0
    if host.error is not None or host.inventory is None:
        case = _case(suite, host.server, "inventory")
        err = ET.SubElement(
            case,
            "error",
            {
                "message": host.error.message if host.error else "no inventory",
                "type": host.error.kind if host.error else "error",
            },
        )
        err.text = host.error.message if host.error else ""
        tests, errors = 1, 1
    else:
        found: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
        supp: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
        for f in host.findings:
            found[(f.rule_id, f.target.zone)].append(f)
        for f in host.suppressed:
            supp[(f.rule_id, f.target.zone)].append(f)
        zones = [z.name for z in host.inventory.zones]
        for rule in rules.selected(policy, dns_view=dns_view_collected(host, rules)):
            targets: list[str | None] = list(zones) if rule.scope == "zone" else [None]
            if rule.scope == "server":  # server rules may name zones (trust anchor names)
                targets += sorted({z for (rid, z) in (*found, *supp) if rid == rule.id and z is not None})
            for zone in targets:
                case = _case(suite, classname(host.server, zone), f"{rule.id} {rule.title}")
                f_, s_ = _fill(case, found.get((rule.id, zone), []), supp.get((rule.id, zone), []))
                tests += 1
                failures += f_
                skipped += s_
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{host.duration:.3f}")


def junit_tree(report: Report, policy: Policy | None = None) -> ET.Element:
    root = ET.Element("testsuites", {"name": "windns audit"})
    stamp = report.generated_at.replace(microsecond=0).isoformat()
    for host in report.hosts:
        _suite(root, host, policy, stamp, report.rules)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in root)))
    root.set("time", f"{report.duration:.3f}")
    return root


def render(report: Report, stream: TextIO, *, policy: Policy | None = None, color: bool = False) -> None:
    tree = junit_tree(report, policy)
    ET.indent(tree)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(for_xml(ET.tostring(tree, encoding="unicode")))  # a server's text may hold ESC
    stream.write("\n")
