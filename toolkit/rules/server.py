"""KM, TA, SRV and ZONE rules: key master, trust anchors, server settings, zones and read errors."""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.findings import Severity
from toolkit.model import ZoneError, zone_key
from toolkit.model.enums import KeyMasterStatus, TrustAnchorState
from toolkit.rules.base import Hit, Rule, ServerContext, ZoneContext, describe_win32, win32_entry

__all__ = ["RULES", "error_hit"]

STIG_SIGNED = ("V-259350 / WDNS-22-000019", "V-215583 / WDNS-CM-000014")
STIG_AWARE = ("V-259343 / WDNS-22-000011", "V-215576 / WDNS-CM-000006")
STIG_TA = ("V-259383 / WDNS-22-000055", "V-215620 / WDNS-SC-000012")
BAD_ANCHOR = (TrustAnchorState.REVOKED, TrustAnchorState.MISSING, TrustAnchorState.DS_INVALID)
#: Win32 codes that mean "the reading account lacks rights", not "the zone is broken"
ACCESS_CODES = {5}


def key_master_offline(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.zone.dnssec
    if not ctx.dnssec_in_use or s is None or s.key_master_status is not KeyMasterStatus.OFFLINE:
        return ()
    return [
        Hit(
            f"key master {s.key_master_server or '(unknown)'} is offline: no key generation, rollover or "
            "re-signing until it returns (Win32 9122)",
            {
                "key_master_server": s.key_master_server,
                "key_master_status": "Offline",
                "is_key_master_server": s.is_key_master_server,
                "win32": 9122,
            },
        )
    ]


def key_master_unknown(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.zone.dnssec
    if s is None or not (ctx.dnssec_in_use and ctx.signed):
        return ()
    hits: list[Hit] = []
    if not (s.key_master_server or "").strip() and not s.is_key_master_server:
        hits.append(
            Hit(
                "no key master is recorded for this signed zone",
                {"key_master_server": s.key_master_server, "is_key_master_server": s.is_key_master_server},
            )
        )
    elif s.key_master_status is not None and not s.key_master_status.is_known:
        hits.append(
            Hit(
                f"key master status {s.key_master_status.value!r} is not one this toolkit knows",
                {"key_master_server": s.key_master_server, "key_master_status": s.key_master_status.value},
                severity=Severity.LOW,
            )
        )
    return hits


def keys_not_in_ad(ctx: ZoneContext) -> Sequence[Hit]:
    if not (ctx.zone.is_ds_integrated and ctx.dnssec_in_use):
        return ()
    hits: list[Hit] = []
    for k in ctx.keys:
        if k.store_keys_in_ad is False:
            hits.append(
                Hit(
                    f"{k.key_type.short} of an AD-integrated zone is not stored in Active Directory",
                    {"store_keys_in_ad": False, "is_ds_integrated": True},
                    key_id=k.key_id,
                )
            )
    return hits


def distribute_trust_anchor(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.zone.dnssec
    if s is None or not (ctx.zone.is_ds_integrated and ctx.dnssec_in_use and ctx.signed):
        return ()
    hits: list[Hit] = []
    if not s.distributes_trust_anchor:
        hits.append(
            Hit(
                "trust anchors of this AD-integrated signed zone are not distributed to the domain's "
                "DNS servers",
                {"distribute_trust_anchor": list(s.distribute_trust_anchor)},
            )
        )
    return hits


def unsigned_primary(ctx: ZoneContext) -> Sequence[Hit]:
    z = ctx.zone
    if not ctx.is_primary or z.is_auto_created or ctx.signed:
        return ()
    if zone_key(z.name) == "trustanchors":
        return ()
    return [Hit("primary zone is not signed", {"is_signed": False, "is_ds_integrated": z.is_ds_integrated})]


def error_hit(err: ZoneError, what: str) -> Hit:
    """A recorded read error as a hit, explained from the Win32 catalogue when it knows the code."""
    evidence: dict[str, object] = {"stage": err.stage, "error": err.message, "win32": err.code}
    text = f"{what}: {err.stage} failed"
    if err.code is not None:
        entry = win32_entry(err.code)
        text += f" with {describe_win32(err.code)}"
        if entry is not None:
            evidence["explanation"] = entry.message
            if getattr(entry, "resolve", None):
                evidence["resolve"] = entry.resolve
    text += ": " + " ".join(err.message.split())  # the server's text may span lines; a message does not
    if err.fully_qualified_error_id:
        evidence["fully_qualified_error_id"] = err.fully_qualified_error_id
    sev = Severity.MEDIUM if err.code in ACCESS_CODES else None
    return Hit(text, evidence, severity=sev)


def zone_errors(ctx: ZoneContext) -> Sequence[Hit]:
    errors = ctx.zone.errors
    if not errors:
        return ()  # the usual case (and no list comprehension's frame for it)
    return [error_hit(err, "the inventory could not read this zone") for err in errors]


def server_errors(ctx: ServerContext) -> Sequence[Hit]:
    return [error_hit(err, "the inventory could not read a server section") for err in ctx.inventory.errors]


def no_zones(ctx: ServerContext) -> Sequence[Hit]:
    """A server whose inventory holds no zone of its own: said, so that "no findings" is not
    mistaken for "every zone is fine". A full audit's answer passed the self-check, so this is
    what the server listed (toolkit.normalise.selfcheck)."""
    zones = ctx.inventory.zones
    own = [z for z in zones if not z.is_auto_created and zone_key(z.name) != "trustanchors"]
    if own:
        return ()
    return [
        Hit(
            f"the server holds no zone of its own to audit ({len(zones)} zones listed, "
            "all auto-created or TrustAnchors)"
            if zones
            else "the server holds no zone to audit",
            {"zones": len(zones), "own_zones": 0},
        )
    ]


def validation_disabled(ctx: ServerContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    if ctx.inventory.server.settings.enable_dnssec is False:
        hits.append(
            Hit("DNSSEC validation is disabled (EnableDnsSec false)", {"enable_dnssec": False, "win32": 9125})
        )
    return hits


def online_signing_disabled(ctx: ServerContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    if ctx.inventory.server.settings.enable_online_signing is False and any(
        z.signed for z in ctx.inventory.zones
    ):
        hits.append(
            Hit(
                "online signing is disabled while the server hosts signed zones: "
                "dynamic updates are not signed",
                {
                    "enable_online_signing": False,
                    "signed_zones": sum(1 for z in ctx.inventory.zones if z.signed),
                },
            )
        )
    return hits


def bad_trust_anchors(ctx: ServerContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for ta in ctx.inventory.trust_anchors:
        if ta.state in BAD_ANCHOR:
            others = [
                a
                for a in ctx.inventory.trust_anchors
                if a is not ta and a.name.lower() == ta.name.lower() and a.state is TrustAnchorState.VALID
            ]
            hits.append(
                Hit(
                    f"trust anchor for {ta.name} (key tag {ta.key_tag}) is {ta.state.value}"
                    + ("" if others else "; no valid anchor remains for this name"),
                    {
                        "trust_anchor": ta.name,
                        "type": ta.anchor_type.value,
                        "state": ta.state.value,
                        "key_tag": ta.key_tag,
                        "valid_anchors_left": len(others),
                        "entered_state_time": ta.entered_state_time.isoformat()
                        if ta.entered_state_time
                        else None,
                    },
                    key_id=str(ta.key_tag) if ta.key_tag is not None else None,
                    zone=ta.name,
                    severity=None if not others else Severity.LOW,
                )
            )
    return hits


def trust_point_refresh(ctx: ServerContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for tp in ctx.inventory.trust_points:
        if tp.last_active_refresh_result not in (None, 0):
            code = tp.last_active_refresh_result
            hits.append(
                Hit(
                    f"active refresh of trust point {tp.name} failed with {describe_win32(code)}"
                    + (
                        f": {tp.last_active_refresh_result_description}"
                        if tp.last_active_refresh_result_description
                        else ""
                    ),
                    {
                        "trust_point": tp.name,
                        "last_active_refresh_result": code,
                        "description": tp.last_active_refresh_result_description,
                        "last_successful_active_refresh_time": (
                            tp.last_successful_active_refresh_time.isoformat()
                            if tp.last_successful_active_refresh_time
                            else None
                        ),
                    },
                    zone=tp.name,
                )
            )
    return hits


def trust_point_state(ctx: ServerContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for tp in ctx.inventory.trust_points:
        if tp.state in BAD_ANCHOR:
            hits.append(
                Hit(
                    f"trust point {tp.name} is {tp.state.value}",
                    {"trust_point": tp.name, "state": tp.state.value},
                    zone=tp.name,
                )
            )
    return hits


def no_root_anchor(ctx: ServerContext) -> Sequence[Hit]:
    inv = ctx.inventory
    if inv.server.settings.enable_dnssec is not True:
        return ()
    if any("trustanchor" in e.stage.lower() for e in inv.errors):
        return ()  # unknown, not missing: SRV003 reports the read error
    hits: list[Hit] = []
    if not any(
        a.name.rstrip(".") == "" and a.state is not TrustAnchorState.REVOKED for a in inv.trust_anchors
    ):
        hits.append(
            Hit(
                "the server validates DNSSEC but holds no usable root trust anchor",
                {"trust_anchors": sorted({a.name for a in inv.trust_anchors})},
            )
        )
    return hits


RULES: tuple[Rule, ...] = (
    Rule(
        id="KM001",
        title="Key master offline",
        severity=Severity.HIGH,
        scope="zone",
        checks="KeyMasterStatus of a signed zone (or one holding keys) is not Offline.",
        why="Only the key master generates keys, runs rollovers and re-signs a file-backed zone: while "
        "it is offline, scheduled rollovers stall and key operations fail with Win32 9122 "
        "(DNS_ERROR_BAD_KEYMASTER).",
        remediation="# bring the key master back, or seize the role on a healthy server:\n"
        "Reset-DnsServerZoneKeyMasterRole -ZoneName '<Zone>' -KeyMasterServer <Server> -SeizeRole -Force",
        references=("Microsoft DNSSEC guide: key master", "RFC 6781 section 4.1"),
        zone_check=key_master_offline,
        win32=9122,
    ),
    Rule(
        id="KM002",
        title="Key master not known",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="A signed zone names its key master (KeyMasterServer), with a known status.",
        why="Without a known key master nobody runs the zone's rollovers; key operations fail with "
        "Win32 9101 (DNS_ERROR_KEYMASTER_REQUIRED).",
        remediation="Reset-DnsServerZoneKeyMasterRole -ZoneName '<Zone>' -KeyMasterServer <Server> -Force",
        references=("Microsoft DNSSEC guide: key master",),
        zone_check=key_master_unknown,
        win32=9101,
    ),
    Rule(
        id="KM003",
        title="AD-integrated zone with keys outside Active Directory",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="Every key of an AD-integrated zone has StoreKeysInAD true.",
        why="Keys kept only on the key master are lost with it, and no other DC can take over the key "
        "master role (Win32 9107 on the new master).",
        remediation="# re-create the key with -StoreKeysInAD $true:\n"
        "Add-DnsServerSigningKey -ZoneName '<Zone>' "
        "-Type <KeySigningKey|ZoneSigningKey> -StoreKeysInAD $true",
        references=("Microsoft DNSSEC guide: key storage and replication",),
        zone_check=keys_not_in_ad,
        stig=("V-259370 / WDNS-22-000042",),
    ),
    Rule(
        id="TA001",
        title="Trust anchor revoked, missing or DS-invalid",
        severity=Severity.MEDIUM,
        scope="server",
        checks="No trust anchor is in state Revoked, Missing or DSInvalid; low when another valid "
        "anchor for the same name remains.",
        why="A validating server without a valid anchor for a name treats that name's answers as "
        "bogus or insecure.",
        remediation="Get-DnsServerTrustAnchor -Name <Name>\nRemove-DnsServerTrustAnchor -Name <Name> -Type "
        "<DnsKey|DS> -Force\nAdd-DnsServerTrustAnchor -Root   # or import the zone's current key set",
        references=("RFC 5011 section 2 (trust anchor states)",),
        server_check=bad_trust_anchors,
        stig=STIG_TA,
    ),
    Rule(
        id="TA002",
        title="Trust point active refresh failed",
        severity=Severity.MEDIUM,
        scope="server",
        checks="LastActiveRefreshResult of every trust point is 0.",
        why="RFC 5011 automated updates depend on active refresh: a trust point that cannot refresh "
        "misses the next key rollover and then fails validation.",
        remediation="Get-DnsServerTrustPoint | Format-List *\nUpdate-DnsServerTrustPoint -Force",
        references=("RFC 5011 section 2.3 (active refresh)",),
        server_check=trust_point_refresh,
    ),
    Rule(
        id="TA003",
        title="Trust point in a bad state",
        severity=Severity.MEDIUM,
        scope="server",
        checks="No trust point is Revoked, Missing or DSInvalid.",
        why="A trust point in these states no longer validates its zone.",
        remediation="Get-DnsServerTrustPoint -Name <Name> | Format-List *\nUpdate-DnsServerTrustPoint -Force",
        references=("RFC 5011 section 4",),
        server_check=trust_point_state,
    ),
    Rule(
        id="TA004",
        title="Validating server without a root trust anchor",
        severity=Severity.LOW,
        scope="server",
        checks="A server with EnableDnsSec true holds a root (.) trust anchor that is not revoked.",
        why="Without the root anchor the server cannot validate public names; the DISA STIG requires "
        "trust anchors on validating servers.",
        remediation="Add-DnsServerTrustAnchor -Root",
        references=("RFC 5011", "IANA root-anchors.xml"),
        server_check=no_root_anchor,
        stig=STIG_TA,
    ),
    Rule(
        id="TA005",
        title="Trust anchors of an AD-integrated signed zone not distributed",
        severity=Severity.LOW,
        scope="zone",
        checks="DistributeTrustAnchor includes DnsKey on AD-integrated signed zones (off in the "
        "built-in profiles; select it when the domain's DNS servers should validate the zone).",
        why="Without distributed anchors the other DCs' DNS servers cannot validate the zone's answers.",
        remediation="Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' -DistributeTrustAnchor DnsKey",
        references=("Microsoft DNSSEC guide: trust anchor distribution",),
        zone_check=distribute_trust_anchor,
    ),
    Rule(
        id="SRV001",
        title="DNSSEC validation disabled",
        severity=Severity.MEDIUM,
        scope="server",
        checks="The server setting EnableDnsSec is true.",
        why="A non-validating server hands forged answers to its clients; DNSSEC-related operations "
        "fail with Win32 9125 (DNS_ERROR_DNSSEC_IS_DISABLED). The STIG rates this CAT I.",
        remediation="$s = Get-DnsServerSetting -All; $s.EnableDnsSec = $true\n"
        "Set-DnsServerSetting -InputObject $s",
        references=("RFC 4035 section 4",),
        server_check=validation_disabled,
        win32=9125,
        stig=STIG_AWARE,
    ),
    Rule(
        id="SRV002",
        title="Online signing disabled on a server with signed zones",
        severity=Severity.LOW,
        scope="server",
        checks="EnableOnlineSigning is true when the server hosts signed zones.",
        why="Without online signing, dynamic updates to signed zones are not signed until the next "
        "full re-sign: validators reject the new records.",
        remediation="$s = Get-DnsServerSetting -All; $s.EnableOnlineSigning = $true; "
        "Set-DnsServerSetting -InputObject $s",
        references=("RFC 3007 (secure dynamic update)",),
        server_check=online_signing_disabled,
    ),
    Rule(
        id="SRV003",
        title="Inventory could not read a server section",
        severity=Severity.MEDIUM,
        scope="server",
        checks="Every server-level section of the inventory (settings, trust anchors, trust points) "
        "was read.",
        why="Rules cannot judge what was not read: the audit is incomplete for this server.",
        remediation="# check the audit account's rights (DnsAdmins) and run: windns explain <Code>",
        references=("windns docs/inventory-schema.md (Errors)",),
        server_check=server_errors,
    ),
    Rule(
        id="SRV004",
        title="Server holds no zone to audit",
        severity=Severity.INFO,
        scope="server",
        checks="The inventory holds at least one zone that is not auto-created (a record, not a "
        "problem: it says the server was read and has nothing to judge).",
        why="A compliance report without findings must say whether zones were judged; an answer "
        "that lost zones on the way fails the inventory's self-check instead.",
        remediation="Get-DnsServerZone",
        references=("windns docs/inventory-schema.md (Self-check)",),
        server_check=no_zones,
    ),
    Rule(
        id="ZONE001",
        title="Primary zone not signed",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="Every primary zone that is not auto-created is signed (off in baseline and rfc; high "
        "in stig).",
        why="An unsigned zone's answers can be forged; the DISA STIG (CAT I) requires signed zones "
        "(N/A where a server hosts only AD-integrated zones).",
        remediation="Invoke-DnsServerZoneSign -ZoneName '<Zone>' -SignWithDefault -Force",
        references=("RFC 4033 section 1",),
        zone_check=unsigned_primary,
        stig=STIG_SIGNED,
    ),
    Rule(
        id="ZONE002",
        title="Inventory could not read part of a zone",
        severity=Severity.HIGH,
        scope="zone",
        checks="Every cmdlet of the zone's inventory succeeded; a failure becomes a finding with the "
        "Win32 catalogue's explanation (medium for access denied).",
        why="A zone Windows cannot read (e.g. 9107 signing keys not accessible) is usually a zone "
        "Windows cannot sign; and rules cannot judge what was not read.",
        remediation="# see the explanation in the finding, or run: windns explain <Code>",
        references=("Win32 DNS error codes 9100-9130",),
        zone_check=zone_errors,
    ),
)
