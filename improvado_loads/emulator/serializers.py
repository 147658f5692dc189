"""JSON bodies of the Improvado surface (never a DSN, never a token)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from improvado_loads.emulator.clock import iso_utc
from improvado_loads.emulator.store import ConnectionRow, DataTableRow, LoadRow

__all__ = ["connection_json", "data_table_json", "load_json"]


def data_table_json(table: DataTableRow) -> dict[str, Any]:
    """A data table: ``id, title, data_class, by_accounts, columns, date_column``."""
    return {
        "id": table.id,
        "title": table.title,
        "data_class": table.data_class,
        "by_accounts": table.by_accounts,
        "columns": [{"name": c["name"], "type": c["type"]} for c in table.columns],
        "date_column": table.date_column,
    }


def connection_json(connection: ConnectionRow) -> dict[str, Any]:
    """A destination connection, never its params: ``id, title, destination_name, status, status_message,
    create_load_for_new_tables``."""
    return {
        "id": connection.id,
        "title": connection.title,
        "destination_name": connection.destination_type,
        "status": connection.status,
        "status_message": connection.status_message,
        "create_load_for_new_tables": bool(connection.create_load_for_new_tables),
    }


def load_json(session: Session, load: LoadRow) -> dict[str, Any]:
    """A load, with its data table nested."""
    table = session.get(DataTableRow, load.data_table_id)
    return {
        "id": load.id,
        "data_table": {
            "id": load.data_table_id,
            "title": table.title if table else None,
            "data_class": table.data_class if table else None,
            "by_accounts": table.by_accounts if table else None,
        },
        "destination_connection_id": load.destination_connection_id,
        "destination_table": load.destination_table,
        "run_policy": load.run_policy,
        "status": load.status,
        "last_update": iso_utc(load.last_update) if load.last_update else None,
        "error_text": load.error_text,
        "uploaded_rows_count": load.uploaded_rows_count,
        "load_historical_data": load.load_historical_data,
    }
