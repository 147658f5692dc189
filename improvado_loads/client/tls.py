"""A verifying TLS context that loads its CA certificates at its first handshake.

httpx builds its TLS context when a client is created, even for a client that
only ever talks plain ``http://`` (the emulator on loopback): importing certifi
and loading its bundle is most of a command line's start-up beyond its imports.
:class:`DeferredCAContext` is the context httpx would build with ``verify=True``
(same protocol, options, verification mode and flags), except that the CA
certificates are loaded when it first wraps a connection, so a client that
never opens a TLS connection never reads them.

It cannot be less safe than the eager one: it verifies certificates and host
names from the start, so a handshake that somehow bypassed the loading would
fail for lack of a trusted CA, never succeed unverified.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any

__all__ = ["DeferredCAContext", "ca_locations"]


def ca_locations(trust_env: bool = True) -> dict[str, str] | None:
    """Where the CA certificates come from, as httpx chooses for ``verify=True``; None for certifi's bundle.

    ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set (and ``trust_env``): keyword arguments
    for :meth:`ssl.SSLContext.load_verify_locations`. Reading the environment is cheap;
    finding certifi's bundle is left to the first handshake.
    """
    if trust_env and os.environ.get("SSL_CERT_FILE"):
        return {"cafile": os.environ["SSL_CERT_FILE"]}
    if trust_env and os.environ.get("SSL_CERT_DIR"):
        return {"capath": os.environ["SSL_CERT_DIR"]}
    return None


class DeferredCAContext(ssl.SSLContext):
    """A client TLS context verifying certificates and host names, whose CAs load on first use.

    Configured as :func:`ssl.create_default_context` configures one for server
    authentication; the CA certificates (:func:`ca_locations`, chosen when the
    context is made, else certifi's bundle as httpx's default) are loaded once,
    under a lock, before the first :meth:`wrap_socket` or :meth:`wrap_bio`.
    """

    def __new__(cls, trust_env: bool = True) -> DeferredCAContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, trust_env: bool = True) -> None:
        #: Chosen now, as httpx chooses when it builds its context (the environment of that moment).
        self._locations = ca_locations(trust_env)
        self._ca_lock = threading.Lock()
        self._ca_loaded = False
        # As ssl.create_default_context(Purpose.SERVER_AUTH); PROTOCOL_TLS_CLIENT already
        # requires a certificate and checks the host name.
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        if sys.version_info >= (3, 13):  # pragma: no cover - the stricter chain checks of 3.13
            self.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            self.keylog_filename = keylog

    @property
    def ca_loaded(self) -> bool:
        """Whether the CA certificates have been loaded (by a first handshake or :meth:`load_cas`)."""
        return self._ca_loaded

    def load_cas(self) -> None:
        """Load the CA certificates now, once."""
        if self._ca_loaded:
            return
        with self._ca_lock:
            if not self._ca_loaded:
                if self._locations is None:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                else:
                    self.load_verify_locations(**self._locations)
                self._ca_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        """As :meth:`ssl.SSLContext.wrap_socket`, the CA certificates loaded first."""
        self.load_cas()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        """As :meth:`ssl.SSLContext.wrap_bio`, the CA certificates loaded first."""
        self.load_cas()
        return super().wrap_bio(*args, **kwargs)
