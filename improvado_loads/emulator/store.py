"""The emulator's state: SQLAlchemy tables in ``<data_dir>/emulator.sqlite3``.

Every access goes through :meth:`Store.session`, which holds the store's
re-entrant lock for the whole transaction: the API threads, the run workers and
the scheduler never interleave their reads and writes, and SQLite never sees two
writers. Transactions are short; destination writes happen outside of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    String,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    literal,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

__all__ = [
    "Base",
    "ConnectionRow",
    "DataTableRow",
    "LoadRow",
    "MetaRow",
    "SourceRow",
    "Store",
    "TokenRow",
    "WorkspaceRow",
]


class Base(DeclarativeBase):
    """Declarative base of the emulator's tables."""


class MetaRow(Base):
    """Key/value facts about the emulator itself (seeded flag, clock offset)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str]


class WorkspaceRow(Base):
    """An Improvado workspace."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str]


class TokenRow(Base):
    """An exchanged bearer token, stored as its SHA-256 digest."""

    __tablename__ = "tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    #: Wall-clock expiry, seconds since the epoch (tokens ignore the emulator clock).
    expires_at: Mapped[float]


class DataTableRow(Base):
    """An Improvado data table: the source of loads."""

    __tablename__ = "data_tables"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    title: Mapped[str]
    data_class: Mapped[str]
    by_accounts: Mapped[bool]
    date_column: Mapped[str | None]
    #: ``[{"name": ..., "type": "date"|"text"|"integer"|"numeric"}, ...]``
    columns: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    #: Which synthetic source feeds it (see :mod:`improvado_loads.emulator.sources`).
    source_kind: Mapped[str]


class SourceRow(Base):
    """One row of a data table; values as JSON (dates ISO, numerics as strings)."""

    __tablename__ = "source_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    data_table_id: Mapped[int] = mapped_column(ForeignKey("data_tables.id"), index=True)
    day: Mapped[date | None] = mapped_column(Date, index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)


class ConnectionRow(Base):
    """A destination connection; its params and DSN never leave the emulator.

    A deleted connection stays (``deleted_at`` set) so that its loads keep their
    reference: it answers 404 and its loads' runs fail saying it was deleted.
    """

    __tablename__ = "connections"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    title: Mapped[str]
    #: The API's ``destination_name`` (``postgresql``, ``sqlite``).
    destination_type: Mapped[str]
    status: Mapped[str]
    #: The destination's own words when the last connection test failed.
    status_message: Mapped[str | None] = mapped_column(default=None)
    create_load_for_new_tables: Mapped[bool] = mapped_column(default=False)
    #: The connection params as given (password included): stored here only.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: SQLAlchemy or libpq URL derived from the params (or set by the control
    #: surface); a relative ``sqlite:///`` path is inside the data dir.
    dsn: Mapped[str | None]
    #: Which seeded connection this is ("warehouse", "analytics", "legacy"); "" when made through the API.
    seed_key: Mapped[str] = mapped_column(default="")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class LoadRow(Base):
    """A load order and the state of its runs.

    The status shown by the API is derived: ``paused`` when paused, else the
    run state when a run is queued or running, else the result of the last run.
    """

    __tablename__ = "loads"
    __table_args__ = (
        UniqueConstraint("workspace_id", "data_table_id", "destination_connection_id", "destination_table"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    data_table_id: Mapped[int] = mapped_column(ForeignKey("data_tables.id"))
    destination_connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    destination_table: Mapped[str]
    run_policy: Mapped[str]
    load_historical_data: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(DateTime)
    paused: Mapped[bool] = mapped_column(default=False)
    #: "idle", "queued" or "running".
    run_state: Mapped[str] = mapped_column(default="idle")
    #: "new", "success" or "failed": how the last run ended.
    result_status: Mapped[str] = mapped_column(default="new")
    #: Bumped by each queued run, so that a stale job is recognised and skipped.
    run_seq: Mapped[int] = mapped_column(default=0)
    pending_from: Mapped[date | None] = mapped_column(Date, default=None)
    pending_to: Mapped[date | None] = mapped_column(Date, default=None)
    last_update: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    error_text: Mapped[str | None] = mapped_column(default=None)
    uploaded_rows_count: Mapped[int | None] = mapped_column(default=None)
    #: The latest source date this load has written (incremental loads restart there).
    watermark: Mapped[date | None] = mapped_column(Date, default=None)
    successful_runs: Mapped[int] = mapped_column(default=0)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    @property
    def status(self) -> str:
        """The status the API shows."""
        if self.paused:
            return "paused"
        if self.run_state != "idle":
            return self.run_state
        return self.result_status


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _add_missing_columns(engine: Engine) -> None:
    """Bring a state DB made by an older version up to date: add the columns it lacks.

    A new column gets its scalar default (or NULL), so existing rows read as before.
    """
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
                default = getattr(column.default, "arg", None) if column.default is not None else None
                if default is not None and not callable(default):
                    rendered = literal(default).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
                    ddl += f" DEFAULT {rendered}"
                conn.execute(text(ddl))


class Store:
    """The state database and its transactions."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.engine: Engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", _tune_sqlite)
        #: Held for the whole of every transaction; re-entrant so that a caller
        #: may group several transactions (e.g. set the clock, then queue due loads).
        self.lock = threading.RLock()
        Base.metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        with self.lock, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def get_meta(self, session: Session, key: str) -> str | None:
        """A value of the meta table, or None."""
        row = session.get(MetaRow, key)
        return row.value if row else None

    def set_meta(self, session: Session, key: str, value: str) -> None:
        """Set a value of the meta table."""
        row = session.get(MetaRow, key)
        if row is None:
            session.add(MetaRow(key=key, value=value))
        else:
            row.value = value

    def close(self) -> None:
        """Release the database file."""
        self.engine.dispose()
