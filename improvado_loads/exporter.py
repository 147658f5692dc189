"""Writing a Pulumi project for existing loads: pure functions, no I/O.

Same loads in, same text out, whatever order they came in. Used by
``improvado-loads export`` (:mod:`improvado_loads.cli.export`).
"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from improvado_loads import __version__
from improvado_loads.models import DataTable, Load

__all__ = [
    "GITIGNORE",
    "CloneSpec",
    "render_program",
    "render_project",
    "render_requirements",
    "render_stack_config",
    "resource_names",
    "slugify",
    "unmapped_connections",
]

#: Pulumi project and stack names: letters, digits, ``-``, ``_`` and ``.``.
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
    """``requirements.txt``: this package with its Pulumi extra, with a reminder to pin it."""
    return (
        "# Pin the version you exported with (e.g. improvado-loads[pulumi]==" + __version__ + "),\n"
        "# so that a later release cannot change what this program does.\n"
        "improvado-loads[pulumi]\n"
    )



GITIGNORE = "venv/\n__pycache__/\n*.pyc\n"
