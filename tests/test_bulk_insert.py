"""Bulk insert of a run's rows (improvado_loads.emulator.bulk) stores what a SQLAlchemy insert would.

SQLite files in tmp_path and the test PostgreSQL: no HTTP needed for what is tested here.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Date, MetaData, Numeric, Table, Text, create_engine, select, text

from improvado_loads.emulator.bulk import convert, insert_rows, python_values
from improvado_loads.emulator.destinations import Destinations, WriteRequest, sqlalchemy_url
from improvado_loads.emulator.ownership import Owner
from improvado_loads.emulator.sources import DAILY_COLUMNS

KINDS = [column["type"] for column in DAILY_COLUMNS]
#: Source values as runs get them: ISO dates, numerics as strings (or numbers), a None, an int in a text column.
ROWS: list[tuple[Any, ...]] = [
    ("2026-01-02", "acme-us", "Brand - Search", 5255, 152, "362.19", 9),
    ("2026-01-03", "acme-eu", None, 10, 0, "0.10", None),
    ("2026-01-04", 42, "Generic", "7", 1, 12.5, 3),
]


def test_convert_gives_the_python_value_of_each_kind() -> None:
    assert convert("date", "2026-01-02") == date(2026, 1, 2)
    assert convert("numeric", "362.19") == Decimal("362.19")
    assert convert("numeric", 12.5) == Decimal("12.5")
    assert convert("integer", "7") == 7
    assert convert("text", 42) == "42"
    assert convert("text", None) is None
    assert python_values(KINDS, ROWS)[2] == (date(2026, 1, 4), "42", "Generic", 7, 1, Decimal("12.5"), 3)


def _table(name: str, schema: str | None = None) -> Table:
    """A destination table of the daily columns, typed as the emulator types them."""
    types = {"date": Date(), "text": Text(), "integer": BigInteger(), "numeric": Numeric(18, 4)}
    columns = [Column(column["name"], types[column["type"]]) for column in DAILY_COLUMNS]
    return Table(name, MetaData(), *columns, schema=schema)


def test_sqlite_bulk_insert_stores_exactly_what_a_sqlalchemy_insert_stores(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'dest.sqlite3'}")
    bulk, plain = _table("bulk"), _table("plain")
    names = [column["name"] for column in DAILY_COLUMNS]
    with engine.begin() as conn:
        for table in (bulk, plain):
            table.create(conn)
        assert insert_rows(conn, bulk, KINDS, ROWS) == 3
        conn.execute(plain.insert(), [dict(zip(names, row, strict=True)) for row in python_values(KINDS, ROWS)])
    typed = ", ".join(f"{name}, typeof({name})" for name in names)
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT {typed} FROM bulk ORDER BY rowid")).all()
        expected = conn.execute(text(f"SELECT {typed} FROM plain ORDER BY rowid")).all()
    assert stored == expected
    assert stored[0][0:2] == ("2026-01-02", "text") and stored[0][10:12] == (362.19, "real")
    assert stored[1][4:6] == (None, "null")
    engine.dispose()


def test_sqlite_bulk_insert_of_no_rows_and_of_ragged_rows(tmp_path: Path) -> None:
    engine, table = create_engine(f"sqlite:///{tmp_path / 'dest.sqlite3'}"), _table("t")
    with engine.begin() as conn:
        table.create(conn)
        assert insert_rows(conn, table, KINDS, []) == 0
        with pytest.raises(ValueError, match="7 values"):
            insert_rows(conn, table, KINDS, [ROWS[0], ROWS[1][:5]])
    with engine.connect() as conn:
        assert conn.execute(select(table)).all() == []
    engine.dispose()


def test_postgres_copy_into_a_schema_table_reads_back_the_python_values(postgres_dsn: str, tmp_path: Path) -> None:
    schema = f"bulk_{uuid.uuid4().hex[:8]}"
    engine, table = create_engine(sqlalchemy_url(postgres_dsn, tmp_path)), _table("rows", schema)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        table.create(conn)
        assert insert_rows(conn, table, KINDS, ROWS) == 3
    with engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(table))]
    assert sorted(stored, key=lambda row: row[0]) == python_values(KINDS, ROWS)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.mark.parametrize("destination", ["sqlite", "postgres"])
def test_a_write_replaces_the_rows_of_its_range_in_bulk(destination: str, postgres_dsn: str, tmp_path: Path) -> None:
    """Full refresh, then a date range: the range's rows replaced, the others kept, nothing doubled."""
    dsn = "sqlite:///dest.sqlite3" if destination == "sqlite" else postgres_dsn
    name = f"replace_{uuid.uuid4().hex[:8]}"
    destinations = Destinations(tmp_path)
    owner = Owner("bench", 1, 1)
    try:
        assert destinations.write(WriteRequest(dsn, name, owner, DAILY_COLUMNS, ROWS)) == 3
        again = [("2026-01-03", "acme-eu", "New", 1, 1, "1.00", 1)] * 2
        request = WriteRequest(dsn, name, owner, DAILY_COLUMNS, again,
                               replace_range=(date(2026, 1, 3), date(2026, 1, 3)), date_column="date")
        assert destinations.write(request) == 2
        rows = sorted(destinations.read(dsn, name), key=lambda row: (str(row["date"]), str(row["campaign"])))
        assert [(str(row["date"]), row["campaign"]) for row in rows] == [
            ("2026-01-02", "Brand - Search"), ("2026-01-03", "New"), ("2026-01-03", "New"), ("2026-01-04", "Generic")]
    finally:
        destinations.close()
