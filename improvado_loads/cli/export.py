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

The generation is pure (:func:`render_program` and friends): same loads in,
same text out, whatever the order they came in.
"""

from __future__ import annotations

import json
import keyword
import re
import shlex
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
import yaml

from improvado_loads import __version__
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
from improvado_loads.models import DataTable, Load

__all__ = [
    "CloneSpec",
    "export_command",
    "parse_mapping",
    "render_program",
    "render_project",
    "render_requirements",
    "render_stack_config",
    "resource_names",
    "slugify",
    "unmapped_connections",
]

DEFAULT_OUT = Path("improvado-loads-export")
DEFAULT_STACK = "dev"
LANGUAGES = ("python",)
#: Pulumi project and stack names: letters, digits, ``-``, ``_`` and ``.``.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MAX_SLUG = 60
_MAX_LINE = 120
#: Names the generated program already uses.
_RESERVED_VARS = frozenset({"pulumi", "Load", "LoadArgs"})


@dataclass(frozen=True)
class CloneSpec:
    """Clone mode: create new loads instead of adopting the existing ones.

    :param destination_map: old destination connection id → new one.
    :param data_table_map: old data table id → new one (another workspace has other ids).
    :param target_workspace_id: the workspace the new loads go to, if not the source's.
    """

    destination_map: Mapping[int, int] = field(default_factory=dict)
    data_table_map: Mapping[int, int] = field(default_factory=dict)
    target_workspace_id: int | None = None


# --- pure generation ---------------------------------------------------------


def slugify(value: str) -> str:
    """Lowercase words joined by ``-`` (``"Google Ads: daily"`` → ``"google-ads-daily"``)."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > _MAX_SLUG:
        cut = slug[:_MAX_SLUG]
        words = cut.rsplit("-", 1)[0]
        slug = words if len(words) >= _MAX_SLUG // 2 else cut
    return slug.strip("-")


def _clean(value: str, limit: int = 80) -> str:
    """Text safe for a one-line comment: printable, single-spaced, at most ``limit`` characters."""
    single = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "…"


def _titles(loads: Iterable[Load], data_tables: Iterable[DataTable]) -> dict[int, str]:
    """Data table id → title, from the catalog first and the loads' own data table second."""
    titles = {load.data_table.id: load.data_table.title for load in loads if load.data_table.title}
    titles.update({table.id: table.title for table in data_tables if table.title})
    return titles


def resource_names(loads: Sequence[Load], data_tables: Iterable[DataTable] = ()) -> dict[int, str]:
    """Load id → Pulumi resource name: ``<data table title>-<destination table>``, slugified.

    Stable (names are given in load id order) and unique (``-2``, ``-3``… on a collision).
    """
    titles = _titles(loads, data_tables)
    names: dict[int, str] = {}
    used: set[str] = set()
    for load in sorted(loads, key=lambda item: item.id):
        title = titles.get(load.data_table.id) or f"data table {load.data_table.id}"
        base = slugify(f"{title} {load.destination_table}") or f"load-{load.id}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names[load.id] = name
    return names


def _variables(names: Mapping[int, str]) -> dict[int, str]:
    """Load id → a Python variable name for its resource (unique, not a keyword)."""
    variables: dict[int, str] = {}
    used: set[str] = set(_RESERVED_VARS)
    for load_id, name in names.items():
        base = name.replace("-", "_")
        if not base.isidentifier() or keyword.iskeyword(base) or base in _RESERVED_VARS:
            base = f"load_{base}"
        var, n = base, 1
        while var in used:
            n += 1
            var = f"{base}_{n}"
        used.add(var)
        variables[load_id] = var
    return variables


def _string(value: str) -> str:
    """A Python string literal with double quotes."""
    return json.dumps(value)


def unmapped_connections(loads: Iterable[Load], clone: CloneSpec) -> list[int]:
    """Destination connection ids of the loads that ``clone.destination_map`` does not map."""
    return sorted(
        {
            load.destination_connection_id
            for load in loads
            if load.destination_connection_id is not None
            and load.destination_connection_id not in clone.destination_map
        }
    )


_ADOPT_DOC = '''"""Improvado loads as code, written by `improvado-loads export` (adopt mode).

Each Load takes over the existing load named by ``adopt_load_id`` on the first
``pulumi up``: it checks that it is the same load (data table, destination
connection, destination table, historical flag), aligns the run policy, and
creates or replaces nothing. From then on, edit this program: a new
``run_policy`` updates a load in place, and removing ``adopt_load_id`` changes
nothing.

Credentials: ``pulumi config set --secret improvado:token ...``, or the
IMPROVADO_API_TOKEN environment variable.
"""'''

_CLONE_DOC = '''"""Improvado loads as code, written by `improvado-loads export` (clone mode).

Each Load creates a new load, a copy of the existing load named in its comment,
with the destination connections (and data tables) mapped as asked on export.
Nothing existing is adopted or changed.

Credentials (of the workspace the copies go to): ``pulumi config set --secret
improvado:token ...``, or the IMPROVADO_API_TOKEN environment variable.
"""'''


def render_program(
    loads: Sequence[Load],
    data_tables: Iterable[DataTable] = (),
    *,
    clone: CloneSpec | None = None,
    source: str | None = None,
) -> str:
    """The ``__main__.py`` of the exported project: one ``Load`` per load, by load id.

    Without ``clone``, each ``Load`` adopts its existing load (``adopt_load_id``);
    with it, each creates a new load, its ids mapped by ``clone``. ``source``
    (the API URL and workspace) goes into a comment. Every load needs a
    destination connection id.
    """
    tables = list(data_tables)
    ordered = sorted(loads, key=lambda item: item.id)
    titles = _titles(ordered, tables)
    classes = {table.id: table.data_class for table in tables if table.data_class}
    names = resource_names(ordered, tables)
    variables = _variables(names)

    lines = [_CLONE_DOC if clone else _ADOPT_DOC, "", "import pulumi", "from improvado_loads import Load, LoadArgs", ""]
    what = "copied into new loads" if clone else "adopted"
    count = f"{len(ordered)} load{'s' if len(ordered) != 1 else ''}"
    lines.append(f"# {count} {what}" + (f", exported from {_clean(source, 90)}." if source else "."))
    if clone and clone.destination_map:
        mapping = ", ".join(f"{old} → {new}" for old, new in sorted(clone.destination_map.items()))
        lines.append(f"# Destination connections mapped: {mapping}.")
    if clone and clone.data_table_map:
        mapping = ", ".join(f"{old} → {new}" for old, new in sorted(clone.data_table_map.items()))
        lines.append(f"# Data tables mapped: {mapping}.")

    for load in ordered:
        if load.destination_connection_id is None:
            raise ValueError(f"load {load.id} has no destination connection id")
        table_id = load.data_table.id
        connection_id = load.destination_connection_id
        new_table_id = clone.data_table_map.get(table_id, table_id) if clone else table_id
        new_connection_id = clone.destination_map.get(connection_id, connection_id) if clone else connection_id
        data_class = classes.get(table_id) or load.data_table.data_class
        title = _clean(titles.get(table_id, ""), 80)
        about = f'"{title}" ' if title else ""
        about += f"(data table {table_id}" + (f", {_clean(data_class, 30)})" if data_class else ")")
        if new_table_id != table_id:
            about += f" → data table {new_table_id}"
        into = f"destination connection {connection_id}"
        if new_connection_id != connection_id:
            into += f" → {new_connection_id}"
        lines += [
            "",
            f"# {'Copy of load' if clone else 'Load'} {load.id}: {about}",
            f"# into {into}, table {_clean(load.destination_table, 130)}.",
            f"{variables[load.id]} = Load(",
            f"    {_string(names[load.id])},",
            "    LoadArgs(",
            f"        data_table_id={new_table_id},",
            f"        destination_connection_id={new_connection_id},",
            f"        destination_table={_string(load.destination_table)},",
            f"        run_policy={_string(str(load.run_policy))},",
            f"        load_historical_data={bool(load.load_historical_data)},",
        ]
        if not clone:
            lines.append(f"        adopt_load_id={load.id},")
        lines += ["    ),", ")"]

    lines += ["", "# The Improvado load id of each resource: `pulumi stack output <name>`."]
    for load in ordered:
        one_line = f"pulumi.export({_string(names[load.id])}, {variables[load.id]}.load_id)"
        if len(one_line) <= _MAX_LINE:
            lines.append(one_line)
        else:
            lines += ["pulumi.export(", f"    {_string(names[load.id])},", f"    {variables[load.id]}.load_id,", ")"]
    return "\n".join(lines) + "\n"


def render_project(project_name: str, *, load_count: int, clone: bool) -> str:
    """``Pulumi.yaml``: the project name, a description and the Python runtime (pip, ``venv``)."""
    mode = "clone" if clone else "adopt"
    settings = {
        "name": project_name,
        "description": (
            f"Improvado loads as code: {load_count} load{'s' if load_count != 1 else ''} "
            f"exported by improvado-loads export ({mode} mode)."
        ),
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}},
    }
    return yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=1000)


def render_stack_config(api_url: str, workspace_id: int | None) -> str:
    """``Pulumi.<stack>.yaml``: the API URL and workspace id. Never a credential."""
    config: dict[str, str] = {"improvado:apiUrl": api_url}
    if workspace_id is not None:
        config["improvado:workspaceId"] = str(workspace_id)
    return yaml.safe_dump({"config": config}, sort_keys=False)


def render_requirements() -> str:
    """``requirements.txt``: this package, with a reminder to pin it."""
    return (
        "# Pin the version you exported with (e.g. improvado-loads==" + __version__ + "),\n"
        "# so that a later release cannot change what this program does.\n"
        "improvado-loads\n"
    )


_GITIGNORE = "venv/\n__pycache__/\n*.pyc\n"


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
        ".gitignore": _GITIGNORE,
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
