"""``improvado-loads loads``: list, show, create, change, run, pause and delete loads.

Every command takes ``--output json`` for scripts (the API's load object, or
``{"id": ..., "deleted": true}``); the readable form is the default.
"""

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
    confirm,
    handle_errors,
    new_app,
    print_json,
    print_list,
    stderr_console,
    stdout_console,
    text,
    warn,
)
from improvado_loads.cli.load_views import destination, load_details, loads_table, range_ignored, summary
from improvado_loads.cli.startup import short_lived
from improvado_loads.errors import ConflictError, TableInUseError, WaitTimeoutError
from improvado_loads.models import Load, LoadStatus, RunPolicy

if TYPE_CHECKING:
    from improvado_loads.client import ImprovadoClient

__all__ = ["app", "parse_date", "parse_range"]

app = new_app(
    """Create, list, show, change, run, pause and delete loads (load orders: one data table into one
destination table).

\b
Examples:
  improvado-loads loads list
  improvado-loads loads get 12 --output json
  improvado-loads loads create --data-table-id 1 --destination-connection-id 2 --destination-table ads_daily
  improvado-loads loads run 12 --from 2026-10-01 --to 2026-10-31 --wait
  improvado-loads loads delete 12 --yes
"""
)

DataTableIdOption = Annotated[
    int | None, typer.Option("--data-table-id", metavar="ID", help="Only loads of this data table.")
]
ConnectionIdOption = Annotated[
    int | None,
    typer.Option(
        "--destination-connection-id", metavar="ID", help="Only loads into this destination connection."
    ),
]
DestinationNameOption = Annotated[
    str | None,
    typer.Option(
        "--destination-name", metavar="TYPE", help="Only loads into this destination type, e.g. postgresql."
    ),
]
LoadIdArgument = Annotated[int, typer.Argument(metavar="LOAD_ID", min=1, help="The load's id.", show_default=False)]
RunPolicyOption = Annotated[
    RunPolicy,
    typer.Option(
        "--run-policy",
        case_sensitive=False,
        help="When the load runs: manual, after_extraction (after each extraction), hourly, daily or weekly.",
    ),
]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _show(load: Load, output: OutputFormat, headline: str | None = None) -> None:
    """A load on stdout: its JSON object, or a headline and its fields."""
    if output is OutputFormat.JSON:
        print_json(load.model_dump(mode="json"))
        return
    if headline:
        typer.echo(headline)
    stdout_console().print(load_details(load))


@app.command("list")
@handle_errors
@short_lived
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
    print_list(loads, output, loads_table, "No loads.")
    if loads and output is not OutputFormat.JSON:
        typer.echo(f"{len(loads)} load{'s' if len(loads) != 1 else ''}")


@app.command("get")
@handle_errors
@short_lived
def get_load(
    load_id: LoadIdArgument,
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
    _show(load, output)


@app.command("create")
@handle_errors
def create_load(
    data_table_id: Annotated[
        int, typer.Option("--data-table-id", metavar="ID", help="The data table to load.", show_default=False)
    ],
    destination_connection_id: Annotated[
        int,
        typer.Option(
            "--destination-connection-id",
            metavar="ID",
            help="The destination connection (warehouse) to load into.",
            show_default=False,
        ),
    ],
    destination_table: Annotated[
        str,
        typer.Option(
            "--destination-table", metavar="TABLE", help="Table to write, as table or schema.table.", show_default=False
        ),
    ],
    run_policy: RunPolicyOption = RunPolicy.MANUAL,
    historical_data: Annotated[
        bool, typer.Option("--historical-data", help="Load the table's whole history on the first run.")
    ] = False,
    allow_shared_table: Annotated[
        bool,
        typer.Option("--allow-shared-table", help="Allow a table that another load already writes into."),
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Create a load: one data table into one destination table, on a run policy.

    \b
    Examples:
      improvado-loads loads create --data-table-id 1 --destination-connection-id 2 --destination-table ads_daily
      improvado-loads loads create --data-table-id 3 --destination-connection-id 2 \\
          --destination-table marts.lifetime --run-policy daily --historical-data --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.create(
            data_table_id=data_table_id,
            destination_connection_id=destination_connection_id,
            destination_table=destination_table,
            run_policy=run_policy,
            load_historical_data=historical_data,
            allow_shared_table=allow_shared_table,
        )
    _show(load, output, f"load {load.id} created: data table {data_table_id} into {destination(load)}")


@app.command("update")
@handle_errors
def update_load(
    load_id: LoadIdArgument,
    run_policy: Annotated[
        RunPolicy,
        typer.Option(
            "--run-policy",
            case_sensitive=False,
            show_default=False,
            help="The new run policy: manual, after_extraction, hourly, daily or weekly (the only field that changes).",
        ),
    ],
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Change a load's run policy (its data table and destination never change: create another load).

    \b
    Examples:
      improvado-loads loads update 12 --run-policy daily
      improvado-loads loads update 12 --run-policy manual --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.update(load_id, run_policy=run_policy)
    _show(load, output, f"load {load.id}: run policy {load.run_policy}")


@app.command("pause")
@handle_errors
def pause_load(
    load_id: LoadIdArgument,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Pause a load: no schedule or extraction runs it until it is unpaused.

    \b
    Examples:
      improvado-loads loads pause 12
      improvado-loads loads pause 12 --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.pause(load_id)
    _show(load, output, f"load {load.id} paused")


@app.command("unpause")
@handle_errors
def unpause_load(
    load_id: LoadIdArgument,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Resume a paused load: its run policy applies again.

    \b
    Examples:
      improvado-loads loads unpause 12
      improvado-loads loads unpause 12 --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.unpause(load_id)
    _show(load, output, f"load {load.id} unpaused (status {load.status})")


@app.command("delete")
@handle_errors
def delete_load(
    load_id: LoadIdArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Delete a load, after asking (the rows it already wrote stay in the destination).

    \b
    Examples:
      improvado-loads loads delete 12
      improvado-loads loads delete 12 --yes --output json
    """
    with client_for(api_url, token, workspace_id) as client:
        load = client.loads.get(load_id)
        if not yes:
            question = (
                f"Delete load {load.id} (data table {load.data_table.id} into {destination(load)}, "
                f"run policy {load.run_policy})?"
            )
            unanswered = (
                f"load {load_id} not deleted: nothing answered the confirmation (pass --yes to delete "
                "without asking)"
            )
            if not confirm(question, unanswered=unanswered):
                raise CommandFailed(f"load {load_id} not deleted: not confirmed")
        client.loads.delete(load_id)
    if output is OutputFormat.JSON:
        print_json({"id": load_id, "deleted": True})
    else:
        typer.echo(f"load {load_id} deleted (the rows already in {load.destination_table} stay)")


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


@app.command("run")
@handle_errors
def run_load(
    load_id: Annotated[int, typer.Argument(metavar="LOAD_ID", min=1, help="The load to run.", show_default=False)],
    date_from: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day of the range (with --to).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day of the range (with --from).")
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Wait for the run to end (or for the run already going on); exit 1 if it fails."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, metavar="SECONDS", help="How long to wait, with --wait.")
    ] = 600.0,
    poll_interval: Annotated[
        float,
        typer.Option(
            "--poll-interval", min=0.01, metavar="SECONDS", help="Time between status checks, with --wait."
        ),
    ] = 1.0,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Start a run of a load now, for a date range or the load's default range.

    With --wait, show the run's status until it ends: exit 0 when it succeeds,
    1 when it fails (with the destination's error) or the wait times out. If a
    run is already queued or running, --wait follows that run instead. A range
    on a lifetime or by-accounts table is ignored (the table is reloaded whole),
    and a warning says so.

    \b
    Examples:
      improvado-loads loads run 12
      improvado-loads loads run 12 --wait
      improvado-loads loads run 12 --from 2026-10-01 --to 2026-10-31 --wait --timeout 900
      improvado-loads loads run 12 --wait --output json
    """
    start, end = parse_range(date_from, date_to)
    period = f" for {start}..{end}" if start else ""
    with client_for(api_url, token, workspace_id) as client:
        try:
            started = client.loads.run(load_id, date_from=start, date_to=end)
            attached = False
        except ConflictError as exc:
            if not wait or isinstance(exc, TableInUseError):
                raise
            started, attached = client.loads.get(load_id), True
            not_started = f" (the range {start}..{end} was not started)" if start else ""
            warn(f"load {load_id} already has a run {started.status}: waiting for that run{not_started}")
            period = ""
        ignored = range_ignored(started) if start else None
        if ignored:
            warn(f"{ignored}: the date range {start}..{end} is ignored, the run loads the whole table")
            period = " (whole table)"
        if not wait:
            if output is OutputFormat.JSON:
                print_json(started.model_dump(mode="json"))
            else:
                typer.echo(
                    f"load {load_id}: run started{period}, status {started.status}. "
                    f"Follow it with: improvado-loads loads get {load_id} (or wait for it: loads run {load_id} --wait)"
                )
            return
        final = _wait(client, load_id, period, timeout, poll_interval)
    if output is OutputFormat.JSON:
        print_json(final.model_dump(mode="json"))
    if str(final.status) == LoadStatus.FAILED.value:
        raise CommandFailed(f"load {load_id}: the run failed: {final.error_text or 'no error text given'}")
    if str(final.status) != LoadStatus.SUCCESS.value:
        raise CommandFailed(f"load {load_id}: the run ended with status {final.status}")
    if output is OutputFormat.JSON:
        return
    if final.uploaded_rows_count == 0 and not attached and not ignored:
        why = f"no data in that range ({start}..{end})" if start else "no new data since the last run"
        typer.echo(f"load {load_id}: success, 0 rows: {why}; nothing written to {final.destination_table}")
    else:
        typer.echo(summary(final))


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
        except KeyboardInterrupt:  # Ctrl-C stops the waiting, not the run
            raise CommandFailed(
                f"interrupted; the run goes on in Improvado: check it with 'improvado-loads loads get {load_id}'"
            ) from None
