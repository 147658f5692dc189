"""How loads read on a terminal: the table of loads, one load's fields, one-line summaries.

Rich is imported inside the functions, so that ``--output json`` never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from improvado_loads import contract
from improvado_loads.cli.common import text, when
from improvado_loads.models import Load

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["destination", "load_details", "loads_table", "range_ignored", "summary"]

_STATUS_STYLES = {"success": "green", "failed": "red", "running": "cyan", "queued": "cyan", "paused": "yellow"}


def destination(load: Load) -> str:
    """``1 → google_ads_daily``: the connection and the table a load writes into."""
    connection = load.destination_connection_id if load.destination_connection_id is not None else "?"
    return f"{connection} → {load.destination_table}"


def _data_table(load: Load) -> str:
    return f"{load.data_table.id} {load.data_table.title or ''}".strip()


def loads_table(loads: list[Load]) -> Table:
    """The readable table of loads."""
    from rich.table import Table

    table = Table(title=None, header_style="bold", show_lines=False)
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Data table")
    table.add_column("Destination")
    table.add_column("Run policy", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Rows", justify="right", no_wrap=True)
    table.add_column("Last update", no_wrap=True)
    for load in loads:
        status = text(load.status)
        status.stylize(_STATUS_STYLES.get(str(load.status), ""))
        table.add_row(
            text(load.id),
            text(_data_table(load)),
            text(destination(load)),
            text(load.run_policy),
            status,
            text(load.uploaded_rows_count),
            text(when(load.last_update)),
        )
    return table


def load_details(load: Load) -> Table:
    """One load as a two-column table of its fields."""
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2), pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    rows: list[tuple[str, object]] = [
        ("ID", load.id),
        ("Data table", _data_table(load)),
        ("Data class", load.data_table.data_class),
        ("By accounts", load.data_table.by_accounts),
        ("Destination connection", load.destination_connection_id),
        ("Destination table", load.destination_table),
        ("Run policy", load.run_policy),
        ("Historical data", load.load_historical_data),
        ("Status", load.status),
        ("Rows uploaded", load.uploaded_rows_count),
        ("Last update", when(load.last_update)),
        ("Error", load.error_text),
    ]
    for name, value in rows:
        table.add_row(name, text(value))
    return table


def summary(load: Load) -> str:
    """``load 1: success, 42 rows into google_ads_daily (last update 2026-11-29T04:00:45Z)``."""
    rows = f", {load.uploaded_rows_count} rows" if load.uploaded_rows_count is not None else ""
    return f"load {load.id}: {load.status}{rows} into {load.destination_table} (last update {when(load.last_update)})"


def range_ignored(load: Load) -> str | None:
    """Why a date range means nothing for this load's data table (it is reloaded whole), or None."""
    table = load.data_table
    name = f"data table {table.id}" + (f" ({table.title})" if table.title else "")
    if table.data_class in contract.FULL_REFRESH_DATA_CLASSES:
        return f"{name} is a {table.data_class} table"
    if table.by_accounts:
        return f"{name} is loaded by accounts"
    return None
