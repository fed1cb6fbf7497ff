"""The data behind ``toolkit.catalogue``: Win32 DNS error names and messages.

Names, values and messages are Microsoft's (system error codes 9000-11999, and winerror.h; the
same text the SDK header carries in its comments). The explanations for administrators are ours
and live in ``toolkit.catalogue_advice``.
"""

# ruff: noqa: E501 -- one error per line, Microsoft's message unwrapped.
from __future__ import annotations

__all__ = ["ALIASES", "BASE_CONSTANTS", "MESSAGES"]

#: One error a line: decimal code, symbolic name, Microsoft's message (exact text).
_TABLE = """
5     ERROR_ACCESS_DENIED                             Access is denied.
9001  DNS_ERROR_RCODE_FORMAT_ERROR                    DNS server unable to interpret format.
9002  DNS_ERROR_RCODE_SERVER_FAILURE                  DNS server failure.
9003  DNS_ERROR_RCODE_NAME_ERROR                      DNS name does not exist.
9004  DNS_ERROR_RCODE_NOT_IMPLEMENTED                 DNS request not supported by name server.
9005  DNS_ERROR_RCODE_REFUSED                         DNS operation refused.
9006  DNS_ERROR_RCODE_YXDOMAIN                        DNS name that ought not exist, does exist.
9007  DNS_ERROR_RCODE_YXRRSET                         DNS RR set that ought not exist, does exist.
9008  DNS_ERROR_RCODE_NXRRSET                         DNS RR set that ought to exist, does not exist.
9009  DNS_ERROR_RCODE_NOTAUTH                         DNS server not authoritative for zone.
9010  DNS_ERROR_RCODE_NOTZONE                         DNS name in update or prereq is not in zone.
9016  DNS_ERROR_RCODE_BADSIG                          DNS signature failed to verify.
9017  DNS_ERROR_RCODE_BADKEY                          DNS bad key.
9018  DNS_ERROR_RCODE_BADTIME                         DNS signature validity expired.
9101  DNS_ERROR_KEYMASTER_REQUIRED                    Only the DNS server acting as the key master for the zone may perform this operation.
9102  DNS_ERROR_NOT_ALLOWED_ON_SIGNED_ZONE            This operation is not allowed on a zone that is signed or has signing keys.
9103  DNS_ERROR_NSEC3_INCOMPATIBLE_WITH_RSA_SHA1      NSEC3 is not compatible with the RSA-SHA-1 algorithm. Choose a different algorithm or use NSEC.
9104  DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS    The zone does not have enough signing keys. There must be at least one key signing key (KSK) and at least one zone signing key (ZSK).
9105  DNS_ERROR_UNSUPPORTED_ALGORITHM                 The specified algorithm is not supported.
9106  DNS_ERROR_INVALID_KEY_SIZE                      The specified key size is not supported.
9107  DNS_ERROR_SIGNING_KEY_NOT_ACCESSIBLE            One or more of the signing keys for a zone are not accessible to the DNS server. Zone signing will not be operational until this error is resolved.
9108  DNS_ERROR_KSP_DOES_NOT_SUPPORT_PROTECTION       The specified key storage provider does not support DPAPI++ data protection. Zone signing will not be operational until this error is resolved.
9109  DNS_ERROR_UNEXPECTED_DATA_PROTECTION_ERROR      An unexpected DPAPI++ error was encountered. Zone signing will not be operational until this error is resolved.
9110  DNS_ERROR_UNEXPECTED_CNG_ERROR                  An unexpected crypto error was encountered. Zone signing may not be operational until this error is resolved.
9111  DNS_ERROR_UNKNOWN_SIGNING_PARAMETER_VERSION     The DNS server encountered a signing key with an unknown version. Zone signing will not be operational until this error is resolved.
9112  DNS_ERROR_KSP_NOT_ACCESSIBLE                    The specified key service provider cannot be opened by the DNS server.
9113  DNS_ERROR_TOO_MANY_SKDS                         The DNS server cannot accept any more signing keys with the specified algorithm and KSK flag value for this zone.
9114  DNS_ERROR_INVALID_ROLLOVER_PERIOD               The specified rollover period is invalid.
9115  DNS_ERROR_INVALID_INITIAL_ROLLOVER_OFFSET       The specified initial rollover offset is invalid.
9116  DNS_ERROR_ROLLOVER_IN_PROGRESS                  The specified signing key is already in process of rolling over keys.
9117  DNS_ERROR_STANDBY_KEY_NOT_PRESENT               The specified signing key does not have a standby key to revoke.
9118  DNS_ERROR_NOT_ALLOWED_ON_ZSK                    This operation is not allowed on a zone signing key (ZSK).
9119  DNS_ERROR_NOT_ALLOWED_ON_ACTIVE_SKD             This operation is not allowed on an active signing key.
9120  DNS_ERROR_ROLLOVER_ALREADY_QUEUED               The specified signing key is already queued for rollover.
9121  DNS_ERROR_NOT_ALLOWED_ON_UNSIGNED_ZONE          This operation is not allowed on an unsigned zone.
9122  DNS_ERROR_BAD_KEYMASTER                         This operation could not be completed because the DNS server listed as the current key master for this zone is down or misconfigured. Resolve the problem on the current key master for this zone or use another DNS server to seize the key master role.
9123  DNS_ERROR_INVALID_SIGNATURE_VALIDITY_PERIOD     The specified signature validity period is invalid.
9124  DNS_ERROR_INVALID_NSEC3_ITERATION_COUNT         The specified NSEC3 iteration count is higher than allowed by the minimum key length used in the zone.
9125  DNS_ERROR_DNSSEC_IS_DISABLED                    This operation could not be completed because the DNS server has been configured with DNSSEC features disabled. Enable DNSSEC on the DNS server.
9126  DNS_ERROR_INVALID_XML                           This operation could not be completed because the XML stream received is empty or syntactically invalid.
9127  DNS_ERROR_NO_VALID_TRUST_ANCHORS                This operation completed, but no trust anchors were added because all of the trust anchors received were either invalid, unsupported, expired, or would not become valid in less than 30 days.
9128  DNS_ERROR_ROLLOVER_NOT_POKEABLE                 The specified signing key is not waiting for parental DS update.
9129  DNS_ERROR_NSEC3_NAME_COLLISION                  Hash collision detected during NSEC3 signing. Specify a different user-provided salt, or use a randomly generated salt, and attempt to sign the zone again.
9130  DNS_ERROR_NSEC_INCOMPATIBLE_WITH_NSEC3_RSA_SHA1 NSEC is not compatible with the NSEC3-RSA-SHA-1 algorithm. Choose a different algorithm or use NSEC3.
9601  DNS_ERROR_ZONE_DOES_NOT_EXIST                   DNS zone does not exist.
9602  DNS_ERROR_NO_ZONE_INFO                          DNS zone information not available.
9603  DNS_ERROR_INVALID_ZONE_OPERATION                Invalid operation for DNS zone.
9604  DNS_ERROR_ZONE_CONFIGURATION_ERROR              Invalid DNS zone configuration.
9605  DNS_ERROR_ZONE_HAS_NO_SOA_RECORD                DNS zone has no start of authority (SOA) record.
9606  DNS_ERROR_ZONE_HAS_NO_NS_RECORDS                DNS zone has no Name Server (NS) record.
9607  DNS_ERROR_ZONE_LOCKED                           DNS zone is locked.
9608  DNS_ERROR_ZONE_CREATION_FAILED                  DNS zone creation failed.
9609  DNS_ERROR_ZONE_ALREADY_EXISTS                   DNS zone already exists.
9610  DNS_ERROR_AUTOZONE_ALREADY_EXISTS               DNS automatic zone already exists.
9611  DNS_ERROR_INVALID_ZONE_TYPE                     Invalid DNS zone type.
9612  DNS_ERROR_SECONDARY_REQUIRES_MASTER_IP          Secondary DNS zone requires master IP address.
9613  DNS_ERROR_ZONE_NOT_SECONDARY                    DNS zone not secondary.
9614  DNS_ERROR_NEED_SECONDARY_ADDRESSES              Need secondary IP address.
9615  DNS_ERROR_WINS_INIT_FAILED                      WINS initialization failed.
9616  DNS_ERROR_NEED_WINS_SERVERS                     Need WINS servers.
9617  DNS_ERROR_NBSTAT_INIT_FAILED                    NBTSTAT initialization call failed.
9618  DNS_ERROR_SOA_DELETE_INVALID                    Invalid delete of start of authority (SOA).
9619  DNS_ERROR_FORWARDER_ALREADY_EXISTS              A conditional forwarding zone already exists for that name.
9620  DNS_ERROR_ZONE_REQUIRES_MASTER_IP               This zone must be configured with one or more master DNS server IP addresses.
9621  DNS_ERROR_ZONE_IS_SHUTDOWN                      The operation cannot be performed because this zone is shut down.
9622  DNS_ERROR_ZONE_LOCKED_FOR_SIGNING               This operation cannot be performed because the zone is currently being signed. Please try again later.
9701  DNS_ERROR_RECORD_DOES_NOT_EXIST                 DNS record does not exist.
9711  DNS_ERROR_RECORD_ALREADY_EXISTS                 DNS record already exists.
9714  DNS_ERROR_NAME_DOES_NOT_EXIST                   DNS name does not exist.
"""


def _rows(table: str) -> tuple[tuple[int, str, str], ...]:
    rows = []
    for line in table.strip().splitlines():
        code, name, message = line.split(None, 2)
        rows.append((int(code), name, message.rstrip()))
    return tuple(rows)


#: (code, symbolic name, message) for every error the catalogue knows, ascending by code.
MESSAGES: tuple[tuple[int, str, str], ...] = _rows(_TABLE)

#: Older names still seen in headers and logs (Microsoft's list: 9103 "was also named ...").
ALIASES: dict[int, tuple[str, ...]] = {
    9103: ("DNS_ERROR_INVALID_NSEC3_PARAMETERS",),
}

#: Range bases defined next to the codes in winerror.h. They are not errors: Windows never
#: reports them, so the catalogue does not list them and ``lookup`` explains what they are.
BASE_CONSTANTS: dict[int, tuple[str, str]] = {
    9000: ("DNS_ERROR_RESPONSE_CODES_BASE", "the base of the DNS RCODE errors 9001-9018"),
    9100: ("DNS_ERROR_DNSSEC_BASE", "the base of the DNSSEC errors 9101-9130"),
    9600: ("DNS_ERROR_ZONE_BASE", "the base of the zone errors 9601-9622"),
}
