"""Reads of many loads from one paged list: what ``pulumi refresh`` asks for.

The engine runs every ``Load`` of a stack through one provider process, and a
refresh calls ``read`` once per load. Instead of one ``GET /loads/{id}`` each,
the first read lists the workspace's loads (``contract.MAX_PAGE_SIZE`` a page)
and every read is served from that list: ``ceil(N / 100)`` calls for N loads.
The list is fetched once per provider process (the process has one set of
credentials, so one workspace) and forgotten after any write of the process,
so that a read never returns what the process itself has since changed.

A load missing from the list is not taken as gone: the provider reads it by
its own ``GET`` first (and :mod:`.presence` decides what a 404 means). A
workspace with more than ``max_loads`` loads is not listed; reads fall back to
one ``GET`` each.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from improvado_loads import contract
from improvado_loads.models import Load

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient

__all__ = ["DEFAULT_MAX_LOADS", "LoadDirectory"]

#: Above this many loads in the workspace, listing them all costs more than it saves.
DEFAULT_MAX_LOADS = 5000


class LoadDirectory:
    """The loads of one client's workspace, listed at most once until :meth:`forget`."""

    def __init__(self, client: ImprovadoClient, max_loads: int = DEFAULT_MAX_LOADS) -> None:
        self._client = client
        self._max_loads = max_loads
        self._loads: dict[int, Load] | None = None
        self._lock = threading.Lock()

    def find(self, load_id: int) -> Load | None:
        """The listed load, or None: not listed (absent, or the workspace too big to list)."""
        with self._lock:
            if self._loads is None:
                self._loads = self._fetch()
            return self._loads.get(load_id)

    def forget(self) -> None:
        """Drop the list: the next :meth:`find` lists again."""
        with self._lock:
            self._loads = None

    def _fetch(self) -> dict[int, Load]:
        pages = self._client.loads.list(page_size=contract.MAX_PAGE_SIZE)
        loads: dict[int, Load] = {}
        for page in pages.pages():
            if page.count > self._max_loads:
                return {}
            loads.update((load.id, load) for load in page.results)
        return loads
