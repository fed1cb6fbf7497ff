"""dnspython's DNSSEC module, imported where a DNSSEC check runs, without cryptography's DSA warning.

Upstream cause: ``dns.dnssec`` imports ``dns.dnssecalgs``, whose ``dsa`` module reads
``cryptography.hazmat.primitives.asymmetric.dsa.DSAPublicKey`` (and ``DSAPrivateKey``) in its class
bodies. cryptography 51 deprecated DSA: every such read warns ``CryptographyDeprecationWarning: DSA
is deprecated ...``, attributed to ``dns.dnssecalgs.dsa``. dnspython does so even when no DSA key is
ever handled, so the warning says nothing about this toolkit's zones (Windows cannot sign with DSA:
its CryptoAlgorithm values are RSA and ECDSA only). ``DSA_WARNING`` ignores exactly that message
from exactly that module and nothing else; the CLI installs it for the process (a DSA-signed parent
zone read by the DNS view would trigger the same warning), and ``load`` applies it around the first
import for library users. pyproject.toml's pytest ``filterwarnings`` carries the same filter.
"""

from __future__ import annotations

import threading
import warnings
from types import ModuleType

from toolkit._warnings import DSA_WARNING, ignore_dsa_warning

__all__ = ["DSA_WARNING", "ignore_dsa_warning", "load"]

_lock = threading.Lock()
_module: ModuleType | None = None


def load() -> ModuleType:
    """``dns.dnssec``, imported on first use with the DSA warning ignored for that import."""
    global _module
    if _module is None:
        with _lock:
            if _module is None:
                with warnings.catch_warnings():
                    ignore_dsa_warning()
                    import dns.dnssec

                _module = dns.dnssec
    return _module
