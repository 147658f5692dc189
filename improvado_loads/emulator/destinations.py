"""Writing rows into destination databases (SQLite files or PostgreSQL).

A destination table is created when missing, with the data table's columns
(date → DATE, text → TEXT, integer → BIGINT, numeric → NUMERIC(18,4)). A
``schema.table`` name creates the schema on PostgreSQL and becomes the table
``schema__table`` on SQLite. Every write is one transaction: it deletes what it
replaces (everything, or the rows of a date range) and inserts the new rows in
bulk (:mod:`.bulk`: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite).
Only tables the emulator created are written (:mod:`.ownership`): a run into
any other existing table fails and changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Engine,
    MetaData,
    Numeric,
    Table,
    Text,
    create_engine,
    inspect,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema
from sqlalchemy.types import TypeEngine

from improvado_loads import contract
from improvado_loads.emulator.bulk import insert_rows
from improvado_loads.emulator.ownership import Owner, claim

__all__ = ["Destinations", "WriteRequest", "bounded_connect_args", "error_text", "sqlalchemy_url"]

_TYPES: dict[str, TypeEngine[Any]] = {
    "date": Date(),
    "text": Text(),
    "integer": BigInteger(),
    "numeric": Numeric(18, 4),
}


def sqlalchemy_url(dsn: str, data_dir: Path) -> str:
    """A SQLAlchemy URL for a connection's DSN.

    libpq URLs (``postgresql://``, ``postgres://``) use psycopg 3; a relative
    SQLite path is taken inside the data dir; a bare path is a SQLite file.
    """
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix):]
    if "://" not in dsn:
        path = Path(dsn)
        return f"sqlite:///{path if path.is_absolute() else data_dir.resolve() / path}"
    if dsn.startswith("sqlite:///") and not dsn.startswith("sqlite:////"):
        relative = dsn[len("sqlite:///"):]
        if relative and relative != ":memory:":
            return f"sqlite:///{data_dir.resolve() / relative}"
    return dsn


def bounded_connect_args(url: str, timeout_seconds: float) -> dict[str, Any]:
    """Driver options so that no destination wait lasts longer than about ``timeout_seconds``.

    PostgreSQL: connect timeout, ``lock_timeout`` (a table another session holds) and, for
    a statement that runs too long, ``statement_timeout`` at three times that (the server
    cancels the statement), and a TCP user timeout for a server that stops answering.
    SQLite: the busy timeout (how long a write waits for another writer's lock).
    A run that hits one fails with the driver's words (``canceling statement due to lock
    timeout``), and the worker is free for the next load.
    """
    millis = max(1, int(timeout_seconds * 1000))
    if url.startswith("postgresql"):
        return {
            "connect_timeout": max(2, min(10, int(timeout_seconds))),
            "options": f"-c lock_timeout={millis} -c statement_timeout={3 * millis}",
            "tcp_user_timeout": 3 * millis + 5000,
        }
    if url.startswith("sqlite"):
        return {"timeout": timeout_seconds}
    return {}


def error_text(exc: BaseException) -> str:
    """The destination's own words for a failure: the first line of the driver's message."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    return lines[0] if lines else type(source).__name__


def _split(engine: Engine, name: str) -> tuple[str | None, str]:
    """(schema, table) of a destination table name; SQLite has no schemas: ``schema__table``."""
    if engine.dialect.name == "sqlite":
        return None, contract.flat_table_name(name)
    schema, _, table = name.rpartition(".")
    return schema or None, table


@dataclass(frozen=True)
class WriteRequest:
    """What one run writes: rows for a table, replacing everything or one date range."""

    dsn: str
    table: str
    #: The load that writes (checked against the tables' recorded owners).
    owner: Owner
    columns: Sequence[dict[str, str]]
    #: Source values in ``columns`` order (ISO dates, numerics as strings or numbers).
    rows: Sequence[Sequence[Any]]
    #: None: full refresh (every existing row goes). Else the rows whose
    #: ``date_column`` lies in this inclusive range go.
    replace_range: tuple[date, date] | None = None
    date_column: str | None = None


class Destinations:
    """Engines per destination URL, and the writes."""

    def __init__(self, data_dir: Path, timeout_seconds: float = 30.0) -> None:
        self._data_dir = data_dir
        #: Bound of every destination wait: connecting, a lock, a statement (see :func:`bounded_connect_args`).
        self.timeout_seconds = timeout_seconds
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def engine(self, dsn: str) -> Engine:
        """The (cached) engine of a DSN; connections are opened per use."""
        url = sqlalchemy_url(dsn, self._data_dir)
        with self._lock:
            if url not in self._engines:
                connect_args = bounded_connect_args(url, self.timeout_seconds)
                self._engines[url] = create_engine(url, poolclass=NullPool, connect_args=connect_args)
            return self._engines[url]

    def _table(self, engine: Engine, name: str, columns: Sequence[dict[str, str]]) -> Table:
        schema, table = _split(engine, name)
        cols = [Column(c["name"], _TYPES.get(c["type"], Text())) for c in columns]
        return Table(table, MetaData(), *cols, schema=schema)

    def _prepare(self, conn: Connection, table: Table, request: WriteRequest) -> None:
        """Check that the request's load may write the table (else raise); create it when missing."""
        if table.schema and not inspect(conn).has_schema(table.schema):
            conn.execute(CreateSchema(table.schema, if_not_exists=True))
        if claim(conn, request.table, table.name, table.schema, request.owner):
            table.create(conn)

    def write(self, request: WriteRequest) -> int:
        """Replace rows as asked, in one transaction; returns the number of rows inserted."""
        engine = self.engine(request.dsn)
        table = self._table(engine, request.table, request.columns)
        with engine.begin() as conn:
            self._prepare(conn, table, request)
            delete = table.delete()
            if request.replace_range is not None and request.date_column:
                low, high = request.replace_range
                delete = delete.where(table.c[request.date_column].between(low, high))
            conn.execute(delete)
            return insert_rows(conn, table, [c["type"] for c in request.columns], request.rows)

    def read(self, dsn: str, name: str) -> list[dict[str, Any]]:
        """Every row of a destination table; LookupError when it does not exist."""
        engine = self.engine(dsn)
        schema, table = _split(engine, name)
        with engine.connect() as conn:
            if not inspect(conn).has_table(table, schema=schema):
                raise LookupError(name)
            reflected = Table(table, MetaData(), autoload_with=conn, schema=schema)
            return [dict(row._mapping) for row in conn.execute(select(reflected))]

    def close(self) -> None:
        """Dispose of every engine."""
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()

