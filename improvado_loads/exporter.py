"""Writing a Pulumi project for existing loads: pure functions, no I/O.

The project is **one program for every environment**. ``__main__.py`` names
things: data tables are found by title (``get_data_table``), each destination
connection the loads use is declared (``DestinationConnection``), and each load
goes into its connection by resource. What differs between environments is
stack config, in ``Pulumi.<stack>.yaml``: the workspace, each connection's
params (its password a secret key), each load's run policy and paused state,
and, only in the stack that takes existing things over, their ids (``adopt``).

- **adopt** (:func:`render_stack_config` with ``adopt=True``): the stack's first
  ``pulumi up`` takes every exported connection and load over; it creates nothing.
- **clone** (``adopt=False``): the same program as a new stack; its ``up``
  creates the connections and loads anew (paused ones stay paused), except
  connections mapped to existing ones (``connection_map``), which it adopts.

Same loads in, same text out, whatever order they came in. Used by
``improvado-loads export`` (:mod:`improvado_loads.cli.export`).
"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from improvado_loads import __version__, contract
from improvado_loads.models import DataTable, DestinationConnection, Load, LoadStatus

__all__ = [
    "GITIGNORE",
    "ExportPlan",
    "config_commands",
    "password_key",
    "plan_export",
    "render_program",
    "render_project",
    "render_requirements",
    "render_stack_config",
    "resource_names",
    "slugify",
]

#: Pulumi project and stack names: letters, digits, ``-``, ``_`` and ``.``.
_MAX_SLUG = 60
_MAX_LINE = 120
#: Names the generated program already uses.
_RESERVED_VARS = frozenset(
    {
        "pulumi", "Any", "Load", "LoadArgs", "DestinationConnection", "DestinationConnectionArgs",
        "get_data_table", "config", "adopt", "setting", "connections", "loads",
    }
)
#: Param names of each destination type, in the order the printed commands give them.
_PARAM_HINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "postgresql": (
        ("host", "HOST"),
        ("port", str(contract.POSTGRES_DEFAULT_PORT)),
        ("database", "DATABASE"),
        ("user", "USER"),
        ("schema", contract.POSTGRES_DEFAULT_SCHEMA),
    ),
    "sqlite": (("database", "FILE_NAME.sqlite3"),),
}


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


def _unique(base: str, used: set[str], sep: str = "-") -> str:
    """``base``, or ``base<sep>2``, ``base<sep>3``… the first not in ``used``; added to ``used``."""
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}{sep}{n}"
    used.add(name)
    return name


def resource_names(loads: Sequence[Load], data_tables: Iterable[DataTable] = ()) -> dict[int, str]:
    """Load id → Pulumi resource name: ``<data table title>-<destination table>``, slugified.

    Stable (names are given in load id order) and unique (``-2``, ``-3``… on a collision).
    """
    titles = _titles(loads, data_tables)
    used: set[str] = set()
    names: dict[int, str] = {}
    for load in sorted(loads, key=lambda item: item.id):
        title = titles.get(load.data_table.id) or f"data table {load.data_table.id}"
        names[load.id] = _unique(slugify(f"{title} {load.destination_table}") or f"load-{load.id}", used)
    return names


def _connection_names(connections: Sequence[DestinationConnection]) -> dict[int, str]:
    used: set[str] = set()
    return {
        conn.id: _unique(slugify(conn.title) or f"connection-{conn.id}", used)
        for conn in sorted(connections, key=lambda item: item.id)
    }


def _camel(name: str) -> str:
    """``analytics-postgres`` → ``analyticsPostgres`` (a config key)."""
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def password_key(connection_name: str, field: str = "password") -> str:
    """The secret config key of a connection's secret param: ``analyticsPostgresPassword``."""
    return _camel(connection_name) + field[:1].upper() + field[1:]


def _variable(name: str, used: set[str], prefix: str, suffix: str = "") -> str:
    base = name.replace("-", "_") + suffix
    if not base.isidentifier() or keyword.iskeyword(base) or base in _RESERVED_VARS or base.startswith("_"):
        base = f"{prefix}_{base}"
    return _unique(base, used, "_")


def _string(value: str) -> str:
    """A Python string literal with double quotes."""
    return json.dumps(value)


@dataclass(frozen=True)
class ExportPlan:
    """What an export writes, with every name decided.

    :param loads: the loads, in id order.
    :param connections: the destination connections they use, in id order.
    :param load_names: load id → resource name (also its key in the ``loads`` config).
    :param connection_names: connection id → resource name (its key in ``connections``).
    :param table_titles: data table id → the title the program finds it by.
    :param table_vars: data table id → the program's variable for the look-up.
    :param load_vars: load id → the program's variable.
    :param connection_vars: connection id → the program's variable.
    :param looked_up: the connections the program finds by title (``get_destination_connection``)
        instead of declaring them.
    """

    loads: tuple[Load, ...]
    connections: tuple[DestinationConnection, ...]
    load_names: Mapping[int, str]
    connection_names: Mapping[int, str]
    table_titles: Mapping[int, str]
    table_classes: Mapping[int, str]
    table_vars: Mapping[int, str]
    load_vars: Mapping[int, str]
    connection_vars: Mapping[int, str]
    looked_up: frozenset[int] = frozenset()

    def connection(self, connection_id: int) -> DestinationConnection:
        """The connection of that id."""
        return next(conn for conn in self.connections if conn.id == connection_id)

    @property
    def declared(self) -> tuple[DestinationConnection, ...]:
        """The connections the program declares (``DestinationConnection``), in id order."""
        return tuple(conn for conn in self.connections if conn.id not in self.looked_up)


def plan_export(
    loads: Iterable[Load],
    connections: Iterable[DestinationConnection],
    data_tables: Iterable[DataTable] = (),
    *,
    lookup: Iterable[int] = (),
) -> ExportPlan:
    """Decide every name of the export. Each load's connection must be among ``connections``.

    ``lookup``: ids of connections the program finds by title instead of declaring.

    :raises ValueError: a load without a known destination connection, or a data table
        without a title, or two data tables of one title (the program finds tables by title),
        or a connection to find by title that shares its title and type with another.
    """
    ordered = tuple(sorted(loads, key=lambda item: item.id))
    tables = list(data_tables)
    by_id = {conn.id: conn for conn in connections}
    for load in ordered:
        if load.destination_connection_id not in by_id:
            raise ValueError(f"load {load.id}: its destination connection {load.destination_connection_id} is unknown")
    used_ids = sorted({load.destination_connection_id for load in ordered if load.destination_connection_id})
    used_connections = tuple(by_id[conn_id] for conn_id in used_ids)
    looked_up = frozenset(lookup) & set(used_ids)
    same = Counter((conn.destination_name, conn.title) for conn in by_id.values())
    for conn_id in sorted(looked_up):
        conn = by_id[conn_id]
        if same[(conn.destination_name, conn.title)] > 1:
            raise ValueError(
                f"{same[(conn.destination_name, conn.title)]} {conn.destination_name} connections are titled "
                f"{conn.title!r}: the program could not find connection {conn.id} by title"
            )
    titles = _titles(ordered, tables)
    table_ids = sorted({load.data_table.id for load in ordered})
    for table_id in table_ids:
        if not titles.get(table_id):
            raise ValueError(f"data table {table_id} has no title: the program could not find it by title")
    counts = Counter(table.title for table in tables)
    for table_id in table_ids:
        if counts[titles[table_id]] > 1:
            raise ValueError(
                f"data tables of one title {titles[table_id]!r}: the program could not tell them apart by title"
            )
    classes = {load.data_table.id: load.data_table.data_class for load in ordered if load.data_table.data_class}
    classes.update({table.id: table.data_class for table in tables if table.data_class})

    used_vars: set[str] = set()
    connection_names = _connection_names(used_connections)
    connection_vars = {cid: _variable(name, used_vars, "connection") for cid, name in connection_names.items()}
    table_vars = {tid: _variable(slugify(titles[tid]) or f"t{tid}", used_vars, "table", "_table") for tid in table_ids}
    load_names = resource_names(ordered, tables)
    load_vars = {lid: _variable(name, used_vars, "load") for lid, name in load_names.items()}
    return ExportPlan(
        loads=ordered,
        connections=used_connections,
        load_names=load_names,
        connection_names=connection_names,
        table_titles={tid: titles[tid] for tid in table_ids},
        table_classes={tid: classes[tid] for tid in table_ids if tid in classes},
        table_vars=table_vars,
        load_vars=load_vars,
        connection_vars=connection_vars,
        looked_up=looked_up,
    )


def _paused(load: Load) -> bool:
    return str(load.status) == LoadStatus.PAUSED.value


_DOC = '''"""Improvado loads as code, written by `improvado-loads export`.

One program for every environment. It names things: data tables are found by
title, each destination connection is declared (or, one managed elsewhere,
found by title), and each load goes into its connection. What differs between environments is stack config, in
Pulumi.<stack>.yaml:

- `connections.<name>`: each connection's params but its password, which is a
  secret key of its own (`pulumi config set --secret <name>Password`);
- `loads.<name>`: each load's `runPolicy` and `paused`;
- `adopt` (only in a stack that takes existing things over): the ids of the
  connections and loads its first `pulumi up` adopts instead of creating.
  After that first `up`, removing `adopt` changes nothing.

A stack without `adopt` creates everything anew: `improvado-loads export
--clone --stack prod --target-workspace-id 2` writes such a stack's config.
The API never returns connection params: a change made outside this program
(say, a password set in the UI) cannot be seen; `up` sends what the stack
config says.

Credentials: `pulumi config set --secret improvado:token`, or the
IMPROVADO_API_TOKEN environment variable.
"""'''

_HELPERS = '''config = pulumi.Config()
adopt = config.get_object("adopt") or {}


def setting(section: str, name: str) -> dict[str, Any]:
    """This stack's config `<section>.<name>`: an object; a clear error when it is missing."""
    value = (config.get_object(section) or {}).get(name)
    if not isinstance(value, dict):
        raise pulumi.RunError(
            f"stack config has no {section}.{name}: "
            f"pulumi config set --path '{section}.{name}.<key>' <value> (see the export's output)"
        )
    return value
'''


def render_program(plan: ExportPlan, *, source: str | None = None) -> str:
    """The ``__main__.py`` of the exported project (the same for every stack).

    ``source`` (the API URL and workspace) goes into a comment.
    """
    imports = ["Load", "LoadArgs", "get_data_table"]
    if plan.declared:
        imports = ["DestinationConnection", "DestinationConnectionArgs", *imports]
    if plan.looked_up:
        imports.append("get_destination_connection")
    lines = [
        _DOC, "", "from typing import Any", "", "import pulumi",
        f"from improvado_loads import {', '.join(imports)}", "", _HELPERS, "",
    ]
    count = f"{len(plan.loads)} load{'s' if len(plan.loads) != 1 else ''}"
    conns = f"{len(plan.connections)} destination connection{'s' if len(plan.connections) != 1 else ''}"
    lines.append(f"# {count} into {conns}" + (f", exported from {_clean(source, 80)}." if source else "."))

    if plan.declared:
        lines += ["", "# --- destination connections ---"]
    for conn in plan.declared:
        name = plan.connection_names[conn.id]
        secrets = contract.SECRET_PARAM_FIELDS.get(conn.destination_name, ())
        params = f"setting(\"connections\", {_string(name)})"
        lines += ["", f"# Connection {conn.id}: \"{_clean(conn.title)}\" ({_clean(conn.destination_name, 30)})."]
        lines += [f"{plan.connection_vars[conn.id]} = DestinationConnection(", f"    {_string(name)},"]
        lines += [
            "    DestinationConnectionArgs(",
            f"        destination_name={_string(conn.destination_name)},",
            f"        title={_string(conn.title)},",
        ]
        if secrets:
            lines.append("        connection_params={")
            lines.append(f"            **{params},")
            for field in secrets:
                key = _string(password_key(name, field))
                lines.append(f"            {_string(field)}: config.require_secret({key}),")
            lines.append("        },")
        else:
            lines.append(f"        connection_params={params},")
        if conn.create_load_for_new_tables:
            lines.append("        create_load_for_new_tables=True,")
        lines += [
            f"        adopt_connection_id=adopt.get(\"connections\", {{}}).get({_string(name)}),",
            "    ),",
            ")",
        ]

    if plan.looked_up:
        lines += ["", "# --- destination connections managed elsewhere, found by title (in the stack's workspace) ---"]
        lines.append("")
    for conn in plan.connections:
        if conn.id in plan.looked_up:
            var, args = plan.connection_vars[conn.id], (
                f"title={_string(conn.title)}, destination_name={_string(conn.destination_name)}"
            )
            one_line = f"{var} = get_destination_connection({args})"
            wrapped = [f"{var} = get_destination_connection(", f"    {args},", ")"]
            lines += [one_line] if len(one_line) <= _MAX_LINE else wrapped

    lines += ["", "# --- data tables, found by title (in this stack's workspace) ---", ""]
    for table_id, var in plan.table_vars.items():
        lines.append(f"{var} = get_data_table(title={_string(plan.table_titles[table_id])})")

    lines += ["", "# --- loads ---"]
    # Loads that already share a destination table in the source workspace must say so, or the
    # copies would be refused (one table, one load, unless allowed).
    flat = {c.id for c in plan.connections if c.destination_name in contract.FLAT_SCHEMA_DESTINATIONS}

    def shares_table(load: Load) -> bool:
        return any(
            other.id != load.id
            and other.destination_connection_id == load.destination_connection_id
            and contract.same_destination_table(
                other.destination_table, load.destination_table, flat_schemas=load.destination_connection_id in flat
            )
            for other in plan.loads
        )

    for load in plan.loads:
        name = plan.load_names[load.id]
        conn = plan.connection(int(load.destination_connection_id or 0))
        table_id = load.data_table.id
        data_class = plan.table_classes.get(table_id)
        about = f"\"{_clean(plan.table_titles[table_id], 70)}\""
        about += f" ({_clean(data_class, 20)})" if data_class else ""
        lines += [
            "",
            f"# Load {load.id}: {about}",
            f"# into \"{_clean(conn.title, 60)}\", table {_clean(load.destination_table, 100)}.",
            f"{plan.load_vars[load.id]} = Load(",
            f"    {_string(name)},",
            "    LoadArgs(",
            f"        data_table_id={plan.table_vars[table_id]},",
            f"        destination_connection_id={plan.connection_vars[conn.id]},",
            f"        destination_table={_string(load.destination_table)},",
            f"        run_policy=setting(\"loads\", {_string(name)})[\"runPolicy\"],",
            f"        paused=setting(\"loads\", {_string(name)}).get(\"paused\", False),",
            f"        load_historical_data={bool(load.load_historical_data)},",
            *(
                ["        allow_shared_table=True,"]
                if shares_table(load)
                else []
            ),
            f"        adopt_load_id=adopt.get(\"loads\", {{}}).get({_string(name)}),",
            "    ),",
            ")",
        ]

    lines += ["", "# Improvado ids: `pulumi stack output connections` / `pulumi stack output loads`."]
    for key, ids, names, variables, attr in (
        ("connections", [c.id for c in plan.connections], plan.connection_names, plan.connection_vars,
         "connection_id"),
        ("loads", [x.id for x in plan.loads], plan.load_names, plan.load_vars, "load_id"),
    ):
        lines.append(f"pulumi.export({_string(key)}, {{")
        for item_id in ids:
            lines.append(f"    {_string(names[item_id])}: {variables[item_id]}.{attr},")
        lines.append("})")
    return "\n".join(lines) + "\n"


def render_project(project_name: str, *, load_count: int) -> str:
    """``Pulumi.yaml``: the project name, a description and the Python runtime (pip, ``venv``)."""
    settings = {
        "name": project_name,
        "description": (
            f"Improvado loads as code: {load_count} load{'s' if load_count != 1 else ''} and their "
            "destination connections, one program for every stack (written by improvado-loads export)."
        ),
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}},
    }
    return yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=1000)


def render_stack_config(
    plan: ExportPlan,
    *,
    project: str,
    api_url: str,
    workspace_id: int | None,
    adopt: bool,
    connection_map: Mapping[int, int] | None = None,
) -> str:
    """``Pulumi.<stack>.yaml``: API URL, workspace, each load's run policy and paused state, adopt ids.

    ``adopt``: the stack takes every exported connection and load over. Otherwise
    (a clone) it creates them, but adopts the connections ``connection_map`` maps
    (exported connection id → the id of an existing one). Never a credential, and
    never a connection param (the API does not return them: :func:`config_commands`).
    """
    config: dict[str, Any] = {"improvado:apiUrl": api_url}
    if workspace_id is not None:
        config["improvado:workspaceId"] = str(workspace_id)
    config[f"{project}:loads"] = {
        plan.load_names[load.id]: {"runPolicy": str(load.run_policy), "paused": _paused(load)} for load in plan.loads
    }
    adopted: dict[str, dict[str, int]] = {}
    if adopt:
        if plan.declared:
            adopted["connections"] = {plan.connection_names[c.id]: c.id for c in plan.declared}
        adopted["loads"] = {plan.load_names[x.id]: x.id for x in plan.loads}
    elif connection_map:
        mapped = {plan.connection_names[c.id]: connection_map[c.id] for c in plan.declared if c.id in connection_map}
        if mapped:
            adopted["connections"] = mapped
    if adopted:
        config[f"{project}:adopt"] = adopted
    return yaml.safe_dump({"config": config}, sort_keys=False, allow_unicode=True, width=1000)


def config_commands(plan: ExportPlan, stack: str) -> list[str]:
    """The ``pulumi config set`` commands that give a stack its connections' params.

    Placeholders in capitals (``HOST``) are for the user to fill in; a secret is
    set with ``--secret`` and no value, so that Pulumi prompts for it (nothing in
    the shell's history).
    """
    commands: list[str] = []
    for conn in plan.declared:
        name = plan.connection_names[conn.id]
        hints = _PARAM_HINTS.get(conn.destination_name, (("PARAM", "VALUE"),))
        for param, hint in hints:
            commands.append(f"pulumi config set --stack {stack} --path 'connections.{name}.{param}' {hint}")
        for field in contract.SECRET_PARAM_FIELDS.get(conn.destination_name, ()):
            commands.append(f"pulumi config set --stack {stack} --secret {password_key(name, field)}")
    return commands


def render_requirements() -> str:
    """``requirements.txt``: this package with its Pulumi extra, with a reminder to pin it."""
    return (
        "# Pin the version you exported with (e.g. improvado-loads[pulumi]==" + __version__ + "),\n"
        "# so that a later release cannot change what this program does.\n"
        "improvado-loads[pulumi]\n"
    )


GITIGNORE = "venv/\n__pycache__/\n*.pyc\n"
