"""Certificate authentication, client side: the certificate and key checked before a connection.

Both transports hand the two PEM files to requests (``session.cert``), which loads them only
when the first TLS connection is made, and then fails with an OpenSSL reason deep inside the
connection error. ``check`` loads them the same way first, so a missing file, a key that is not
the certificate's, an encrypted key or a file that is no PEM is one line naming the file. The key
is read by the TLS library only: its content is never logged, kept or shown.
"""

from __future__ import annotations

import os
import ssl

from toolkit.errors import ConfigError
from toolkit.remote.base import ConnectionOptions

__all__ = ["check"]


class _EncryptedKey(Exception):
    """The key file wants a password: it is never asked for (no prompt, no option)."""


def _no_password() -> bytes:
    raise _EncryptedKey()


def check(opts: ConnectionOptions) -> None:
    """Refuse, in one line, a client certificate or key the TLS handshake could not use."""
    if opts.auth != "certificate":
        return
    cert, key = opts.certificate_pem, opts.certificate_key_pem
    assert cert is not None and key is not None  # ConnectionOptions requires both
    for what, path in (("client certificate", cert), ("client certificate key", key)):
        full = os.path.expanduser(path)
        if not os.path.isfile(full):
            raise ConfigError(f"{what} file {path} does not exist")
        if not os.access(full, os.R_OK):
            raise ConfigError(f"{what} file {path} cannot be read (permissions)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_cert_chain(os.path.expanduser(cert), os.path.expanduser(key), password=_no_password)
    except _EncryptedKey:
        raise ConfigError(
            f"the client certificate key {key} is encrypted: give the key without a passphrase "
            "(openssl pkey -in KEY -out PLAIN.key), kept readable by you only"
        ) from None
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc.strerror or "")
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise ConfigError(
                f"the private key in {key} is not the key of the client certificate {cert}"
            ) from None
        raise ConfigError(
            f"cannot use the client certificate {cert} with the key {key}: they must be PEM files "
            f"(OpenSSL: {reason or type(exc).__name__})"
        ) from None
