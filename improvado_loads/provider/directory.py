"""Reads of many loads from one paged list: what ``pulumi refresh`` asks for.

The engine runs every ``Load`` of a stack through one provider process, and a
refresh calls ``read`` once per load. Instead of one ``GET /loads/{id}`` each,
reads are served from a list of the workspace's loads (``contract.MAX_PAGE_SIZE``
a page): ``ceil(N / 100)`` calls for N loads. The list is fetched once per
provider process (the process has one set of credentials, so one workspace) and
forgotten after any write of the process, so that a read never returns what the
process itself has since changed.

Pages are fetched as reads need them: a read waits until its load's page is in
(or the list has ended), not for the whole list, so the first reads are served
while the service is still producing the later pages. One page is fetched at a
time, whatever the number of reads waiting. A read served from the newest page
starts the next one in the background, so that the reads after it do not all
stop at each page's boundary to wait for its request; that fetches at most one
page more than the reads need (a stack whose loads are all on the first page of
a large workspace costs one more call, not the whole list). A page fetched ahead
that fails is dropped with the list: the next read lists again and sees the error
itself.

A load missing from the list is not taken as gone: the provider reads it by
its own ``GET`` first (and :mod:`.presence` decides what a 404 means). A
workspace with more than ``max_loads`` loads is not listed; reads fall back to
one ``GET`` each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from improvado_loads import contract
from improvado_loads.models import Load, Page

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
        self._lock = threading.Lock()  # guards the fields below
        self._fetching = threading.Lock()  # one page in flight at a time
        self._loads: dict[int, Load] = {}
        self._pages: Iterator[Page[Load]] | None = None
        self._ended = False  # every page is in (or the workspace is too big to list)
        self._generation = 0  # bumped by forget(): a page of an older list is dropped
        self._pages_in = 0  # pages of this generation added so far
        self._newest: frozenset[int] = frozenset()  # the loads of the last page added
        self._ahead = False  # a page is being fetched ahead of the reads

    def find(self, load_id: int) -> Load | None:
        """The listed load, or None: not listed (absent, or the workspace too big to list)."""
        while True:
            with self._lock:
                if load_id in self._loads or self._ended:
                    if load_id in self._newest and not self._ended and not self._ahead:
                        self._fetch_ahead()
                    return self._loads.get(load_id)
                generation, wanted = self._generation, self._pages_in + 1
            self._fetch(generation, wanted, load_id)

    def forget(self) -> None:
        """Drop the list: the next :meth:`find` lists again."""
        with self._lock:
            self._loads, self._pages, self._ended = {}, None, False
            self._pages_in, self._newest = 0, frozenset()
            self._generation += 1

    def _fetch(self, generation: int, wanted: int, load_id: int | None = None) -> None:
        """Fetch page ``wanted`` of list ``generation``, unless it (or ``load_id``) came in meanwhile."""
        with self._fetching:
            with self._lock:
                if generation != self._generation or self._ended or self._pages_in >= wanted:
                    return  # another fetch brought it (or the list was forgotten): the caller looks again
                if load_id is not None and load_id in self._loads:
                    return
                if self._pages is None:
                    self._pages = self._client.loads.list(page_size=contract.MAX_PAGE_SIZE).pages()
                pages = self._pages
            try:
                page = next(pages, None)
            except BaseException:
                self.forget()  # the next read lists from the start
                raise
            with self._lock:
                if generation == self._generation:
                    self._add(page)

    def _fetch_ahead(self) -> None:
        """Start fetching the page after the newest in the background (called holding ``_lock``)."""
        self._ahead = True
        generation, wanted = self._generation, self._pages_in + 1

        def run() -> None:
            try:
                self._fetch(generation, wanted)
            except Exception:  # dropped with the list (see _fetch): the next read that needs it lists again
                pass
            finally:
                with self._lock:
                    self._ahead = False

        threading.Thread(target=run, name="improvado-list-ahead", daemon=True).start()

    def _add(self, page: Page[Load] | None) -> None:
        if page is None:
            self._ended = True
        elif page.count > self._max_loads:
            self._loads, self._ended = {}, True
        else:
            self._loads.update((load.id, load) for load in page.results)
            self._pages_in += 1
            self._newest = frozenset(load.id for load in page.results)
