"""``improvado-loads export``: write a ready Pulumi project for existing loads.

Two modes:

- **adopt** (default): one ``Load`` per existing load, with ``adopt_load_id``; the
  first ``pulumi up`` takes each over without creating or replacing anything.
- **clone** (``--map-destination OLD=NEW`` or ``--target-workspace-id N``): every
  load is created fresh, never adopted (adopting would take the originals over,
  and a copy of a load into the very same destination table would conflict with
  it). A load whose connection is in the map points at the new connection; one
  whose connection is not keeps its connection id, with a warning. Data table
  ids may be mapped the same way (``--map-data-table``) when cloning into
  another workspace.

The generation is pure (:mod:`improvado_loads.exporter`): same loads in,
same text out, whatever the order they came in.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import httpx
import typer

from improvado_loads.cli.common import (
    ApiUrlOption,
    CommandFailed,
    TokenOption,
    UsageProblem,
    WorkspaceIdOption,
    client_for,
    handle_errors,
    warn,
)
from improvado_loads.exporter import (
    GITIGNORE,
    CloneSpec,
    render_program,
    render_project,
    render_requirements,
    render_stack_config,
    slugify,
    unmapped_connections,
)
from improvado_loads.models import Load

__all__ = ["export_command", "parse_mapping"]

DEFAULT_OUT = Path("improvado-loads-export")
DEFAULT_STACK = "dev"
LANGUAGES = ("python",)
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


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"--out {out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise UsageProblem(f"--out {out} is not empty: choose another directory, or pass --force to overwrite")


# --- the command -------------------------------------------------------------


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
    map_destination: Annotated[
        list[str] | None,
        typer.Option(
            "--map-destination",
            metavar="OLD_ID=NEW_ID",
            help="Clone mode: loads into connection OLD_ID get NEW_ID. Repeatable.",
        ),
    ] = None,
    map_data_table: Annotated[
        list[str] | None,
        typer.Option(
            "--map-data-table",
            metavar="OLD_ID=NEW_ID",
            help="Clone mode: loads of data table OLD_ID get NEW_ID (another workspace's id). Repeatable.",
        ),
    ] = None,
    target_workspace_id: Annotated[
        int | None,
        typer.Option("--target-workspace-id", help="Clone mode: the copies go to this workspace (stack config)."),
    ] = None,
    stack: Annotated[str, typer.Option("--stack", help="Stack whose Pulumi.<stack>.yaml is written.")] = DEFAULT_STACK,
    project_name: Annotated[
        str | None, typer.Option("--project-name", help="Pulumi project name (default: from --out).")
    ] = None,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    workspace_id: WorkspaceIdOption = None,
) -> None:
    """Write a ready Pulumi project (Python) for existing loads.

    The project holds Pulumi.yaml, Pulumi.<stack>.yaml (API URL and workspace
    id: never a credential), requirements.txt and __main__.py with one Load per
    selected load.

    Adopt mode (default): each Load adopts its existing load (adopt_load_id),
    so the first `pulumi up` creates and replaces nothing.

    Clone mode (--map-destination or --target-workspace-id): each Load creates
    a new load, never adopting. Connections in the map are replaced; a load
    whose connection is not in the map keeps it, with a warning (in the same
    workspace, its copy would conflict with the original).

    \b
    Examples:
      improvado-loads export
      improvado-loads export --destination-name postgresql --out infra/loads --stack prod
      improvado-loads export --map-destination 1=2 --map-destination 3=2 --out copy-to-2
      improvado-loads export --target-workspace-id 2 --map-destination 1=4 --map-data-table 1=4
    """
    if language not in LANGUAGES:
        raise UsageProblem(f"--language {language!r} is not supported: only {', '.join(LANGUAGES)}")
    destination_map = parse_mapping(map_destination, "--map-destination")
    data_table_map = parse_mapping(map_data_table, "--map-data-table")
    clone_mode = bool(destination_map or data_table_map or target_workspace_id is not None)
    clone = CloneSpec(destination_map, data_table_map, target_workspace_id) if clone_mode else None
    if not _NAME_RE.match(stack):
        raise UsageProblem(f"--stack {stack!r}: use letters, digits, '-', '_' and '.'")
    project = project_name or slugify(out.resolve().name) or "improvado-loads"
    if not _NAME_RE.match(project):
        raise UsageProblem(f"--project-name {project!r}: use letters, digits, '-', '_' and '.'")
    _check_out_dir(out, force)

    with client_for(api_url, token, workspace_id) as client:
        found = client.loads.list(
            data_table_id=data_table_id,
            destination_connection_id=destination_connection_id,
            destination_name=destination_name,
        ).to_list()
        data_tables = client.data_tables.list().to_list() if found else []
        base_url = _public_url(client.base_url)
        source_workspace = client.workspace_id

    loads = [load for load in found if load.destination_connection_id is not None]
    for load in found:
        if load.destination_connection_id is None:
            warn(f"load {load.id} is skipped: the API gave no destination connection id for it")
    if not loads:
        filtered = data_table_id is not None or destination_connection_id is not None or destination_name
        raise CommandFailed(
            "no loads to export: "
            + ("none has a destination connection id" if found else "none matched the filters" if filtered else "none")
        )

    if clone is not None:
        _clone_warnings(loads, clone)

    source = base_url + (f" (workspace {source_workspace})" if source_workspace is not None else "")
    files = {
        "Pulumi.yaml": render_project(project, load_count=len(loads), clone=clone is not None),
        f"Pulumi.{stack}.yaml": render_stack_config(
            base_url, target_workspace_id if target_workspace_id is not None else source_workspace
        ),
        "requirements.txt": render_requirements(),
        ".gitignore": GITIGNORE,
        "__main__.py": render_program(loads, data_tables, clone=clone, source=source),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")

    mode = "clone: new loads" if clone else "adopt: existing loads taken over"
    count = f"{len(loads)} load{'s' if len(loads) != 1 else ''}"
    where = shlex.quote(str(out))
    typer.echo(f"{count} written to {out} ({mode}).")
    typer.echo(f"Files: {', '.join(name for name in files if name != '.gitignore')}.")
    typer.echo(
        f"Credentials are not written: in {where}, run `pulumi config set --secret improvado:token` "
        "(it prompts for the value) or export IMPROVADO_API_TOKEN."
    )
    typer.echo("Next steps:")
    typer.echo(
        f"  cd {where} && python -m venv venv && venv/bin/pip install -r requirements.txt"
        f" && pulumi stack init {stack} && pulumi up"
    )


def _clone_warnings(loads: Sequence[Load], clone: CloneSpec) -> None:
    """Warn about what clone mode keeps as is, and map entries that match nothing."""
    same_workspace = clone.target_workspace_id is None
    for connection_id in unmapped_connections(loads, clone):
        ids = ", ".join(str(load.id) for load in loads if load.destination_connection_id == connection_id)
        consequence = (
            "in the same workspace each copy would conflict with its original"
            if same_workspace
            else "check that this id exists in the target workspace"
        )
        warn(
            f"destination connection {connection_id} is not in --map-destination: loads {ids} keep it "
            f"({consequence}; add --map-destination {connection_id}=NEW_ID)"
        )
    used_connections = {load.destination_connection_id for load in loads}
    for old in sorted(set(clone.destination_map) - used_connections):
        warn(f"--map-destination {old}=...: no exported load uses destination connection {old}")
    used_tables = {load.data_table.id for load in loads}
    for old in sorted(set(clone.data_table_map) - used_tables):
        warn(f"--map-data-table {old}=...: no exported load uses data table {old}")
    if not same_workspace:
        unmapped = sorted(used_tables - set(clone.data_table_map))
        if unmapped:
            warn(
                f"data tables {', '.join(map(str, unmapped))} keep their ids in workspace "
                f"{clone.target_workspace_id}: map them with --map-data-table OLD_ID=NEW_ID if they differ there"
            )
