"""What every provider of this package shares: credentials read late, never pickled."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from improvado_loads.provider.errors import install as report_errors_in_one_line
from improvado_loads.provider.profiling import start_if_asked as profile_if_asked
from improvado_loads.provider.settings import ConfigLookup, client_from_config

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient


class ClientProvider(ResourceProvider):
    """A dynamic provider that talks to Improvado through :class:`ImprovadoClient`.

    The instance is pickled by reference into the stack state, as its class alone
    (``__reduce__``): no state, so nothing of it (a client, credentials) is ever
    pickled. Pickling no dict also keeps the program clear of a leak in Pulumi's
    ``serialize_provider``, which wraps pickle's dict writer once more at every
    dynamic resource, so that each dict pickled walks every wrapper so far and a
    program of about a thousand such resources died in a ``RecursionError``. The
    client is made on first use, in the provider process, from the config that
    :meth:`configure` received (or the environment).
    """

    serialize_as_secret_always = False

    def __reduce__(self) -> tuple[type[ClientProvider], tuple[()]]:
        return (type(self), ())

    def __setstate__(self, state: dict[str, Any]) -> None:
        # States written before ``__reduce__`` hold an empty dict here.
        self.__dict__.update(state)

    def configure(self, req: ConfigureRequest) -> None:
        # Runs in the provider host only: from here on our errors are reported as one line.
        report_errors_in_one_line()
        profile_if_asked()  # IMPROVADO_PROVIDER_PROFILE=DIR: see provider/profiling.py
        self._lookup: ConfigLookup = req.config.get
        _settle_heap()

    @property
    def client(self) -> ImprovadoClient:
        """The client, built once per provider process."""
        lock = self.__dict__.setdefault("_lock", threading.Lock())
        with lock:
            if "_client" not in self.__dict__:
                lookup: ConfigLookup = self.__dict__.get("_lookup", lambda _key: None)
                self._client = client_from_config(lookup)
                _settle_heap()
            client: ImprovadoClient = self._client
            return client


def _settle_heap() -> None:
    """Leave what the provider process has imported so far out of the garbage collector's passes.

    The modules, classes and pydantic schemas loaded at start-up (the SDK's, pydantic's, httpx's and
    ours: some 55,000 objects) live as long as the process; without this each full collection walks
    them all again (15-40 ms each; a refresh of 100 loads made one). ``gc.freeze`` moves them to a
    generation the collector skips; objects made afterwards are collected as usual.
    """
    gc.freeze()
