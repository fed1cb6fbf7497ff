"""Client certificate authentication for the loopback endpoint, as WinRM's certificate mapping
does it: the listener asks for a client certificate in the TLS handshake, and a request whose
``Authorization`` header names the WS-Management mutual-authentication profile is run as the
account a mapping gives that certificate.

What is modelled, and where it comes from:

- a mapping is ``Subject``, ``Issuer``, ``URI`` and ``UserName`` (MS-WSMV 2.2.4.3
  CertMappingType, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/b0e9678d-f833-442f-9883-1b8ab1f3c93e;
  made on Windows with ``New-Item -Path WSMan:\\localhost\\ClientCertificate -Subject ... -URI *
  -Issuer <thumbprint> -Credential ...``);
- ``Issuer`` is the thumbprint (SHA-1, 40 hex digits) of the certificate that signed the client
  certificate, not of the root (CertMappingType, "Issuer");
- ``Subject`` is a pattern with at most one ``*``, first or last (CertMappingType, "Subject");
  it is matched against the user principal name in the certificate's subject alternative name,
  and the certificate must allow client authentication (extended key usage 1.3.6.1.5.5.7.3.2)
  (the "WinRM Certificate Authentication" guide's requirements; the UPN as the subject is
  UNCONFIRMED by a Microsoft reference page, see fixtures/README.md);
- the header value ``http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual`` is what
  both client libraries send (pypsrp ``wsman.py`` ``_build_auth_certificate``, pywinrm
  ``transport.py``), the DMTF WS-Management profile name.

UNCONFIRMED (fixtures/README.md): that Windows answers a certificate no mapping matches with HTTP
401, and that only ``URI = *`` mappings are used here (a narrower URI is not modelled).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

__all__ = ["MUTUAL_PROFILE", "UPN_OID", "CertificateMapper", "CertificateMapping"]

MUTUAL_PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
#: szOID_NT_PRINCIPAL_NAME: the user principal name as an otherName of the subject alternative name
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


@dataclass(frozen=True)
class CertificateMapping:
    """One ``WSMan:\\localhost\\ClientCertificate`` entry: certificates whose UPN matches
    ``subject`` and whose signer's thumbprint is ``issuer`` run as ``username``."""

    subject: str
    issuer: str
    username: str
    uri: str = "*"

    def __post_init__(self) -> None:
        if not self.subject or self.subject.count("*") > 1 or "*" in self.subject[1:-1]:
            raise ValueError(f"mapping subject {self.subject!r}: at most one '*', first or last")
        if len(self.issuer) != 40 or any(c not in "0123456789abcdefABCDEF" for c in self.issuer):
            raise ValueError(f"mapping issuer must be a thumbprint of 40 hex digits, got {self.issuer!r}")
        if self.uri != "*":
            raise ValueError("only URI '*' mappings are modelled")

    def matches(self, upn: str, issuer_thumbprint: str) -> bool:
        if issuer_thumbprint.lower() != self.issuer.lower():
            return False
        pattern, name = self.subject.lower(), upn.lower()
        if pattern == "*":
            return True
        if pattern.startswith("*"):
            return name.endswith(pattern[1:])
        if pattern.endswith("*"):
            return name.startswith(pattern[:-1])
        return name == pattern


def thumbprint(cert: x509.Certificate) -> str:
    """The Windows thumbprint of a certificate: SHA-1 of its DER, upper-case hex."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S324 - the thumbprint is SHA-1


def upn_of(cert: x509.Certificate) -> str | None:
    """The user principal name in the certificate's subject alternative name, if any."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID:
            return _der_utf8(other.value)
    return None


def _der_utf8(der: bytes) -> str | None:
    """The text of a DER UTF8String (tag 12), short or long form length."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, start = der[1], 2
    if length & 0x80:
        n = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + n], "big"), 2 + n
    try:
        return der[start : start + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _client_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku


class CertificateMapper:
    """The listener's trusted client CAs and its mapping table."""

    def __init__(self, ca_file: Path, mappings: Iterable[CertificateMapping]) -> None:
        self.ca_file = ca_file
        self.cas: Sequence[x509.Certificate] = x509.load_pem_x509_certificates(ca_file.read_bytes())
        self.mappings = tuple(mappings)

    def account_for(self, der: bytes | None) -> str | None:
        """The account a client certificate (DER, as the TLS handshake gave it) maps to; None
        when there is no certificate or no mapping takes it."""
        if not der:
            return None
        cert = x509.load_der_x509_certificate(der)
        upn = upn_of(cert)
        if upn is None or not _client_auth(cert):
            return None
        issuer = self._issuer(cert)
        if issuer is None:
            return None
        signer = thumbprint(issuer)
        for mapping in self.mappings:
            if mapping.matches(upn, signer):
                return mapping.username
        return None

    def _issuer(self, cert: x509.Certificate) -> x509.Certificate | None:
        for ca in self.cas:
            if ca.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(ca)
            except (InvalidSignature, ValueError, TypeError):
                continue
            return ca
        return None
