"""STIG Viewer checklists (CKL XML) for the DNSSEC requirements of the Windows DNS STIGs.

One checklist per server, one VULN per DNSSEC requirement of the Windows DNS STIG (see the
project's STIG notes): Vuln ID and STIG ID of the STIG that applies to the server's OS (the 2012
STIG for Windows Server 2012/2012 R2, the 2022 STIG otherwise, including when the OS is unknown),
the other STIG's ids as LEGACY_ID. Status:

- ``Not_Applicable`` when every zone is AD-integrated, or the policy declares a classified network
  (the details then still list the host's critical findings: a clean-looking checklist must not
  hide a zone Windows cannot re-sign);
- ``Open`` / ``NotAFinding`` from the server's own view, and from the DNS view (join findings,
  ``DNS`` rule ids; DNS000 records that the view was taken) where the requirement is about what
  is served;
- ``Not_Reviewed`` where no command answers (key storage, NRPT GPO, trust anchors fleet-wide), or
  where the requirement needs the DNS view and the audit ran without ``--dns``.

Evidence goes into FINDING_DETAILS. The rule ids (SV-...r..._rule) change every release, so they
are not written; STIG Viewer keys on Vuln_Num. ``checklist`` computes the items once; this module
writes them as CKL XML, ``toolkit.render.cklb`` as STIG Viewer 3 JSON, and
``toolkit.render.checklist_files`` writes either one as files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

from toolkit.errors import ConfigError
from toolkit.findings import Finding, HostReport, Report, Severity
from toolkit.model import ServerInventory, SigningKey, Zone
from toolkit.model.enums import DenialOfExistence, ZoneType
from toolkit.render.common import key_label, target_label
from toolkit.safetext import for_xml

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = [
    "REQUIREMENTS",
    "Checklist",
    "Item",
    "Requirement",
    "checklist",
    "ckl_document",
    "render_ckl",
    "single_host",
    "stig_for",
]


OPEN, PASS, NA, NR = "Open", "NotAFinding", "Not_Applicable", "Not_Reviewed"
H48, H168 = timedelta(hours=48), timedelta(hours=168)

STIG_2022 = (
    "MS_Windows_Server_2022_DNS_STIG",
    "Microsoft Windows Server Domain Name System (DNS) STIG",
    "Release: 1 Benchmark Date: 18 Jan 2024",
)
STIG_2012 = (
    "Windows_2012_DNS_STIG",
    "Microsoft Windows 2012 Server Domain Name System STIG",
    "Release: 7 Benchmark Date: 24 Jul 2024",
)

Verdict = tuple[str, str]  # (status, details)
Evaluator = Callable[["Context"], Verdict]


@dataclass(frozen=True, slots=True)
class Context:
    host: HostReport
    inv: ServerInventory
    dns_view: bool  # the audit included the DNS view

    def signed(self) -> list[Zone]:
        return [z for z in self.inv.zones if z.signed and z.zone_type is ZoneType.PRIMARY]

    def dns_findings(self, *rule_ids: str) -> list[Finding]:
        return [f for f in self.host.findings if f.rule_id in rule_ids]

    def key(self, zone: str, k: SigningKey) -> str:
        """A key as every report names it: type, DNSKEY key tag (when a finding's evidence
        holds it), algorithm and whole GUID."""
        for f in (*self.host.findings, *self.host.suppressed):
            if f.target.key_id == k.key_id and (f.target.zone or "").lower() == zone.lower():
                label = key_label(f)
                if label and "key_algorithm" in f.evidence:
                    return label
        return f"{k.key_type.short} tag not read, {k.algorithm.value}, id {k.key_id}"

    def dns_zones(self) -> Mapping[str, Mapping[str, Any]]:
        """Per zone, what the DNS view showed (the DNS000 record's evidence; empty without it)."""
        rec = next((f for f in (*self.host.findings, *self.host.suppressed) if f.rule_id == "DNS000"), None)
        zones = rec.evidence.get("zones") if rec is not None else None
        return zones if isinstance(zones, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Requirement:
    vuln_2022: str | None
    stig_2022: str | None
    vuln_2012: str | None
    stig_2012: str | None
    severity: str  # low / medium / high (CAT III / II / I)
    title: str
    evaluate: Evaluator
    always_applicable: bool = False


def _lines(items: Sequence[str]) -> str:
    return "\n".join(items)


def _from_dns(ctx: Context, rule_ids: tuple[str, ...], ok_text: str) -> Verdict:
    if not ctx.dns_view:
        return NR, "Needs the DNS view: run the audit with --dns."
    hits = ctx.dns_findings(*rule_ids)
    if hits:
        return OPEN, _lines([f"{target_label(f)}: {f.message}" for f in hits])
    return PASS, ok_text


def _chain(ctx: Context) -> Verdict:
    verdict = _from_dns(ctx, ("DNS004",), "A DS at the parent matches a signing key.")
    if verdict[0] != PASS:
        return verdict
    zones = ctx.dns_zones()
    rows = [
        f"{z}: chain {d.get('chain')}" + (f" (DS {', '.join(d.get('ds') or [])})" if d.get("ds") else "")
        for z, d in sorted(zones.items())
        if d.get("reachable")
    ]
    unchecked = [z for z, d in sorted(zones.items()) if d.get("chain") == "not checked"]
    if unchecked:
        return NR, _lines([*rows, f"DS not checked for: {', '.join(unchecked)} (use --ds-from)"])
    return PASS, _lines(rows) or verdict[1]


def _zones_signed(ctx: Context) -> Verdict:
    bad = [
        z.name
        for z in ctx.inv.zones
        if z.zone_type is ZoneType.PRIMARY
        and not z.is_ds_integrated
        and not z.is_auto_created
        and not z.signed
    ]
    details = [f"{z}: primary zone not signed (IsSigned false)" for z in bad]
    details += [f"{target_label(f)}: {f.message}" for f in ctx.dns_findings("DNS012", "DNS007")]
    if details:
        return OPEN, _lines(details)
    signed = ", ".join(z.name for z in ctx.signed()) or "none"
    return PASS, f"Signed zones: {signed}." + (" RRSIGs served with DO and valid." if ctx.dns_view else "")


def _validity(attr: str, label: str, dns_rule: str) -> Evaluator:
    def ev(ctx: Context) -> Verdict:
        bad: list[str] = []
        good: list[str] = []
        for z in ctx.signed():
            for k in z.keys:
                v = getattr(k, attr)
                if v is None:
                    continue
                row = f"{z.name} {ctx.key(z.name, k)}: {label} {v.total_seconds() / 3600:g} h"
                (good if H48 <= v <= H168 else bad).append(row)
        bad += [f"{target_label(f)}: {f.message}" for f in ctx.dns_findings(dns_rule)]
        if dns_rule == "DNS009":
            for zone, d in sorted(ctx.dns_zones().items()):
                hours = d.get("dnskey_rrsig_validity_hours") or []
                if hours:
                    good.append(f"{zone}: measured over DNS {', '.join(f'{h:g}' for h in hours)} h")
        if bad:
            return OPEN, _lines(bad)
        if not good:
            return NR, "No signing key reported a validity period."
        return PASS, _lines(good)

    return ev


def _nsec3(ctx: Context) -> Verdict:
    bad = [
        f"{z.name}: DenialOfExistence {z.dnssec.denial_of_existence}"
        for z in ctx.signed()
        if z.dnssec is not None and z.dnssec.denial_of_existence is not DenialOfExistence.NSEC3
    ]
    if bad:
        return OPEN, _lines(bad)
    return (PASS, "All signed zones use NSEC3.") if ctx.signed() else (PASS, "No signed zones.")


def _algorithm(ctx: Context) -> Verdict:
    keys = [(z.name, k) for z in ctx.signed() for k in z.keys]
    bad = [f"{n} {ctx.key(n, k)}: {k.algorithm}" for n, k in keys if not k.algorithm.is_known]
    if bad:
        return OPEN, _lines(bad)
    text = _lines([f"{n} {k.key_type.short}: {k.algorithm}" for n, k in keys])
    return PASS, (
        text or "No signing keys."
    ) + "\n(The STIG accepts RsaSha1 or stronger; RFC 9905 forbids SHA-1.)"


def _rollover(ctx: Context) -> Verdict:
    ksks = [(z.name, k) for z in ctx.signed() for k in z.ksks]
    bad = [f"{n} {ctx.key(n, k)}: automatic rollover disabled" for n, k in ksks if not k.rollover_enabled]
    if bad:
        return OPEN, _lines(bad)
    return PASS, _lines([f"{n} {ctx.key(n, k)}: rollover enabled" for n, k in ksks]) or "No KSKs."


def _dnssec_aware(ctx: Context) -> Verdict:
    on = ctx.inv.server.settings.enable_dnssec
    if on is None:
        return NR, "EnableDnsSec not reported."
    return (PASS, "EnableDnsSec is true.") if on else (OPEN, "EnableDnsSec is false.")


def _manual(text: str) -> Evaluator:
    return lambda ctx: (NR, text)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "V-259350",
        "WDNS-22-000019",
        "V-215583",
        "WDNS-CM-000014",
        "high",
        "Zones must be signed: RRSIG, DNSKEY and NSEC3 present.",
        _zones_signed,
    ),
    Requirement(
        "V-259345",
        "WDNS-22-000014",
        "V-215578",
        "WDNS-CM-000008",
        "medium",
        "DNSKEY RRset signature validity 48 to 168 hours.",
        _validity("dnskey_signature_validity", "DnsKeySignatureValidityPeriod", "DNS009"),
    ),
    Requirement(
        "V-259339",
        "WDNS-22-000007",
        "V-215661",
        "WDNS-CM-000001",
        "medium",
        "DS RRset signature validity of delegated children 48 to 168 hours.",
        _validity("ds_signature_validity", "DSSignatureValidityPeriod", "DNS010"),
    ),
    Requirement(
        "V-259346",
        "WDNS-22-000015",
        "V-215579",
        "WDNS-CM-000009",
        "medium",
        "NSEC3 for all internal zones.",
        _nsec3,
    ),
    Requirement(
        "V-259372",
        "WDNS-22-000044",
        "V-215609",
        "WDNS-SC-000001",
        "medium",
        "NSEC3 salt changed on each re-sign: RRSIG(NSEC3PARAM) inception equals RRSIG(DNSKEY).",
        lambda c: _from_dns(c, ("DNS011",), "NSEC3PARAM and DNSKEY share inception."),
    ),
    Requirement(
        "V-259351",
        "WDNS-22-000020",
        "V-215584",
        "WDNS-CM-000015",
        "medium",
        "Signing algorithm RsaSha1 or stronger.",
        _algorithm,
    ),
    Requirement(
        "V-259380",
        "WDNS-22-000052",
        "V-215617",
        "WDNS-SC-000009",
        "medium",
        "Complete DNSSEC RRset present (RRSIG, NSEC3, DNSKEY).",
        _zones_signed,
    ),
    Requirement(
        "V-259382",
        "WDNS-22-000054",
        "V-215619",
        "WDNS-SC-000011",
        "medium",
        "DS records for child zones present (authentication chain).",
        _chain,
    ),
    Requirement(
        "V-259383",
        "WDNS-22-000055",
        "V-215620",
        "WDNS-SC-000012",
        "medium",
        "Trust anchors present on validating servers.",
        _manual("Fleet-wide join of trust anchors and zone keys: not automated yet."),
    ),
    Requirement(
        "V-259384",
        "WDNS-22-000056",
        "V-215621",
        "WDNS-SC-000013",
        "medium",
        "Automatic rollover enabled on every KSK.",
        _rollover,
    ),
    Requirement(
        "V-259381",
        "WDNS-22-000053",
        "V-215618",
        "WDNS-SC-000010",
        "medium",
        "NRPT DnsSecValidationRequired on clients.",
        _manual("Client-side GPO (Get-DnsClientNrptPolicy): not read by the toolkit."),
    ),
    Requirement(
        "V-259343",
        "WDNS-22-000011",
        "V-215576",
        "WDNS-CM-000006",
        "high",
        "Caching server DNSSEC-aware.",
        _dnssec_aware,
    ),
    Requirement(
        "V-259370",
        "WDNS-22-000042",
        "V-215607",
        "WDNS-IA-000009",
        "medium",
        "ZSK private key only on the server accepting dynamic updates.",
        _manual("Key storage location: not answerable by a DNS cmdlet."),
    ),
    Requirement(
        "V-259414",
        "WDNS-22-000107",
        None,
        None,
        "medium",
        "No ZSK/KSK private key on a primary that takes no dynamic updates.",
        _manual("Key storage location: not answerable by a DNS cmdlet."),
    ),
)


def stig_for(inv: ServerInventory | None) -> str:
    """ "2012" for Windows Server 2012 / 2012 R2 (OsVersion or DnsVersion 6.2 / 6.3), else "2022"."""
    if inv is None:
        return "2022"
    text = f"{inv.server.os_version or ''} {inv.server.dns_version or ''}"
    if "2012" in text or any(text.strip().startswith(v) or f" {v}" in text for v in ("6.2.", "6.3.")):
        return "2012"
    return "2022"


def _not_applicable(inv: ServerInventory, policy: Policy | None) -> str | None:
    if policy is not None and policy.classified_network:
        return "The policy declares a classified network: the STIG's DNSSEC checks do not apply."
    zones = [z for z in inv.zones if not z.is_auto_created]
    if zones and all(z.is_ds_integrated for z in zones):
        return "Every zone on this server is Active Directory-integrated (IsDsIntegrated): not applicable."
    return None


def _critical_note(host: HostReport) -> str:
    """The host's active critical findings, for items marked Not_Applicable all the same."""
    critical = [f for f in host.findings if f.severity is Severity.CRITICAL]
    if not critical:
        return ""
    rows = [f"- {f.rule_id} {target_label(f)}: {f.message}" for f in critical]
    return _lines(
        [
            "",
            f"Not applicable to this requirement, but the server has {len(critical)} critical finding(s):",
            *rows,
        ]
    )


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist entry: a requirement's ids for the STIG in use, its status and evidence."""

    vuln: str
    stig_id: str
    legacy: tuple[str, ...]  # the other STIG's Vuln ID and STIG ID
    severity: str
    title: str
    status: str
    details: str


@dataclass(frozen=True, slots=True)
class Checklist:
    """The checklist of one server: which STIG (``stig`` is one of STIG_2022 / STIG_2012), items."""

    host: HostReport
    which: str  # "2022" or "2012"
    stig: tuple[str, str, str]  # benchmark id, title, release info
    items: tuple[Item, ...]


def checklist(host: HostReport, policy: Policy | None = None, *, dns_view: bool | None = None) -> Checklist:
    """Every DNSSEC requirement of the STIG that applies to ``host``, with status and evidence.

    ``dns_view`` defaults to whether the report holds any DNS-area finding (DNS000 records it).
    """
    inv = host.inventory
    which = stig_for(inv)
    stig = STIG_2012 if which == "2012" else STIG_2022
    if dns_view is None:
        dns_view = any(f.rule_id.startswith("DNS") for f in (*host.findings, *host.suppressed))
    na = _not_applicable(inv, policy) if inv is not None else None
    ctx = Context(host, inv, dns_view) if inv is not None else None
    items: list[Item] = []
    for req in REQUIREMENTS:
        vuln, sid = (req.vuln_2012, req.stig_2012) if which == "2012" else (req.vuln_2022, req.stig_2022)
        if vuln is None or sid is None:
            continue
        other = (req.vuln_2022, req.stig_2022) if which == "2012" else (req.vuln_2012, req.stig_2012)
        if ctx is None:
            why = host.error.message if host.error else "no inventory"
            status, details = NR, f"Server not audited: {why}"
        elif na is not None and not req.always_applicable:
            status, details = NA, na + _critical_note(host)
        else:
            status, details = req.evaluate(ctx)
        items.append(Item(vuln, sid, tuple(x for x in other if x), req.severity, req.title, status, details))
    return Checklist(host, which, stig, tuple(items))


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def ckl_document(host: HostReport, policy: Policy | None = None, *, dns_view: bool | None = None) -> str:
    """The CKL XML text for one server."""
    cl = checklist(host, policy, dns_view=dns_view)
    stig = cl.stig
    root = ET.Element("CHECKLIST")
    asset = _sub(root, "ASSET")
    for tag, text in (
        ("ROLE", "Member Server"),
        ("ASSET_TYPE", "Computing"),
        ("MARKING", "CUI"),
        ("HOST_NAME", host.server.split(".")[0]),
        ("HOST_IP", ""),
        ("HOST_MAC", ""),
        ("HOST_FQDN", host.server),
        ("TARGET_COMMENT", ""),
        ("TECH_AREA", "DNS"),
        ("TARGET_KEY", ""),
        ("WEB_OR_DATABASE", "false"),
        ("WEB_DB_SITE", ""),
        ("WEB_DB_INSTANCE", ""),
    ):
        _sub(asset, tag, text)
    istig = _sub(_sub(root, "STIGS"), "iSTIG")
    info = _sub(istig, "STIG_INFO")
    for name, data in (
        ("version", "1" if cl.which == "2022" else "2"),
        ("classification", "UNCLASSIFIED"),
        ("stigid", stig[0]),
        ("title", stig[1]),
        ("releaseinfo", stig[2]),
        ("source", "windns-toolkit (DNSSEC requirements only)"),
    ):
        si = _sub(info, "SI_DATA")
        _sub(si, "SID_NAME", name)
        _sub(si, "SID_DATA", data)
    for item in cl.items:
        v = _sub(istig, "VULN")
        for attr, data in (
            ("Vuln_Num", item.vuln),
            ("Severity", item.severity),
            ("Group_Title", item.stig_id),
            ("Rule_Ver", item.stig_id),
            ("Rule_Title", item.title),
            *(("LEGACY_ID", x) for x in item.legacy),
            ("STIGRef", f"{stig[1]} :: {stig[2]}"),
        ):
            sd = _sub(v, "STIG_DATA")
            _sub(sd, "VULN_ATTRIBUTE", attr)
            _sub(sd, "ATTRIBUTE_DATA", data)
        _sub(v, "STATUS", item.status)
        _sub(v, "FINDING_DETAILS", item.details)
        _sub(v, "COMMENTS", "Generated by windns-toolkit.")
        _sub(v, "SEVERITY_OVERRIDE", "")
        _sub(v, "SEVERITY_JUSTIFICATION", "")
    ET.indent(root, space="\t")
    body = for_xml(ET.tostring(root, encoding="unicode"))  # a server's text may hold ESC
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!--DISA STIG Viewer :: 2.18-->\n' + body + "\n"


def single_host(report: Report, fmt: str) -> HostReport:
    if len(report.hosts) != 1:
        raise ConfigError(
            f"--format {fmt} writes one checklist per server and this report has {len(report.hosts)}: "
            "give --output DIRECTORY (one file per server)"
        )
    return report.hosts[0]


def render_ckl(report: Report, stream: IO[str], *, policy: Policy | None = None, color: bool = False) -> None:
    """Write the checklist of a one-server report; a fleet needs one file per server."""
    stream.write(ckl_document(single_host(report, "ckl"), policy))
