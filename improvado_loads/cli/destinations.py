"""``improvado-loads destinations``: list, get, create, update, reauthorize, recheck, delete.

A password is never an argument: it is read from a hidden prompt, from stdin
(``--password-stdin``) or from ``IMPROVADO_DESTINATION_PASSWORD``. A connection
whose test fails is still created (or kept): the command prints it, then one
``error:`` line with the destination's own words, and exits 1.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from improvado_loads import contract
from improvado_loads.cli.common import (
    ApiUrlOption,
    CommandFailed,
    OutputFormat,
    OutputOption,
    TokenOption,
    UsageProblem,
    WorkspaceIdOption,
    client_for,
    confirm,
    handle_errors,
    new_app,
    print_json,
    print_list,
    text,
)
from improvado_loads.cli.startup import short_lived
from improvado_loads.errors import NotFoundError

if TYPE_CHECKING:
    from rich.table import Table

    from improvado_loads.client import ImprovadoClient
    from improvado_loads.models import DestinationConnection

__all__ = ["PASSWORD_ENV", "connections_table", "destinations_app"]

#: Where a destination password may come from instead of the prompt.
PASSWORD_ENV = "IMPROVADO_DESTINATION_PASSWORD"

destinations_app = new_app(
    """Destination connections (warehouses) that loads push into: list, show, create, change, test, delete.

\b
Examples:
  improvado-loads destinations list
  improvado-loads destinations create --destination-name postgresql --title Warehouse \\
      --host db.internal --database dw --user loader --schema improvado    # prompts for the password
  improvado-loads destinations create --destination-name sqlite --title Local --database local.sqlite3
  improvado-loads destinations reauthorize 7 --host db.internal --database dw --user loader --password-stdin
  improvado-loads destinations delete 7
"""
)

IdArgument = Annotated[int, typer.Argument(metavar="ID", help="Destination connection id.", min=1)]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--destination-name",
        metavar="NAME",
        help="Destination type (postgresql, sqlite…). Default: found from the id.",
        show_default=False,
    ),
]
HostOption = Annotated[str | None, typer.Option("--host", help="PostgreSQL: server host.", show_default=False)]
PortOption = Annotated[int | None, typer.Option("--port", help="PostgreSQL: server port (5432).", show_default=False)]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", help="PostgreSQL: database name. SQLite: file name in the data dir.", show_default=False
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", help="PostgreSQL: user name.", show_default=False)]
SchemaOption = Annotated[
    str | None,
    typer.Option("--schema", help="PostgreSQL: schema of tables named without one (public).", show_default=False),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help=f"Read the password from stdin (else from ${PASSWORD_ENV}, else a hidden prompt).",
    ),
]


def connections_table(connections: list[DestinationConnection]) -> Table:
    """The readable table of destination connections."""
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Title")
    table.add_column("Type", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Automated load", no_wrap=True)
    table.add_column("Message")
    styles = {"active": "green", "error": "red", "initializing": "yellow"}
    for item in connections:
        status = text(item.status)
        status.stylize(styles.get(item.status, ""))
        table.add_row(
            text(item.id),
            text(item.title),
            text(item.destination_name),
            status,
            text("yes" if item.create_load_for_new_tables else "no"),
            text(item.status_message),
        )
    return table


def _show(connections: list[DestinationConnection], output: OutputFormat, *, one: bool = False) -> None:
    if one and output is OutputFormat.JSON:
        print_json(connections[0].model_dump(mode="json"))
    else:
        print_list(connections, output, connections_table, "No destination connections.")


def _workspace(client: ImprovadoClient) -> str:
    return f"workspace {client.workspace_id}" if client.workspace_id is not None else "the token's workspace"


def _resolve(client: ImprovadoClient, connection_id: int, destination_name: str | None) -> DestinationConnection:
    """The connection, of the type given or found from its id; a clear error when it does not exist."""
    try:
        if destination_name:
            return client.destination_connections.get(destination_name, connection_id)
        return client.destination_connections.find(connection_id)
    except NotFoundError:
        kind = f" ({destination_name})" if destination_name else ""
        raise CommandFailed(
            f"destination connection {connection_id}{kind} does not exist in {_workspace(client)}"
        ) from None


def _password(from_stdin: bool) -> str:
    """The password: stdin with ``--password-stdin``, else the environment variable, else a hidden prompt."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise UsageProblem("--password-stdin: stdin gave no password")
        return value
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        prompted: str = typer.prompt("Destination password", hide_input=True, err=True)
    except typer.Abort:
        raise UsageProblem(
            f"no password: type it at the prompt, pipe it with --password-stdin or set ${PASSWORD_ENV}"
        ) from None
    return prompted


def _params(destination_name: str, from_stdin: bool, **given: Any) -> dict[str, Any]:
    """The connection params from the options given, plus the password when the type has one."""
    params = {key: value for key, value in given.items() if value is not None}
    for field in contract.SECRET_PARAM_FIELDS.get(destination_name, ()):
        params[field] = _password(from_stdin)
    return params


def _fail_unless_active(connection: DestinationConnection, what: str) -> None:
    if connection.status != contract.CONNECTION_ACTIVE:
        reason = f": {connection.status_message}" if connection.status_message else ""
        raise CommandFailed(
            f"destination connection {connection.id} {what} but its status is {connection.status}{reason}; "
            f"fix the params with 'improvado-loads destinations reauthorize {connection.id}'"
        )


@destinations_app.command("list")
@handle_errors
@short_lived
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
    _show(connections, output)


@destinations_app.command("get")
@handle_errors
@short_lived
def get_destination(
    connection_id: IdArgument,
    destination_name: NameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Show one destination connection (its params are never shown: the API does not return them).

    \b
    Examples:
      improvado-loads destinations get 7
      improvado-loads destinations get 7 --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        connection = _resolve(client, connection_id, destination_name)
    _show([connection], output, one=True)


@destinations_app.command("create")
@handle_errors
def create_destination(
    destination_name: Annotated[
        str, typer.Option("--destination-name", metavar="NAME", help="Destination type: postgresql or sqlite.")
    ],
    title: Annotated[str, typer.Option("--title", help="The connection's title (unique titles make look-ups easy).")],
    host: HostOption = None,
    port: PortOption = None,
    database: DatabaseOption = None,
    user: UserOption = None,
    schema: SchemaOption = None,
    password_stdin: PasswordStdinOption = False,
    create_load_for_new_tables: Annotated[
        bool, typer.Option("--create-load-for-new-tables", help="Automated load: a load for every new data table.")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Create a destination connection; the API tests it at once.

    Exits 1 when the test fails (the connection is created with status error: reauthorize it).

    \b
    Examples:
      improvado-loads destinations create --destination-name postgresql --title Warehouse \\
          --host db.internal --database dw --user loader --schema improvado
      printf '%s\\n' "$DW_PASSWORD" | improvado-loads destinations create --destination-name postgresql \\
          --title Warehouse --host db.internal --database dw --user loader --password-stdin -o json
      improvado-loads destinations create --destination-name sqlite --title Local --database local.sqlite3
    """
    params = _params(destination_name, password_stdin, host=host, port=port, database=database, user=user,
                     schema=schema)
    with client_for(api_url, token, workspace_id) as client:
        connection = client.destination_connections.create(
            destination_name=destination_name,
            title=title,
            connection_params=params,
            create_load_for_new_tables=create_load_for_new_tables,
        )
    _show([connection], output, one=True)
    _fail_unless_active(connection, "was created")


@destinations_app.command("update")
@handle_errors
def update_destination(
    connection_id: IdArgument,
    title: Annotated[str | None, typer.Option("--title", help="New title.", show_default=False)] = None,
    create_load_for_new_tables: Annotated[
        bool | None,
        typer.Option(
            "--create-load-for-new-tables/--no-create-load-for-new-tables",
            help="Automated load on or off.",
            show_default=False,
        ),
    ] = None,
    destination_name: NameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Change a connection's title or automated-load flag (params change with reauthorize).

    \b
    Examples:
      improvado-loads destinations update 7 --title "Main warehouse"
      improvado-loads destinations update 7 --no-create-load-for-new-tables
    """
    if title is None and create_load_for_new_tables is None:
        raise UsageProblem("nothing to change: give --title and/or --[no-]create-load-for-new-tables")
    with client_for(api_url, token, workspace_id) as client:
        found = _resolve(client, connection_id, destination_name)
        connection = client.destination_connections.update(
            found.destination_name, connection_id, title=title, create_load_for_new_tables=create_load_for_new_tables
        )
    _show([connection], output, one=True)


@destinations_app.command("reauthorize")
@handle_errors
def reauthorize_destination(
    connection_id: IdArgument,
    host: HostOption = None,
    port: PortOption = None,
    database: DatabaseOption = None,
    user: UserOption = None,
    schema: SchemaOption = None,
    password_stdin: PasswordStdinOption = False,
    destination_name: NameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Replace a connection's params (all of them) and test it again; exits 1 when the test fails.

    \b
    Examples:
      improvado-loads destinations reauthorize 7 --host db.internal --database dw --user loader
      IMPROVADO_DESTINATION_PASSWORD=... improvado-loads destinations reauthorize 7 \\
          --host db.internal --database dw --user loader
    """
    with client_for(api_url, token, workspace_id) as client:
        found = _resolve(client, connection_id, destination_name)
        params = _params(found.destination_name, password_stdin, host=host, port=port, database=database, user=user,
                         schema=schema)
        connection = client.destination_connections.reauthorize(found.destination_name, connection_id, params)
    _show([connection], output, one=True)
    _fail_unless_active(connection, "was reauthorized")


@destinations_app.command("recheck")
@handle_errors
def recheck_destination(
    connection_id: IdArgument,
    destination_name: NameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Test a connection again with its params; exits 1 when the test fails.

    \b
    Examples:
      improvado-loads destinations recheck 7
    """
    with client_for(api_url, token, workspace_id) as client:
        found = _resolve(client, connection_id, destination_name)
        connection = client.destination_connections.recheck(found.destination_name, connection_id)
    _show([connection], output, one=True)
    _fail_unless_active(connection, "was tested again")


@destinations_app.command("delete")
@handle_errors
def delete_destination(
    connection_id: IdArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    destination_name: NameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Delete a connection: its loads stay but stop (their next run fails); no data is deleted.

    Asks for confirmation unless --yes.

    \b
    Examples:
      improvado-loads destinations delete 7
      improvado-loads destinations delete 7 --yes --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        found = _resolve(client, connection_id, destination_name)
        loads = client.loads.list(destination_connection_id=connection_id).to_list()
        if not yes:
            stops = f"; its {len(loads)} load(s) will stop" if loads else ""
            question = (
                f"Delete destination connection {connection_id} ({found.title}, {found.destination_name}){stops}?"
            )
            unanswered = (
                f"destination connection {connection_id} was not deleted (nobody answered; --yes skips the question)"
            )
            if not confirm(question, unanswered=unanswered):
                raise CommandFailed(
                    f"destination connection {connection_id} was not deleted (not confirmed; --yes skips the question)"
                )
        client.destination_connections.delete(found.destination_name, connection_id)
    if output is OutputFormat.JSON:
        print_json({"deleted": connection_id, "destination_name": found.destination_name,
                    "stopped_loads": [load.id for load in loads]})
    else:
        stopped = f"; loads that stop: {', '.join(str(load.id) for load in loads)}" if loads else ""
        typer.echo(f"Deleted destination connection {connection_id} ({found.title}){stopped}. No data was deleted.")
