"""Which destination tables the emulator created, and for which load.

The emulator writes only into tables it created. When it creates a destination
table it records, in the same transaction and in the same database, a row of
the small metadata table ``_improvado_loads`` of that table's schema: (destination table name,
emulator instance, connection, load). A run into a table that exists without
such a row (a table of someone else's warehouse, or of another emulator) fails
with :class:`ForeignTableError` before anything is deleted or inserted, and
without creating anything.

A table created for a load of a connection may also be written by another load
of the same emulator and connection into the same table: one that the API let
share it (``allow_shared_table``), or one that replaces a deleted load (the
Pulumi replacement of a load whose data table changed). Such a load is then
recorded as an owner too. So may a load of a later connection of the same
workspace once the table's connection was deleted (a connection deleted out of
band, or by ``pulumi destroy``, and made again by the next ``pulumi up``): the
tables of a live connection, or of another workspace, stay foreign.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, Table, Text, inspect, select, text
from sqlalchemy.engine import Connection

__all__ = ["OWNERSHIP_TABLE", "ForeignTableError", "Owner", "claim"]

#: Name of the metadata table, in the schema of the tables it records.
OWNERSHIP_TABLE = "_improvado_loads"


def _owners_table(schema: str | None) -> Table:
    """The metadata table in ``schema``: beside the tables it records, so that a login that owns a
    schema keeps its records there, never in one that another login's records made visible."""
    return Table(
        OWNERSHIP_TABLE,
        MetaData(),
        Column("destination_table", Text, primary_key=True),
        Column("emulator_id", Text, primary_key=True),
        Column("connection_id", BigInteger, primary_key=True),
        Column("load_id", BigInteger, primary_key=True),
        schema=schema,
    )


def _schema_of(conn: Connection, schema: str | None) -> str | None:
    """The table's schema, the connection's current one when the name has none (SQLite: none)."""
    if schema is not None or conn.dialect.name == "sqlite":
        return schema
    current = conn.execute(text("SELECT current_schema()")).scalar()
    return str(current) if current else None


class ForeignTableError(Exception):
    """The destination table exists but this emulator did not create it for a load of this connection."""


@dataclass(frozen=True)
class Owner:
    """Who writes: a load of a connection of one emulator instance (its state database)."""

    emulator_id: str
    connection_id: int
    load_id: int
    #: Deleted connections of the same workspace and destination type, whose tables this load may take over.
    predecessors: tuple[int, ...] = ()


def claim(conn: Connection, name: str, physical: str, schema: str | None, owner: Owner) -> bool:
    """Check that ``owner`` may write table ``name``; record it as an owner.

    Returns whether the table must be created. Raises :class:`ForeignTableError`,
    having changed nothing, when the table exists and was not created by this
    emulator for a load of this connection (or of one of its ``predecessors``).
    """
    inspector = inspect(conn)
    exists = inspector.has_table(physical, schema=schema)
    _owners = _owners_table(_schema_of(conn, schema))
    known = inspector.has_table(OWNERSHIP_TABLE, schema=_owners.schema)
    rows = (
        conn.execute(
            select(_owners.c.load_id).where(
                _owners.c.destination_table == name,
                _owners.c.emulator_id == owner.emulator_id,
                _owners.c.connection_id.in_((owner.connection_id, *owner.predecessors)),
            )
        ).scalars().all()
        if known
        else []
    )
    if exists and not rows:
        raise ForeignTableError(
            f"destination table '{name}' already exists and was not created by Improvado for this connection "
            f"(no record in {OWNERSHIP_TABLE}): refusing to write into it; nothing was changed. Choose another "
            "destination_table, or drop or rename that table"
        )
    if not known:
        _owners.create(conn, checkfirst=True)
    if owner.load_id not in rows:
        conn.execute(
            _owners.insert(),
            [{"destination_table": name, "emulator_id": owner.emulator_id,
              "connection_id": owner.connection_id, "load_id": owner.load_id}],
        )
    return not exists
