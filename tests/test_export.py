"""``improvado-loads export``: the pure rendering (no network) and the command against the emulator.

The engine round trip (adopt, then clone as a new stack) is in
``tests/engine/test_export_round_trip.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from improvado_loads import ImprovadoClient
from improvado_loads.cli import app
from improvado_loads.cli.common import UsageProblem
from improvado_loads.cli.export import parse_mapping
from improvado_loads.emulator import EmulatorServer
from improvado_loads.exporter import (
    config_commands,
    password_key,
    plan_export,
    render_program,
    render_stack_config,
    resource_names,
    slugify,
)
from improvado_loads.models import DataTable, DestinationConnection, Load
from tests.conftest import cli_env

#: The emulator's seeded connections of workspace 1.
LOCAL, ANALYTICS = 1, 2


# --- the pure rendering -------------------------------------------------------


def make_load(
    load_id: int, table_id: int, title: str | None, table: str, connection: int = 1, status: str = "new"
) -> Load:
    return Load.model_validate(
        {
            "id": load_id,
            "data_table": {"id": table_id, "title": title},
            "destination_connection_id": connection,
            "destination_table": table,
            "run_policy": "daily",
            "status": status,
        }
    )


CONNECTIONS = [
    DestinationConnection(id=1, title="Local warehouse", destination_name="sqlite", status="active"),
    DestinationConnection(id=2, title="Analytics: Postgres", destination_name="postgresql", status="active"),
    DestinationConnection(id=3, title="Unused", destination_name="postgresql", status="error"),
]


def test_slugify() -> None:
    assert slugify("Google Ads: campaign performance") == "google-ads-campaign-performance"
    assert slugify("  Ünïcode & co.  ads.daily ") == "unicode-co-ads-daily"
    assert slugify("!!!") == ""
    assert len(slugify("word " * 40)) <= 60


def test_resource_names_are_unique_and_stable() -> None:
    loads = [
        make_load(3, 1, "Ads", "ads_daily", connection=2),
        make_load(1, 1, "Ads", "ads_daily"),
        make_load(2, 1, "Ads", "ads.daily"),
        make_load(4, 9, None, "x"),
        make_load(5, 8, "", "ads-2"),
    ]
    names = resource_names(loads)
    assert names == {
        1: "ads-ads-daily",
        2: "ads-ads-daily-2",
        3: "ads-ads-daily-3",
        4: "data-table-9-x",
        5: "data-table-8-ads-2",
    }
    assert resource_names(list(reversed(loads))) == names
    assert resource_names(loads, [DataTable(id=9, title="Nine")])[4] == "nine-x"


def test_program_names_tables_and_connections_never_ids() -> None:
    loads = [
        make_load(2, 1, 'Tricky "title"\nwith [markup] and \x00', "a.b", connection=2),
        make_load(1, 2, "import", "pulumi"),
        make_load(7, 3, "class", "def", status="paused"),
    ]
    plan = plan_export(loads, CONNECTIONS)
    program = render_program(plan, source="http://127.0.0.1:1 (workspace 1)")
    assert render_program(plan_export(list(reversed(loads)), list(reversed(CONNECTIONS)))) == render_program(plan)
    compile(program, "__main__.py", "exec")
    assert "\x00" not in program
    # The data tables by title, each looked up once; the connections declared, the unused one not.
    assert program.count("get_data_table(title=") == 3
    assert 'get_data_table(title="Tricky \\"title\\"\\nwith [markup] and \\u0000")' in program
    assert program.count("DestinationConnection(\n") == 2 and '"Unused"' not in program
    # Loads go into their connection resource; no numeric id anywhere in the arguments.
    assert "destination_connection_id=local_warehouse," in program
    assert "destination_connection_id=analytics_postgres," in program
    assert "data_table_id=import_table," in program  # a keyword-named title still gives a valid variable
    assert "_id=1" not in program and "_id=2" not in program and "_id=7" not in program
    # The password is a secret config key; adopt ids and run policies come from stack config.
    assert 'config.require_secret("analyticsPostgresPassword")' in program
    assert program.count("adopt_load_id=adopt.get(") == 3
    assert program.count("adopt_connection_id=adopt.get(") == 2
    assert program.index("# Load 1:") < program.index("# Load 2:") < program.index("# Load 7:")


def test_loads_sharing_a_table_say_so_and_no_other_does() -> None:
    loads = [
        make_load(1, 1, "Ads", "ads_daily"),
        make_load(2, 2, "Ads by account", "ads_daily"),
        make_load(3, 3, "Totals", "totals"),
        make_load(4, 3, "Totals", "ads_daily", connection=2),
        make_load(5, 2, "Ads by account", "public.Totals"),
        make_load(6, 1, "Ads", "s1.spend"),
        make_load(7, 2, "Ads by account", "s2.spend"),
    ]
    program = render_program(plan_export(loads, CONNECTIONS))
    compile(program, "__main__.py", "exec")
    blocks = {int(block.split(":", 1)[0]): block for block in program.split("# Load ")[1:]}
    shared = ["allow_shared_table=True" in blocks[load_id] for load_id in range(1, 8)]
    # One table under other spellings (`totals`, `public.Totals`) is shared too; s1.spend and s2.spend are two.
    assert shared == [True, True, True, False, True, False, False]


def test_connections_managed_elsewhere_are_found_by_title() -> None:
    loads = [make_load(1, 1, "Ads", "ads"), make_load(2, 2, "Totals", "totals", connection=2)]
    plan = plan_export(loads, CONNECTIONS, lookup=[2, 3])
    assert plan.looked_up == {2} and [c.id for c in plan.declared] == [1]
    program = render_program(plan)
    compile(program, "__main__.py", "exec")
    found = 'get_destination_connection(title="Analytics: Postgres", destination_name="postgresql")'
    assert f"analytics_postgres = {found}" in program
    assert "destination_connection_id=analytics_postgres," in program
    assert program.count("DestinationConnection(\n") == 1 and "require_secret" not in program
    assert "import DestinationConnection, DestinationConnectionArgs, Load, LoadArgs, get_data_table, " \
        "get_destination_connection" in program
    config = yaml.safe_load(render_stack_config(plan, project="p", api_url="http://a", workspace_id=1, adopt=True))
    assert config["config"]["p:adopt"]["connections"] == {"local-warehouse": 1}
    assert all("analytics-postgres" not in command for command in config_commands(plan, "dev"))

    only = render_program(plan_export(loads, CONNECTIONS, lookup=[1, 2]))
    assert "DestinationConnection" not in only.replace("get_destination_connection", "")
    compile(only, "__main__.py", "exec")
    twins = [*CONNECTIONS, DestinationConnection(id=9, title="Local warehouse", destination_name="sqlite", status="x")]
    with pytest.raises(ValueError, match="2 sqlite connections are titled 'Local warehouse'"):
        plan_export(loads, twins, lookup=[1])


def test_plan_refuses_what_a_title_cannot_find() -> None:
    with pytest.raises(ValueError, match="data table 9 has no title"):
        plan_export([make_load(1, 9, None, "x")], CONNECTIONS)
    twins = [DataTable(id=1, title="Ads"), DataTable(id=2, title="Ads")]
    with pytest.raises(ValueError, match="one title 'Ads'"):
        plan_export([make_load(1, 1, "Ads", "x")], CONNECTIONS, twins)
    with pytest.raises(ValueError, match="connection 5 is unknown"):
        plan_export([make_load(1, 1, "Ads", "x", connection=5)], CONNECTIONS)


def test_stack_config_adopt_and_clone() -> None:
    loads = [make_load(1, 1, "Ads", "ads"), make_load(2, 2, "Totals", "totals", connection=2, status="paused")]
    plan = plan_export(loads, CONNECTIONS)
    adopt = yaml.safe_load(render_stack_config(plan, project="p", api_url="http://a", workspace_id=1, adopt=True))
    assert adopt == {
        "config": {
            "improvado:apiUrl": "http://a",
            "improvado:workspaceId": "1",
            "p:loads": {
                "ads-ads": {"runPolicy": "daily", "paused": False},
                "totals-totals": {"runPolicy": "daily", "paused": True},
            },
            "p:adopt": {
                "connections": {"local-warehouse": 1, "analytics-postgres": 2},
                "loads": {"ads-ads": 1, "totals-totals": 2},
            },
        }
    }
    clone = yaml.safe_load(render_stack_config(plan, project="p", api_url="http://a", workspace_id=2, adopt=False))
    assert clone["config"]["improvado:workspaceId"] == "2"
    assert clone["config"]["p:loads"] == adopt["config"]["p:loads"]  # same run policies, paused kept
    assert "p:adopt" not in clone["config"]
    mapped = render_stack_config(plan, project="p", api_url="http://a", workspace_id=2, adopt=False,
                                 connection_map={2: 9, 3: 10})
    assert yaml.safe_load(mapped)["config"]["p:adopt"] == {"connections": {"analytics-postgres": 9}}


def test_config_commands_set_params_and_prompt_for_the_password() -> None:
    plan = plan_export([make_load(1, 1, "Ads", "ads"), make_load(2, 1, "Ads", "b", connection=2)], CONNECTIONS)
    assert config_commands(plan, "prod") == [
        "pulumi config set --stack prod --path 'connections.local-warehouse.database' FILE_NAME.sqlite3",
        "pulumi config set --stack prod --path 'connections.analytics-postgres.host' HOST",
        "pulumi config set --stack prod --path 'connections.analytics-postgres.port' 5432",
        "pulumi config set --stack prod --path 'connections.analytics-postgres.database' DATABASE",
        "pulumi config set --stack prod --path 'connections.analytics-postgres.user' USER",
        "pulumi config set --stack prod --path 'connections.analytics-postgres.schema' public",
        "pulumi config set --stack prod --secret analyticsPostgresPassword",
    ]
    assert password_key("a-b-c") == "aBCPassword"


def test_parse_mapping() -> None:
    assert parse_mapping(["1=2", " 3 = 4 ", "1=2"], "--map-destination") == {1: 2, 3: 4}
    assert parse_mapping(None, "--map-destination") == {}
    for bad in ("1", "=2", "0=1", "1=-2", "x=y"):
        with pytest.raises(UsageProblem):
            parse_mapping([bad], "--map-destination")


# --- the command against the emulator -----------------------------------------

#: Loads the tests create in workspace 1: (data table, connection, destination table, run policy).
LOADS = [
    (1, LOCAL, "google_ads_daily", "daily"),
    (2, LOCAL, "facebook_by_account", "after_extraction"),
    (3, ANALYTICS, "campaign_lifetime", "weekly"),
]


@pytest.fixture
def cli_token(emulator: EmulatorServer) -> str:
    token = emulator.settings.token
    assert token
    return token


@pytest.fixture
def api(emulator: EmulatorServer, cli_token: str) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=emulator.url, token=cli_token) as client:
        yield client


@pytest.fixture
def env(emulator: EmulatorServer, cli_token: str) -> dict[str, str | None]:
    return cli_env(emulator.url, cli_token)


@pytest.fixture
def created(api: ImprovadoClient) -> list[Load]:
    """The loads of ``LOADS``, the last one paused."""
    made = [
        api.loads.create(data_table_id=table, destination_connection_id=conn, destination_table=name, run_policy=policy)
        for table, conn, name, policy in LOADS
    ]
    api.loads.pause(made[-1].id)
    return made


def cli(args: list[str], env: Mapping[str, str | None]) -> Result:
    return CliRunner().invoke(app, args, env=env, prog_name="improvado-loads")


def one_error_line(stderr: str, *expected: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for text in expected:
        assert text in lines[0], lines[0]


def read_project(out: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(out.iterdir()) if path.is_file()}


def test_export_adopts_connections_and_loads(
    tmp_path: Path, env: dict[str, str | None], created: list[Load], cli_token: str, emulator: EmulatorServer
) -> None:
    out = tmp_path / "project"
    result = cli(["export", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    said = f"3 loads and 2 connections written to {out} (adopt: stack dev takes the existing ones over)"
    assert said in result.stdout
    assert "pulumi config set --secret improvado:token" in result.stdout
    assert "  pulumi stack init dev\n" in result.stdout
    assert "pulumi config set --stack dev --path 'connections.local-warehouse.database' FILE_NAME.sqlite3" \
        in result.stdout
    assert "pulumi config set --stack dev --secret analyticsPostgresPassword\n" in result.stdout

    files = read_project(out)
    assert set(files) == {"Pulumi.yaml", "Pulumi.dev.yaml", "requirements.txt", "__main__.py", ".gitignore"}
    assert yaml.safe_load(files["Pulumi.yaml"])["name"] == "project"
    assert "improvado-loads[pulumi]" in files["requirements.txt"].splitlines()
    config = yaml.safe_load(files["Pulumi.dev.yaml"])["config"]
    assert config["improvado:apiUrl"] == emulator.url
    assert config["project:adopt"] == {
        "connections": {"local-warehouse": LOCAL, "analytics-postgres": ANALYTICS},
        "loads": {
            "google-ads-campaign-performance-google-ads-daily": created[0].id,
            "facebook-ads-by-account-facebook-by-account": created[1].id,
            "campaign-lifetime-totals-campaign-lifetime": created[2].id,
        },
    }
    assert config["project:loads"]["campaign-lifetime-totals-campaign-lifetime"] == {
        "runPolicy": "weekly", "paused": True}
    assert config["project:loads"]["facebook-ads-by-account-facebook-by-account"] == {
        "runPolicy": "after_extraction", "paused": False}
    for content in [*files.values(), result.stdout, result.stderr]:
        assert cli_token not in content

    program = files["__main__.py"]
    compile(program, "__main__.py", "exec")
    assert 'get_data_table(title="Google Ads campaign performance")' in program
    assert '# Connection 1: "Local warehouse" (sqlite).' in program
    assert "Legacy" not in program  # a connection no exported load uses

    again = tmp_path / "again"
    assert cli(["export", "--out", str(again), "--project-name", "project"], env).exit_code == 0
    assert read_project(again) == files


def test_export_output_json_says_what_it_wrote(
    tmp_path: Path, env: dict[str, str | None], created: list[Load], cli_token: str
) -> None:
    out = tmp_path / "project"
    result = cli(["export", "--out", str(out), "--output", "json"], env)
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["out"] == str(out) and said["stack"] == "dev" and said["mode"] == "adopt"
    assert said["files"] == sorted(read_project(out))
    assert said["loads"] == [load.id for load in created[:3]]
    assert said["connections"] == [LOCAL, ANALYTICS]
    assert any("analyticsPostgresPassword" in command for command in said["config_commands"])
    assert cli_token not in result.output


def test_export_clone_writes_a_new_stack_beside_the_program(
    tmp_path: Path, env: dict[str, str | None], created: list[Load]
) -> None:
    out = tmp_path / "infra"
    assert cli(["export", "--out", str(out)], env).exit_code == 0
    before = read_project(out)

    result = cli(["export", "--out", str(out), "--clone", "--stack", "prod", "--target-workspace-id", "2",
                  "--map-destination", "1=4", "--map-destination", "7=5"], env)
    assert result.exit_code == 0, result.output
    assert "(clone: a new stack prod that creates copies)" in result.stdout
    assert "Files: Pulumi.prod.yaml." in result.stdout
    assert "pip install" not in result.stdout  # the program is there already
    said = " ".join(result.stdout.split())
    assert "Stack prod deploys into workspace 2" in said and "--secret improvado:password" in said
    assert "a token of workspace 2" in said and "export IMPROVADO_API_TOKEN" not in said
    assert "--map-destination 7=...: no exported load uses destination connection 7" in result.stderr

    after = read_project(out)
    assert {k: v for k, v in after.items() if k != "Pulumi.prod.yaml"} == before  # the same program
    prod = yaml.safe_load(after["Pulumi.prod.yaml"])["config"]
    dev = yaml.safe_load(before["Pulumi.dev.yaml"])["config"]
    assert prod["improvado:workspaceId"] == "2"
    assert prod["infra:loads"] == dev["infra:loads"]
    assert prod["infra:adopt"] == {"connections": {"local-warehouse": 4}}

    result = cli(["export", "--out", str(out), "--clone", "--stack", "prod"], env)
    assert result.exit_code == 2
    one_error_line(result.stderr, "already has Pulumi.prod.yaml", "--force")


def test_export_clone_into_the_same_workspace_warns(
    tmp_path: Path, env: dict[str, str | None], created: list[Load]
) -> None:
    out = tmp_path / "copy"
    result = cli(["export", "--out", str(out), "--clone", "--stack", "staging", "--data-table-id", "1"], env)
    assert result.exit_code == 0, result.output
    assert "warning: the copies go to the same workspace: connections 'Local warehouse'" in result.stderr
    assert "or export IMPROVADO_API_TOKEN" in result.stdout  # the same workspace: the same token serves
    files = read_project(out)
    assert "Pulumi.staging.yaml" in files and "__main__.py" in files
    assert "copy:adopt" not in yaml.safe_load(files["Pulumi.staging.yaml"])["config"]


def test_export_refuses_a_non_empty_directory_unless_forced(
    tmp_path: Path, env: dict[str, str | None], created: list[Load]
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli(["export", "--out", str(out)], env)
    assert result.exit_code == 2
    one_error_line(result.stderr, "not empty", "--force")
    assert not (out / "__main__.py").exists()

    result = cli(["export", "--out", str(out), "--force"], env)
    assert result.exit_code == 0, result.output
    assert (out / "__main__.py").exists() and (out / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--map-destination", "1-2"], "--map-destination takes OLD_ID=NEW_ID"),
        (["--map-destination", "a=2"], "--map-destination takes OLD_ID=NEW_ID"),
        (["--map-destination", "1=2", "--map-destination", "1=3"], "maps 1 twice"),
        (["--language", "typescript"], "only python"),
        (["--stack", "a/b"], "--stack"),
        (["--connections", "both"], "--connections 'both': choose declare or lookup"),
    ],
)
def test_export_bad_options_are_usage_errors(
    tmp_path: Path, env: dict[str, str | None], args: list[str], expected: str
) -> None:
    out = tmp_path / "never"
    result = cli(["export", "--out", str(out), *args], env)
    assert result.exit_code == 2, result.output
    one_error_line(result.stderr, expected)
    assert not out.exists()


def test_export_of_nothing_fails(tmp_path: Path, env: dict[str, str | None]) -> None:
    out = tmp_path / "empty"
    result = cli(["export", "--out", str(out)], env)
    assert result.exit_code == 1
    one_error_line(result.stderr, "no loads to export")
    assert not out.exists()


@pytest.mark.parametrize("connections", ["declare", "lookup"])
def test_exported_program_is_ruff_clean(
    tmp_path: Path, env: dict[str, str | None], created: list[Load], connections: str
) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed")
    out = tmp_path / "linted"
    assert cli(["export", "--out", str(out), "--connections", connections], env).exit_code == 0
    done = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "120", "."],
        capture_output=True,
        text=True,
        cwd=out,  # as in the user's project, where improvado_loads is a third-party package
    )
    assert done.returncode == 0, done.stdout + done.stderr
