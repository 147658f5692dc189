"""``improvado-loads data-tables`` and ``improvado-loads destinations``: the read-only catalog."""

from __future__ import annotations

from typing import Annotated

import typer
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
    print_json,
    stdout_console,
    text,
)
from improvado_loads.models import DataTable, DestinationConnection

data_tables_app = new_app(
    """List the data tables of the workspace: the sources of loads.

\b
Examples:
  improvado-loads data-tables list
  improvado-loads data-tables list --output json
"""
)

destinations_app = new_app(
    """List the destination connections (warehouses) loads can push into.

\b
Examples:
  improvado-loads destinations list
  improvado-loads destinations list --destination-name postgresql --output json
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


def connections_table(connections: list[DestinationConnection]) -> Table:
    """The readable table of destination connections."""
    table = Table(header_style="bold")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Title")
    table.add_column("Type", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    styles = {"active": "green", "error": "red", "initializing": "yellow"}
    for item in connections:
        status = text(item.status)
        status.stylize(styles.get(item.status, ""))
        table.add_row(text(item.id), text(item.title), text(item.destination_type), status)
    return table


@data_tables_app.command("list")
@handle_errors
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
    if output is OutputFormat.JSON:
        print_json([item.model_dump(mode="json") for item in tables])
    elif not tables:
        typer.echo("No data tables.")
    else:
        stdout_console().print(data_tables_table(tables))


@destinations_app.command("list")
@handle_errors
def list_destinations(
    destination_name: Annotated[
        str | None,
        typer.Option(
            "--destination-name",
            help="Only this destination type (postgresql, sqlite, bigquery, snowflake…). Default: every type.",
        ),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """List destination connections, of one destination type or of every type.

    \b
    Examples:
      improvado-loads destinations list
      improvado-loads destinations list --destination-name postgresql
      improvado-loads destinations list --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        if destination_name:
            connections = client.destination_connections.list(destination_name).to_list()
        else:
            connections = sorted(client.destination_connections.list_all(), key=lambda item: item.id)
    if output is OutputFormat.JSON:
        print_json([item.model_dump(mode="json") for item in connections])
    elif not connections:
        typer.echo("No destination connections.")
    else:
        stdout_console().print(connections_table(connections))
