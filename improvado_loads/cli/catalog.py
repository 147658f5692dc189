"""``improvado-loads data-tables``: the read-only catalog of sources (destinations: :mod:`.destinations`)."""

from __future__ import annotations

from rich.table import Table

from improvado_loads.cli.common import (
    ApiUrlOption,
    OutputFormat,
    OutputOption,
    TokenOption,
    WorkspaceIdOption,
    client_for,
    handle_errors,
    new_app,
    print_list,
    text,
)
from improvado_loads.cli.startup import short_lived
from improvado_loads.models import DataTable

data_tables_app = new_app(
    """List the data tables of the workspace: the sources of loads.

\b
Examples:
  improvado-loads data-tables list
  improvado-loads data-tables list --output json
"""
)

def data_tables_table(tables: list[DataTable]) -> Table:
    """The readable table of data tables."""
    table = Table(header_style="bold")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Title")
    table.add_column("Data class", no_wrap=True)
    table.add_column("By accounts", no_wrap=True)
    table.add_column("Date column", no_wrap=True)
    table.add_column("Columns", justify="right", no_wrap=True)
    for item in tables:
        table.add_row(
            text(item.id),
            text(item.title),
            text(item.data_class),
            text(item.by_accounts),
            text(item.date_column),
            text(len(item.columns)),
        )
    return table


@data_tables_app.command("list")
@handle_errors
@short_lived
def list_data_tables(
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """List every data table of the workspace (every page).

    \b
    Examples:
      improvado-loads data-tables list
      improvado-loads data-tables list --output json | jq -r '.[].title'
    """
    with client_for(api_url, token, workspace_id) as client:
        tables = client.data_tables.list().to_list()
    print_list(tables, output, data_tables_table, "No data tables.")
