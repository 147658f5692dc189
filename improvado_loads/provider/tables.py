"""The loads of each destination connection, for "one table, one load" on create.

Before each create the client checks that no other load of the workspace
targets the same (connection, destination table); on its own it lists the
connection's loads for every create, so ``pulumi up`` of N loads into one
connection read about N * N / 100 pages. A provider process instead lists each
connection once (``contract.MAX_PAGE_SIZE`` a page) and keeps that list up to
date with its own creates and deletes: N creates cost ``ceil(N / 100)`` reads.

Safety is kept three ways:

* creates into one (connection, table) in one process run one at a time
  (:meth:`ConnectionTables.claim` holds a lock per connection and bare table
  name from the check until the created load is recorded), so two concurrent
  creates of the same table cannot both pass the check;
* a failed create (a 409, a refusal, a lost answer) drops the connection's
  list, so the next create lists again;
* a load created meanwhile by someone else is refused by the service's own
  409 (the emulator refuses too), the final guard.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from improvado_loads import contract
from improvado_loads.models import Load

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient

__all__ = ["ConnectionTables", "table_key"]


def table_key(destination_table: str) -> str:
    """The lock key of a table: its bare name without case or flat schema (``public.ADS``, ``s1__ads`` → ``ads``).

    Coarser than :func:`contract.same_destination_table` (``s1.ads`` and
    ``s2.ads`` share a key), never finer: creates that may collide always wait.
    """
    return destination_table.lower().rpartition(".")[2].rpartition(contract.FLAT_SCHEMA_SEPARATOR)[2]


class _Listed:
    """One connection's loads, by id and by :func:`table_key`."""

    def __init__(self, loads: Iterable[Load]) -> None:
        self._keys: dict[int, str] = {}
        self._by_table: dict[str, dict[int, Load]] = {}
        for load in loads:
            self.add(load)

    def add(self, load: Load) -> None:
        self.remove(load.id)
        key = table_key(load.destination_table)
        self._keys[load.id] = key
        self._by_table.setdefault(key, {})[load.id] = load

    def remove(self, load_id: int) -> None:
        key = self._keys.pop(load_id, None)
        if key is not None:
            self._by_table[key].pop(load_id, None)

    def same_key(self, destination_table: str) -> list[Load]:
        return list(self._by_table.get(table_key(destination_table), {}).values())


class ConnectionTables:
    """Each connection's loads, listed once per process and kept up to date by its writes."""

    def __init__(self, client: ImprovadoClient) -> None:
        self._client = client
        self._guard = threading.Lock()  # guards the dicts below
        self._loads: dict[int, _Listed] = {}
        self._listing: dict[int, threading.Lock] = {}
        self._tables: dict[tuple[int, str], threading.Lock] = {}

    @contextmanager
    def claim(self, connection_id: int, destination_table: str) -> Iterator[list[Load]]:
        """Hold the (connection, table) lock and give the connection's known loads that may target the table.

        Those are the loads with the same bare table name (:func:`table_key`): every load that
        :func:`contract.same_destination_table` may call the same table is among them.

        Record the created load with :meth:`created` before leaving; leaving by
        an exception drops the connection's list (the next create lists again).
        """
        with self._guard:
            lock = self._tables.setdefault((connection_id, table_key(destination_table)), threading.Lock())
        with lock:
            try:
                yield self._listed(connection_id, destination_table)
            except BaseException:
                self.forget(connection_id)
                raise

    def created(self, load: Load, connection_id: int) -> None:
        """The process created ``load`` into ``connection_id``: later checks see it."""
        with self._connection_lock(connection_id):
            with self._guard:
                known = self._loads.get(connection_id)
                if known is not None:
                    known.add(load)

    def deleted(self, load_id: int) -> None:
        """The process deleted (or found gone) ``load_id``: later checks no longer see it."""
        with self._guard:
            connections = list(self._listing)
        for connection_id in connections:
            with self._connection_lock(connection_id), self._guard:
                known = self._loads.get(connection_id)
                if known is not None:
                    known.remove(load_id)

    def forget(self, connection_id: int) -> None:
        """Drop the connection's list: the next check lists it again."""
        with self._connection_lock(connection_id), self._guard:
            self._loads.pop(connection_id, None)

    def _connection_lock(self, connection_id: int) -> threading.Lock:
        with self._guard:
            return self._listing.setdefault(connection_id, threading.Lock())

    def _listed(self, connection_id: int, destination_table: str) -> list[Load]:
        # Listing and recording a write of the connection hold one lock: a list fetched
        # while another create of the connection lands never misses that load.
        with self._connection_lock(connection_id):
            with self._guard:
                known = self._loads.get(connection_id)
            if known is None:
                pages = self._client.loads.list(
                    destination_connection_id=connection_id, page_size=contract.MAX_PAGE_SIZE
                )
                known = _Listed(pages)
                with self._guard:
                    self._loads[connection_id] = known
            with self._guard:
                return known.same_key(destination_table)
