"""Look-ups by name, so that programs carry titles instead of workspace ids.

.. code-block:: python

    ads = get_data_table(title="Google Ads campaign performance")
    warehouse = get_destination_connection(title="Warehouse", destination_name="postgresql")
    Load("ads", LoadArgs(data_table_id=ads, destination_connection_id=warehouse, ...))

Each look-up finds exactly one thing, by its exact title or by id, or fails the
program with one line saying what it looked for and listing the close
candidates (a title that matches nothing) or the ids that share the title (a
title that matches several). They read; they never manage anything.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi.runtime

from improvado_loads.client import ImprovadoClient
from improvado_loads.errors import ImprovadoError, NotFoundError
from improvado_loads.models import DataTable, DestinationConnection
from improvado_loads.provider.settings import client_from_config

__all__ = [
    "ConnectionInfo",
    "DataTableInfo",
    "closest",
    "get_data_table",
    "get_destination_connection",
    "program_client",
]

#: How many close titles an error lists.
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class DataTableInfo:
    """A data table as :func:`get_data_table` returns it; ``LoadArgs(data_table_id=...)`` takes it."""

    id: int
    title: str
    data_class: str | None
    by_accounts: bool

    @classmethod
    def from_model(cls, table: DataTable) -> DataTableInfo:
        """Build from the client's model."""
        return cls(id=table.id, title=table.title, data_class=table.data_class, by_accounts=table.by_accounts)


@dataclass(frozen=True)
class ConnectionInfo:
    """A destination connection as :func:`get_destination_connection` returns it.

    ``LoadArgs(destination_connection_id=...)`` takes it. ``connection_id`` is the
    same as ``id`` (the name the :class:`DestinationConnection` resource uses).
    """

    id: int
    title: str
    destination_name: str
    status: str
    status_message: str | None
    create_load_for_new_tables: bool

    @property
    def connection_id(self) -> int:
        """The connection's id."""
        return self.id

    @classmethod
    def from_model(cls, conn: DestinationConnection) -> ConnectionInfo:
        """Build from the client's model."""
        return cls(
            id=conn.id,
            title=conn.title,
            destination_name=conn.destination_name,
            status=conn.status,
            status_message=conn.status_message,
            create_load_for_new_tables=conn.create_load_for_new_tables,
        )


def program_client() -> ImprovadoClient:
    """A client from the stack config (or the environment), for look-ups in the program.

    Made when the look-up is called, while the program runs (the environment it
    sees then is the deployment's), and used when its inputs are known.
    """
    # Raw config: the values stay out of any Output, so results are not marked secret.
    try:
        return client_from_config(pulumi.runtime.get_config)
    except ImprovadoError as exc:
        raise pulumi.RunError(str(exc)) from None


T = TypeVar("T")


@contextlib.contextmanager
def _api_errors(what: str) -> Iterator[None]:
    """Any API failure of a look-up (unreachable, refused, 5xx after retries) fails the program in one line."""
    try:
        yield
    except pulumi.RunError:
        raise
    except ImprovadoError as exc:
        raise pulumi.RunError(f"{what}: {exc}") from None


def closest(title: str, candidates: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The candidates (id, title) whose titles are closest to ``title``, best first."""
    by_title: dict[str, list[int]] = {}
    for item_id, item_title in candidates:
        by_title.setdefault(item_title, []).append(item_id)
    lowered = {t.lower(): t for t in by_title}
    near = difflib.get_close_matches(title.lower(), list(lowered), n=MAX_CANDIDATES, cutoff=0.5)
    contains = [t for t in lowered if title.lower() in t or t in title.lower()]
    picked = list(dict.fromkeys([*near, *contains]))[:MAX_CANDIDATES]
    return [(item_id, lowered[t]) for t in picked for item_id in by_title[lowered[t]]]


def _listing(items: Sequence[tuple[int, str]]) -> str:
    return ", ".join(f"{title!r} (id {item_id})" for item_id, title in items)


def _one_by_title(kind: str, where: str, title: str, items: Sequence[T], key: Callable[[T], tuple[int, str]]) -> T:
    """The one item titled exactly ``title``, or a RunError naming the candidates."""
    exact = [item for item in items if key(item)[1] == title]
    if len(exact) == 1:
        return exact[0]
    if exact:
        ids = ", ".join(str(key(item)[0]) for item in exact)
        raise pulumi.RunError(
            f"{len(exact)} {kind}s {where} are titled {title!r} (ids {ids}): look it up by id= instead, "
            "or give them distinct titles"
        )
    near = closest(title, [key(item) for item in items])
    hint = f"; did you mean {_listing(near)}?" if near else (
        f"; there are {len(items)}" + (f": {_listing([key(i) for i in items][:MAX_CANDIDATES])}" if items else "")
    )
    raise pulumi.RunError(f"no {kind} {where} is titled {title!r}{hint}")


def _one_of(title: Any, id_: Any, what: str) -> None:
    if (title is None) == (id_ is None):
        raise pulumi.RunError(f"{what}: give title= or id=, exactly one")


def get_data_table(
    *, title: pulumi.Input[str] | None = None, id: pulumi.Input[int] | None = None
) -> pulumi.Output[DataTableInfo]:
    """The data table with exactly this title (or this id) in the stack's workspace.

    Fails the program, naming close titles, when none or several match.
    """
    _one_of(title, id, "get_data_table")
    client = program_client()

    def by_id(value: Any) -> DataTableInfo:
        with client, _api_errors("the look-up failed"):
            try:
                return DataTableInfo.from_model(client.data_tables.get(int(value)))
            except NotFoundError:
                raise pulumi.RunError(f"no data table {int(value)} in this workspace") from None

    def by_title(value: Any) -> DataTableInfo:
        with client, _api_errors("the look-up failed"):
            tables = client.data_tables.list().to_list()
        found = _one_by_title("data table", "in this workspace", str(value), tables, lambda t: (t.id, t.title))
        return DataTableInfo.from_model(found)

    if id is not None:
        return pulumi.Output.from_input(id).apply(by_id)
    return pulumi.Output.from_input(title).apply(by_title)


def get_destination_connection(
    *,
    title: pulumi.Input[str] | None = None,
    destination_name: pulumi.Input[str] | None = None,
    id: pulumi.Input[int] | None = None,
) -> pulumi.Output[ConnectionInfo]:
    """The destination connection with exactly this title (or this id) in the stack's workspace.

    ``destination_name`` (``postgresql``, ``sqlite``…) narrows the search to one
    destination type; without it every type is searched. Fails the program,
    naming close titles, when none or several match.
    """
    _one_of(title, id, "get_destination_connection")
    client = program_client()

    def by_id(args: list[Any]) -> ConnectionInfo:
        value, name = args
        with client, _api_errors("the look-up failed"):
            try:
                conns = client.destination_connections
                found = conns.get(str(name), int(value)) if name else conns.find(int(value))
            except NotFoundError:
                where = f"{name} " if name else ""
                raise pulumi.RunError(f"no {where}destination connection {int(value)} in this workspace") from None
        return ConnectionInfo.from_model(found)

    def by_title(args: list[Any]) -> ConnectionInfo:
        value, name = args
        with client, _api_errors("the look-up failed"):
            conns = client.destination_connections
            every = list(conns.list(str(name)) if name else conns.list_all())
        where = f"of {name}" if name else "in this workspace"
        found = _one_by_title("destination connection", where, str(value), every, lambda c: (c.id, c.title))
        return ConnectionInfo.from_model(found)

    if id is not None:
        return pulumi.Output.all(id, destination_name).apply(by_id)
    return pulumi.Output.all(title, destination_name).apply(by_title)
