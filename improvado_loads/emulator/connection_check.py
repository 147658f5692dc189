"""Testing a destination connection: open the database its params name, as a load would.

- ``postgresql``: a libpq connection over TCP with the params' host, port,
  database, user and password (connect timeout
  ``contract.CONNECTION_CHECK_TIMEOUT_SECONDS``), then ``SELECT 1``.
- ``sqlite``: the file ``<data dir>/<database>`` (created when missing), then a
  read of its schema; a name that would leave the data dir, or that names one
  of the emulator's own files there (its state DB, the lock), is never opened.

The result is ``active``, or ``error`` with the driver's own message (its first
line, any password blanked out). Nothing here touches the state DB: the check
runs outside of the store's lock, so a slow destination never stalls the API.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from improvado_loads import contract
from improvado_loads.emulator.datadir_lock import LOCK_NAME
from improvado_loads.emulator.settings import STATE_FILE_NAME

__all__ = ["CheckResult", "check_connection", "connection_dsn", "emulator_file", "sqlite_path"]



@dataclass(frozen=True)
class CheckResult:
    """How a connection test ended: ``status`` and, on failure, the driver's message."""

    status: str
    message: str | None = None


def emulator_file(database: str) -> bool:
    """Whether a file name is one of the emulator's own (its state DB and its journals, the lock)."""
    name = database.casefold()
    return name in (STATE_FILE_NAME, LOCK_NAME) or name.startswith(f"{STATE_FILE_NAME}-")


def sqlite_path(data_dir: Path, database: str) -> Path:
    """The SQLite file of a connection; :class:`ValueError` when the name would leave the data dir
    or names one of the emulator's own files."""
    root = data_dir.resolve()
    path = (root / database).resolve()
    if path.parent != root:
        raise ValueError(f"database {database!r} is not a file name inside the data dir")
    if emulator_file(path.name):
        raise ValueError(f"database {database!r} is the emulator's own file, not a destination")
    return path


def connection_dsn(destination_name: str, params: Mapping[str, Any]) -> str:
    """The URL the emulator writes through: libpq for PostgreSQL, a data-dir-relative ``sqlite:///`` path."""
    if destination_name == "postgresql":
        url = URL.create(
            "postgresql",
            username=str(params["user"]),
            password=str(params.get("password") or "") or None,
            host=str(params["host"]),
            port=int(params.get("port") or contract.POSTGRES_DEFAULT_PORT),
            database=str(params["database"]),
        )
        return url.render_as_string(hide_password=False)
    if destination_name == "sqlite":
        return f"sqlite:///{params['database']}"
    raise ValueError(f"the emulator cannot connect to {destination_name!r} destinations")


def _first_line(exc: BaseException, secret: str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    message = lines[0] if lines else type(exc).__name__
    # A password under 4 characters is not masked: "res***onse" would garble the driver's words
    # and give the password away at once (the drivers do not quote passwords anyway).
    return message.replace(secret, "***") if len(secret) >= 4 else message


def _check_postgresql(params: Mapping[str, Any]) -> CheckResult:
    password = str(params.get("password") or "")
    try:
        with psycopg.connect(
            host=str(params["host"]),
            port=int(params.get("port") or contract.POSTGRES_DEFAULT_PORT),
            dbname=str(params["database"]),
            user=str(params["user"]),
            password=password,
            connect_timeout=contract.CONNECTION_CHECK_TIMEOUT_SECONDS,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return CheckResult(contract.CONNECTION_ERROR, _first_line(exc, password))
    return CheckResult(contract.CONNECTION_ACTIVE)


def _check_sqlite(params: Mapping[str, Any], data_dir: Path) -> CheckResult:
    try:
        path = sqlite_path(data_dir, str(params["database"]))
        conn = sqlite3.connect(path, timeout=contract.CONNECTION_CHECK_TIMEOUT_SECONDS)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, ValueError, OSError) as exc:
        return CheckResult(contract.CONNECTION_ERROR, _first_line(exc, ""))
    return CheckResult(contract.CONNECTION_ACTIVE)


def check_connection(destination_name: str, params: Mapping[str, Any] | None, data_dir: Path) -> CheckResult:
    """Open the database the params name; ``active`` or ``error`` with the driver's message."""
    if params is None:
        return CheckResult(contract.CONNECTION_ERROR, "the connection has no params: reauthorize it with its params")
    if destination_name == "postgresql":
        return _check_postgresql(params)
    if destination_name == "sqlite":
        return _check_sqlite(params, data_dir)
    return CheckResult(contract.CONNECTION_ERROR, f"the emulator cannot connect to {destination_name!r} destinations")
