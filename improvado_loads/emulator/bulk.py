"""Bulk insert of a run's rows into a destination table, inside the caller's transaction.

PostgreSQL (psycopg 3) gets one ``COPY … FROM STDIN``; SQLite one DB-API
``executemany`` of plain tuples; another driver a SQLAlchemy insert. The rows
arrive as their source values (ISO dates, numerics as strings or numbers) and
are converted a column at a time with built-in functions only, so that 100,000s
of rows cost little more than the driver's own work. A row is stored as a
SQLAlchemy insert of the same Python values would store it: on SQLite a date
as ``YYYY-MM-DD`` text and a numeric as a float (SQLAlchemy's SQLite binding).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

__all__ = ["convert", "insert_rows", "python_values"]

Step = Callable[[Any], Any]

#: Source value → Python value of each column kind (an unknown kind is text).
_PYTHON: dict[str, tuple[Step, ...]] = {
    "date": (date.fromisoformat,),
    "integer": (int,),
    "numeric": (str, Decimal),
    "text": (str,),
}
#: Source value → what SQLAlchemy's SQLite dialect binds for the kind (Date: ISO text; Numeric: float).
_SQLITE: dict[str, tuple[Step, ...]] = {
    "date": (date.fromisoformat, date.isoformat),
    "integer": (int,),
    "numeric": (str, Decimal, float),
    "text": (str,),
}


def convert(kind: str, value: Any) -> Any:
    """One source value (ISO date, numeric as a string) as the Python value of its column kind."""
    if value is None:
        return None
    for step in _PYTHON.get(kind, _PYTHON["text"]):
        value = step(value)
    return value


def _column(values: list[Any], steps: tuple[Step, ...]) -> list[Any]:
    if None in values:
        return [None if value is None else _apply(steps, value) for value in values]
    for step in steps:
        values = list(map(step, values))
    return values


def _apply(steps: tuple[Step, ...], value: Any) -> Any:
    for step in steps:
        value = step(value)
    return value


def _converted(
    kinds: Sequence[str], rows: Sequence[Sequence[Any]], table: dict[str, tuple[Step, ...]]
) -> Sequence[Sequence[Any]]:
    """The rows with converted values: taken apart column by column, mapped, put back together.

    A text or integer column whose values all have that type already is left as it is, and
    rows needing no conversion at all are returned unchanged.
    """
    width = len(kinds)
    if any(len(row) != width for row in rows):
        raise ValueError(f"a row does not have the table's {width} values")
    columns: list[list[Any]] = []
    changed = False
    for index, kind in enumerate(kinds):
        steps = table.get(kind, table["text"])
        values = list(map(itemgetter(index), rows))
        if len(steps) == 1 and steps[0] in (str, int) and set(map(type, values)) <= {steps[0], type(None)}:
            columns.append(values)  # already of its type
        else:
            columns.append(_column(values, steps))
            changed = True
    return list(zip(*columns, strict=True)) if changed else rows


def python_values(kinds: Sequence[str], rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """The rows with every value as the Python value of its column kind (``date``, ``Decimal``, …)."""
    return _converted(kinds, rows, _PYTHON)


def _copy(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    from psycopg import sql

    name = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        name, sql.SQL(", ").join(sql.Identifier(column.name) for column in table.columns)
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(conn: Connection, table: Table, kinds: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in ``table.columns`` order, of the column ``kinds``); returns how many."""
    if not rows:
        return 0
    dialect = conn.dialect
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        statement = str(table.insert().compile(dialect=dialect))
        conn.exec_driver_sql(statement, _converted(kinds, rows, _SQLITE))
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, table, python_values(kinds, rows))
    else:
        names = [column.name for column in table.columns]
        conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in python_values(kinds, rows)])
    return len(rows)
