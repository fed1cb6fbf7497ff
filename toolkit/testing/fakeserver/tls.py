"""A self-signed certificate for the loopback endpoint, made at start-up with ``cryptography``.

The certificate names ``localhost`` and ``127.0.0.1``; its PEM file doubles as the CA bundle a
client passes to validate it (``--ca-bundle``). ``channel_binding`` gives the RFC 5929
``tls-server-end-point`` value NTLM binds to over HTTPS. Made in a fresh temporary directory,
the certificate owns it: ``remove()`` deletes it, private key included.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["SelfSignedCert", "make_self_signed"]


@dataclass(frozen=True)
class SelfSignedCert:
    cert_file: Path
    key_file: Path
    der: bytes
    #: the temporary directory made for this certificate alone (None: the caller's directory)
    owned_dir: Path | None = None

    def remove(self) -> None:
        """Delete the temporary directory made for the certificate (nothing when the caller gave one)."""
        if self.owned_dir is not None:
            shutil.rmtree(self.owned_dir, ignore_errors=True)

    @property
    def channel_binding(self) -> bytes:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(self.der)
        return b"tls-server-end-point:" + digest.finalize()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx


def make_self_signed(directory: Path | None = None, common_name: str = "localhost") -> SelfSignedCert:
    owned: Path | None = None
    if directory is None:
        directory = owned = Path(tempfile.mkdtemp(prefix="windns-fake-tls-"))
    try:
        return _write(directory, common_name, owned)
    except BaseException:
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise


def _write(directory: Path, common_name: str, owned: Path | None) -> SelfSignedCert:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(common_name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "endpoint.pem"
    key_file = directory / "endpoint.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return SelfSignedCert(cert_file, key_file, cert.public_bytes(serialization.Encoding.DER), owned)
