"""``improvado-loads export``: write a ready Pulumi project for existing loads.

The project is one program for every environment (:mod:`improvado_loads.exporter`):
data tables found by title, a ``DestinationConnection`` per connection the loads
use, the loads into them; per-stack values in ``Pulumi.<stack>.yaml``.

- **adopt** (default): the program, and a stack config whose ``adopt`` ids make
  the first ``pulumi up`` take every connection and load over, creating nothing.
- **clone** (``--clone``, ``--target-workspace-id N`` or ``--map-destination
  OLD=NEW``): a NEW stack's config for the same program (written beside an
  existing export, or with the program into an empty directory): its ``up``
  creates the connections and loads anew, paused loads paused, except the
  connections mapped to existing ones, which it adopts.

The API never returns connection params: the command prints the ``pulumi config
set`` commands that give them (the password as a secret).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import httpx
import typer
import yaml

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
    print_json,
    warn,
)
from improvado_loads.exporter import (
    GITIGNORE,
    ExportPlan,
    config_commands,
    plan_export,
    render_program,
    render_project,
    render_requirements,
    render_stack_config,
    slugify,
)
from improvado_loads.models import DestinationConnection, Load

__all__ = ["export_command", "parse_mapping"]

DEFAULT_OUT = Path("improvado-loads-export")
DEFAULT_STACK = "dev"
LANGUAGES = ("python",)
CONNECTION_MODES = ("declare", "lookup")
#: Stack and project names Pulumi accepts.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")




# --- option parsing ----------------------------------------------------------


def parse_mapping(values: Sequence[str] | None, option: str) -> dict[int, int]:
    """``["1=4", "2=5"]`` → ``{1: 4, 2: 5}``; a usage problem naming ``option`` otherwise."""
    mapping: dict[int, int] = {}
    for value in values or ():
        old, sep, new = value.partition("=")
        try:
            if not sep:
                raise ValueError
            old_id, new_id = int(old.strip()), int(new.strip())
            if old_id <= 0 or new_id <= 0:
                raise ValueError
        except ValueError:
            raise UsageProblem(f"{option} takes OLD_ID=NEW_ID (two positive whole numbers), got {value!r}") from None
        if mapping.get(old_id, new_id) != new_id:
            raise UsageProblem(f"{option} maps {old_id} twice: to {mapping[old_id]} and to {new_id}")
        mapping[old_id] = new_id
    return mapping


def _public_url(url: str) -> str:
    """The URL without any user:password part."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else url


def _check_out_dir(out: Path, force: bool, *, clone: bool, stack: str) -> bool:
    """Whether ``out`` already holds an exported program (a clone then adds only its stack config)."""
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"--out {out} is a file, not a directory")
    if clone and (out / "Pulumi.yaml").is_file() and (out / "__main__.py").is_file():
        if (out / f"Pulumi.{stack}.yaml").exists() and not force:
            raise UsageProblem(
                f"--out {out} already has Pulumi.{stack}.yaml: choose another --stack, or pass --force to overwrite"
            )
        return True
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageProblem(f"--out {out} is not empty: choose another directory, or pass --force to overwrite")
    return False


# --- the command -------------------------------------------------------------


def _existing_project(out: Path) -> str:
    """The project name of the program already in ``out``."""
    try:
        settings = yaml.safe_load((out / "Pulumi.yaml").read_text(encoding="utf-8"))
        return str(settings["name"])
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise CommandFailed(f"{out / 'Pulumi.yaml'} has no project name: {exc}") from None


@handle_errors
def export_command(
    data_table_id: Annotated[int | None, typer.Option("--data-table-id", help="Only loads of this data table.")] = None,
    destination_connection_id: Annotated[
        int | None, typer.Option("--destination-connection-id", help="Only loads into this connection.")
    ] = None,
    destination_name: Annotated[
        str | None, typer.Option("--destination-name", help="Only loads into this destination type.")
    ] = None,
    language: Annotated[str, typer.Option("--language", help="Language of the program (only python).")] = "python",
    out: Annotated[Path, typer.Option("--out", help="Directory to write the project into.")] = DEFAULT_OUT,
    force: Annotated[bool, typer.Option("--force", help="Write into --out even if it is not empty.")] = False,
    connections_mode: Annotated[
        str,
        typer.Option(
            "--connections",
            metavar="declare|lookup",
            help="declare: a DestinationConnection per connection (default); lookup: find each by title "
            "(connections managed elsewhere).",
        ),
    ] = "declare",
    clone: Annotated[
        bool,
        typer.Option("--clone", help="Clone mode: a new stack's config, whose up creates copies (adopts nothing)."),
    ] = False,
    map_destination: Annotated[
        list[str] | None,
        typer.Option(
            "--map-destination",
            metavar="OLD_ID=NEW_ID",
            help="Clone mode: the new stack adopts existing connection NEW_ID for connection OLD_ID. Repeatable.",
        ),
    ] = None,
    target_workspace_id: Annotated[
        int | None,
        typer.Option("--target-workspace-id", help="Clone mode: the new stack's workspace (stack config)."),
    ] = None,
    stack: Annotated[str, typer.Option("--stack", help="Stack whose Pulumi.<stack>.yaml is written.")] = DEFAULT_STACK,
    project_name: Annotated[
        str | None, typer.Option("--project-name", help="Pulumi project name (default: from --out).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Write a ready Pulumi project (Python) for existing loads and their connections.

    One program for every environment: data tables found by title, a
    DestinationConnection per connection the loads use, the loads into them.
    Pulumi.<stack>.yaml holds what differs per stack: workspace, each load's run
    policy and paused state, and (adopt mode) the ids to take over. Never a
    credential; connection params are never returned by the API, so the
    command prints the `pulumi config set` commands that give them.

    Adopt mode (default): the stack's first `pulumi up` adopts every connection
    and load: it creates and replaces nothing. With --connections lookup the
    program finds the connections by title instead of declaring them (for
    connections managed elsewhere; also done for destination types that
    DestinationConnection cannot declare).

    Clone mode (--clone, --target-workspace-id or --map-destination): writes a
    NEW stack's config for the same program (beside an earlier export in --out,
    or with the program into an empty one). Its `up` creates the connections
    and loads anew, paused ones paused; a connection in --map-destination is
    adopted instead.

    \b
    Examples:
      improvado-loads export --out infra/loads
      improvado-loads export --out infra/loads --force --output json
      improvado-loads export --out infra/loads --clone --stack prod --target-workspace-id 2
      improvado-loads export --out infra/loads --clone --stack staging --map-destination 1=7
      improvado-loads export --out infra/loads --connections lookup
    """
    if language not in LANGUAGES:
        raise UsageProblem(f"--language {language!r} is not supported: only {', '.join(LANGUAGES)}")
    if connections_mode not in CONNECTION_MODES:
        raise UsageProblem(f"--connections {connections_mode!r}: choose {' or '.join(CONNECTION_MODES)}")
    destination_map = parse_mapping(map_destination, "--map-destination")
    clone_mode = bool(clone or destination_map or target_workspace_id is not None)
    if not _NAME_RE.match(stack):
        raise UsageProblem(f"--stack {stack!r}: use letters, digits, '-', '_' and '.'")
    if project_name is not None and not _NAME_RE.match(project_name):
        raise UsageProblem(f"--project-name {project_name!r}: use letters, digits, '-', '_' and '.'")
    beside = _check_out_dir(out, force, clone=clone_mode, stack=stack)
    project = _existing_project(out) if beside else project_name or slugify(out.resolve().name) or "improvado-loads"
    if not _NAME_RE.match(project):
        raise UsageProblem(f"--project-name {project!r}: use letters, digits, '-', '_' and '.'")

    with client_for(api_url, token, workspace_id) as client:
        found = client.loads.list(
            data_table_id=data_table_id,
            destination_connection_id=destination_connection_id,
            destination_name=destination_name,
        ).to_list()
        data_tables = client.data_tables.list().to_list() if found else []
        connections = list(client.destination_connections.list_all()) if found else []
        base_url = _public_url(client.base_url)
        source_workspace = client.workspace_id

    loads = _exportable(found, connections)
    lookup = [
        conn.id for conn in connections
        if connections_mode == "lookup" or conn.destination_name not in contract.CONNECTABLE_DESTINATIONS
    ]
    if not loads:
        filtered = data_table_id is not None or destination_connection_id is not None or destination_name
        raise CommandFailed(
            "no loads to export: "
            + ("none has a destination connection" if found
               else "none matched the filters" if filtered else "none")
        )
    try:
        plan = plan_export(loads, connections, data_tables, lookup=lookup)
    except ValueError as exc:
        raise CommandFailed(f"cannot export: {exc}") from None
    if connections_mode == "declare":
        for conn in plan.connections:
            if conn.id in plan.looked_up:
                warn(
                    f"connection {conn.id} ({conn.title!r}) is a {conn.destination_name} connection: the program "
                    f"finds it by title (DestinationConnection declares {', '.join(contract.CONNECTABLE_DESTINATIONS)})"
                )
    if clone_mode:
        _clone_warnings(plan, destination_map, target_workspace_id, source_workspace)

    source = base_url + (f" (workspace {source_workspace})" if source_workspace is not None else "")
    stack_file = f"Pulumi.{stack}.yaml"
    config = render_stack_config(
        plan,
        project=project,
        api_url=base_url,
        workspace_id=target_workspace_id if target_workspace_id is not None else source_workspace,
        adopt=not clone_mode,
        connection_map=destination_map,
    )
    program = render_program(plan, source=source)
    files = {stack_file: config}
    if beside:
        if (out / "__main__.py").read_text(encoding="utf-8") != program:
            warn(
                f"{out / '__main__.py'} differs from what this export writes (edited, or other loads): "
                f"it is kept; check that {stack_file} names its connections and loads"
            )
    else:
        files = {
            "Pulumi.yaml": render_project(project, load_count=len(plan.loads)),
            stack_file: config,
            "requirements.txt": render_requirements(),
            ".gitignore": GITIGNORE,
            "__main__.py": program,
        }
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")
    if output is OutputFormat.JSON:
        print_json(
            {
                "out": str(out),
                "stack": stack,
                "mode": "clone" if clone_mode else "adopt",
                "files": sorted(files),
                "loads": [load.id for load in plan.loads],
                "connections": [conn.id for conn in plan.connections],
                "config_commands": config_commands(plan, stack),
            }
        )
        return
    other_workspace = (
        target_workspace_id if target_workspace_id is not None and target_workspace_id != source_workspace else None
    )
    _say_next_steps(plan, out, stack, files, clone_mode=clone_mode, beside=beside, other_workspace=other_workspace)


def _exportable(found: Sequence[Load], connections: Sequence[DestinationConnection]) -> list[Load]:
    """The loads whose destination connection is known; a warning for each other."""
    by_id = {conn.id: conn for conn in connections}
    loads: list[Load] = []
    for load in found:
        conn = by_id.get(load.destination_connection_id or 0)
        if load.destination_connection_id is None:
            warn(f"load {load.id} is skipped: the API gave no destination connection id for it")
        elif conn is None:
            warn(f"load {load.id} is skipped: its destination connection {load.destination_connection_id} is gone")
        else:
            loads.append(load)
    return loads


def _credential_advice(stack: str, other_workspace: int | None) -> list[str]:
    """Where the new stack's credentials come from; a token of the exported workspace does not serve another."""
    if other_workspace is None:
        return [
            "Credentials are not written: run `pulumi config set --secret improvado:token` (it prompts for the",
            "value) or export IMPROVADO_API_TOKEN. The API never returns connection params: set them in the stack",
        ]
    return [
        f"Credentials are not written. Stack {stack} deploys into workspace {other_workspace}: give it",
        f"that workspace's credentials in its own config (`pulumi config set --stack {stack}",
        f"improvado:username USER` and `pulumi config set --stack {stack} --secret improvado:password`,",
        f"or `--secret improvado:token` with a token of workspace {other_workspace}). A token decides the",
        "workspace: with none in the stack, an IMPROVADO_API_TOKEN exported for this export's workspace",
        "would deploy the copies there, whatever the stack's workspaceId says.",
        "The API never returns connection params: set them in the stack",
    ]


def _say_next_steps(
    plan: ExportPlan,
    out: Path,
    stack: str,
    files: dict[str, str],
    *,
    clone_mode: bool,
    beside: bool,
    other_workspace: int | None = None,
) -> None:
    count = f"{len(plan.loads)} load{'s' if len(plan.loads) != 1 else ''}"
    conns = f"{len(plan.connections)} connection{'s' if len(plan.connections) != 1 else ''}"
    mode = (
        f"clone: a new stack {stack} that creates copies" if clone_mode
        else f"adopt: stack {stack} takes the existing ones over"
    )
    where = shlex.quote(str(out))
    typer.echo(f"{count} and {conns} written to {out} ({mode}).")
    typer.echo(f"Files: {', '.join(name for name in files if name != '.gitignore')}.")
    for line in _credential_advice(stack, other_workspace):
        typer.echo(line)
    typer.echo("(capitals are placeholders; a --secret without a value prompts for it).")
    typer.echo("Next steps:")
    typer.echo(f"  cd {where}")
    if not beside:
        typer.echo("  python -m venv venv && venv/bin/pip install -r requirements.txt")
    typer.echo(f"  pulumi stack init {stack}")
    for command in config_commands(plan, stack):
        typer.echo(f"  {command}")
    typer.echo(f"  pulumi up --stack {stack}")


def _clone_warnings(
    plan: ExportPlan, destination_map: dict[int, int], target_workspace_id: int | None, source_workspace: int | None
) -> None:
    """Warn about map entries that match nothing, and about copies in the source's own workspace."""
    used = {conn.id for conn in plan.connections}
    for old in sorted(set(destination_map) - used):
        warn(f"--map-destination {old}=...: no exported load uses destination connection {old}")
    for old in sorted(set(destination_map) & plan.looked_up):
        warn(f"--map-destination {old}=...: connection {old} is found by title, in the new stack's workspace too")
    same = target_workspace_id is None or target_workspace_id == source_workspace
    if not same and plan.looked_up:
        titles = ", ".join(repr(plan.connection(cid).title) for cid in sorted(plan.looked_up))
        warn(f"connections {titles} are found by title: workspace {target_workspace_id} needs connections so titled")
    if same:
        copied = [conn for conn in plan.declared if conn.id not in destination_map]
        if copied:
            titles = ", ".join(repr(conn.title) for conn in copied)
            warn(
                f"the copies go to the same workspace: connections {titles} get a second connection of the "
                "same title (map them with --map-destination OLD_ID=NEW_ID, or pass --target-workspace-id)"
            )
