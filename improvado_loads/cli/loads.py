"""``improvado-loads loads``: list, show and run loads."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated

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
    handle_errors,
    new_app,
    print_json,
    stderr_console,
    stdout_console,
    text,
    when,
)
from improvado_loads.errors import WaitTimeoutError
from improvado_loads.models import Load, LoadStatus

if TYPE_CHECKING:
    from rich.table import Table

    from improvado_loads.client import ImprovadoClient

app = new_app(
    """List, show and run loads (load orders: one data table into one destination table).

\b
Examples:
  improvado-loads loads list
  improvado-loads loads get 12 --output json
  improvado-loads loads run 12 --from 2026-10-01 --to 2026-10-31 --wait
"""
)

DataTableIdOption = Annotated[int | None, typer.Option("--data-table-id", help="Only loads of this data table.")]
ConnectionIdOption = Annotated[
    int | None, typer.Option("--destination-connection-id", help="Only loads into this destination connection.")
]
DestinationNameOption = Annotated[
    str | None, typer.Option("--destination-name", help="Only loads into this destination type, e.g. postgresql.")
]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _status_style(status: object) -> str:
    return {"success": "green", "failed": "red", "running": "cyan", "queued": "cyan", "paused": "yellow"}.get(
        str(status), ""
    )


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
        status.stylize(_status_style(load.status))
        table.add_row(
            text(load.id),
            text(f"{load.data_table.id} {load.data_table.title or ''}".strip()),
            text(
                f"{load.destination_connection_id if load.destination_connection_id is not None else '?'} → "
                f"{load.destination_table}"
            ),
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
        ("Data table", f"{load.data_table.id} {load.data_table.title or ''}".strip()),
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


@app.command("list")
@handle_errors
def list_loads(
    data_table_id: DataTableIdOption = None,
    destination_connection_id: ConnectionIdOption = None,
    destination_name: DestinationNameOption = None,
    output: OutputOption = OutputFormat.TABLE,
    page_size: Annotated[
        int,
        typer.Option("--page-size", min=1, max=contract.MAX_PAGE_SIZE, hidden=True, help="Loads per API request."),
    ] = contract.DEFAULT_PAGE_SIZE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """List the loads of the workspace (every page), optionally filtered.

    \b
    Examples:
      improvado-loads loads list
      improvado-loads loads list --data-table-id 1 --destination-name postgresql
      improvado-loads loads list --output json | jq '.[].id'
    """
    with client_for(api_url, token, workspace_id) as client:
        loads = client.loads.list(
            data_table_id=data_table_id,
            destination_connection_id=destination_connection_id,
            destination_name=destination_name,
            page_size=page_size,
        ).to_list()
    if output is OutputFormat.JSON:
        print_json([load.model_dump(mode="json") for load in loads])
        return
    console = stdout_console()
    if not loads:
        typer.echo("No loads.")
        return
    console.print(loads_table(loads))
    typer.echo(f"{len(loads)} load{'s' if len(loads) != 1 else ''}")


@app.command("get")
@handle_errors
def get_load(
    load_id: Annotated[int, typer.Argument(help="The load's id.", show_default=False)],
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Show one load: its data table, destination, run policy and last run.

    \b
    Examples:
      improvado-loads loads get 12
      improvado-loads loads get 12 --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.get(load_id)
    if output is OutputFormat.JSON:
        print_json(load.model_dump(mode="json"))
    else:
        stdout_console().print(load_details(load))


def parse_date(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value, or a usage problem naming the option."""
    if value is None:
        return None
    try:
        if not _DATE_RE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"{option} must be a date as YYYY-MM-DD, got {value!r}") from None


def parse_range(date_from: str | None, date_to: str | None) -> tuple[date | None, date | None]:
    """The ``--from``/``--to`` range: both or neither, well-formed, in order."""
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if (start is None) != (end is None):
        given, missing = ("--from", "--to") if end is None else ("--to", "--from")
        raise UsageProblem(f"{given} needs {missing}: give both ends of the date range, or neither")
    if start is not None and end is not None and start > end:
        raise UsageProblem(f"--from {start} is after --to {end}")
    return start, end


def _summary(load: Load) -> str:
    rows = f", {load.uploaded_rows_count} rows" if load.uploaded_rows_count is not None else ""
    return f"load {load.id}: {load.status}{rows} into {load.destination_table} (last update {when(load.last_update)})"


@app.command("run")
@handle_errors
def run_load(
    load_id: Annotated[int, typer.Argument(help="The load to run.", show_default=False)],
    date_from: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the range (with --to).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the range (with --from).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run to end; exit 1 if it fails.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0, help="Seconds to wait, with --wait.")] = 600.0,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.01, help="Seconds between status checks, with --wait.")
    ] = 1.0,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Start a run of a load now, for a date range or the load's default range.

    With --wait, show the run's status until it ends: exit 0 when it succeeds,
    1 when it fails (with the destination's error) or the wait times out.

    \b
    Examples:
      improvado-loads loads run 12
      improvado-loads loads run 12 --wait
      improvado-loads loads run 12 --from 2026-10-01 --to 2026-10-31 --wait --timeout 900
    """
    start, end = parse_range(date_from, date_to)
    with client_for(api_url, token, workspace_id) as client:
        started = client.loads.run(load_id, date_from=start, date_to=end)
        period = f" for {start}..{end}" if start else ""
        if not wait:
            typer.echo(
                f"load {load_id}: run started{period}, status {started.status}. "
                f"Follow it with: improvado-loads loads get {load_id}"
            )
            return
        final = _wait(client, load_id, period, timeout, poll_interval)
    if str(final.status) == LoadStatus.SUCCESS.value:
        typer.echo(_summary(final))
        return
    if str(final.status) == LoadStatus.FAILED.value:
        raise CommandFailed(f"load {load_id}: the run failed: {final.error_text or 'no error text given'}")
    raise CommandFailed(f"load {load_id}: the run ended with status {final.status}")


def _wait(client: ImprovadoClient, load_id: int, period: str, timeout: float, poll_interval: float) -> Load:
    """Poll the load until its run ends, showing a live status line on stderr.

    On a terminal the line is a Rich spinner, updated in place; elsewhere (a log,
    a pipe) each change of status is printed once.
    """
    console = stderr_console()
    seen: list[str] = []

    with console.status(f"load {load_id}: starting run{period}…") as spinner:

        def on_poll(load: Load) -> None:
            line = f"load {load_id}: {load.status}{period}"
            spinner.update(line)
            if not console.is_terminal and (not seen or seen[-1] != str(load.status)):
                console.print(text(line))
            seen.append(str(load.status))

        try:
            return client.loads.wait(load_id, timeout=timeout, poll_interval=poll_interval, on_poll=on_poll)
        except WaitTimeoutError:
            state = seen[-1] if seen else "unknown"
            raise CommandFailed(
                f"timed out after {timeout:g}s waiting for load {load_id} (still {state}); "
                f"the run goes on: check it with 'improvado-loads loads get {load_id}'"
            ) from None
