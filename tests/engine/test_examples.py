"""The programs users copy (examples/) run through the real engine against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from pulumi import automation as auto
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from improvado_loads import ImprovadoClient
from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorServer

from ..conftest import EMULATOR_PASSWORD, EMULATOR_USER
from .conftest import ROOT, engine_env


def example(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    """A copy of the example (its stack files get written) and an engine environment."""
    work_dir = tmp_path / name
    shutil.copytree(ROOT / "examples" / name, work_dir)
    return work_dir, engine_env(tmp_path)


def test_multi_environment_one_program_two_stacks(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, workspace2_api: ImprovadoClient, token: str,
    postgres_dsn: str, pulumi_command: auto.PulumiCommand,
) -> None:
    """dev (workspace 1) and prod (workspace 2) from one program: each its connection, loads and rows.

    Then a third environment, staging, made the way the example says (a copy of dev's config).
    """
    work_dir, env = example(tmp_path, "multi-environment")
    pg = make_url(postgres_dsn)
    credentials = {
        "dev": {"improvado:token": auto.ConfigValue(token, secret=True)},
        "prod": {"improvado:username": auto.ConfigValue(EMULATOR_USER),
                 "improvado:password": auto.ConfigValue(EMULATOR_PASSWORD, secret=True)},
    }
    rows: dict[str, int] = {}
    for name in ("dev", "prod"):
        stack = stack_for(work_dir, name, env=env, pulumi_command=pulumi_command)
        # Where the test's PostgreSQL is (the committed files name a server of the reader's own); one command.
        where = {f"warehouse.params.{key}": auto.ConfigValue(str(value))
                 for key, value in (("host", pg.host), ("port", pg.port), ("database", pg.database),
                                    ("user", pg.username))}
        stack.set_all_config({"improvado:apiUrl": auto.ConfigValue(emulator.url), **credentials[name], **where,
                              "warehousePassword": auto.ConfigValue(pg.password or "", secret=True)}, path=True)
        result = stack.up(color="never")
        assert result.outputs["warehouse"].value["status"] == "active"
        assert result.outputs["first_run"].value["status"] == "success"
        rows[name] = result.outputs["first_run"].value["rows"]
        assert rows[name] > 0
        assert stack.preview(color="never").change_summary == {"same": 6}  # stack, connection, 3 loads, run

    def loads_of(client: ImprovadoClient) -> list[tuple[int, str, str]]:
        return sorted((x.data_table.id, x.destination_table, str(x.run_policy)) for x in client.loads.list())

    assert loads_of(api) == [(1, "google_ads_daily", "hourly"), (2, "facebook_ads_by_account", "after_extraction"),
                             (3, "campaign_lifetime_totals", "weekly")]
    assert loads_of(workspace2_api) == [(4, "google_ads_daily", "daily"), (5, "facebook_ads_by_account", "daily"),
                                        (6, "campaign_lifetime_totals", "weekly")]
    for client, title in ((api, "Analytics warehouse (dev)"), (workspace2_api, "Analytics warehouse (prod)")):
        [connection] = client.destination_connections.find_by_title("postgresql", title)
        assert {x.destination_connection_id for x in client.loads.list()} == {connection.id}

    engine = create_engine(make_url(postgres_dsn).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            for name in ("dev", "prod"):
                count = conn.execute(text(f"select count(*) from improvado_{name}.google_ads_daily")).scalar_one()
                assert count == rows[name]

        # A new environment is a new stack, as the program's docstring says: copy dev's config, change two keys.
        pulumi_env = {**os.environ, **env}
        set_staging = ["pulumi", "config", "set", "--stack", "staging", "--path"]
        for command in (
            ["pulumi", "stack", "init", "staging", "--copy-config-from", "dev"],
            [*set_staging, "warehouse.title", "Analytics warehouse (staging)"],
            [*set_staging, "warehouse.params.schema", "improvado_staging"],
        ):
            subprocess.run(command, cwd=work_dir, env=pulumi_env, check=True, capture_output=True, text=True)
        staging_stack = stack_for(work_dir, "staging", env=env, create=False, pulumi_command=pulumi_command)
        staging = staging_stack.up(color="never").outputs
        assert staging["first_run"].value["status"] == "success"
        [connection] = api.destination_connections.find_by_title("postgresql", "Analytics warehouse (staging)")
        assert staging["warehouse"].value["connection_id"] == connection.id
        with engine.connect() as conn:
            count = conn.execute(text("select count(*) from improvado_staging.google_ads_daily")).scalar_one()
            assert count == staging["first_run"].value["rows"]
    finally:
        engine.dispose()


def test_adopt_existing_takes_over_without_creating(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str, pulumi_command: auto.PulumiCommand
) -> None:
    made = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads", run_policy="daily")
    work_dir, env = example(tmp_path, "adopt-existing")
    stack = stack_for(work_dir, "dev", env={**env, "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token},
                      pulumi_command=pulumi_command)
    spec = {"ads": {"loadId": made.id, "dataTableId": 1, "connectionId": 1, "table": "ads", "runPolicy": "daily"}}
    stack.set_config("existingLoads", auto.ConfigValue(json.dumps(spec)))

    assert stack.up(color="never").outputs["ads"].value == made.id
    assert [x.id for x in api.loads.list()] == [made.id]
    assert stack.preview(color="never").change_summary == {"same": 2}


def test_run_on_deploy_backfills_once_per_trigger(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str, pulumi_command: auto.PulumiCommand
) -> None:
    work_dir, env = example(tmp_path, "run-on-deploy")
    stack = stack_for(work_dir, "dev", env={**env, "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token},
                      pulumi_command=pulumi_command)
    stack.set_all_config({"backfillFrom": auto.ConfigValue("2000-01-01"), "backfillTo": auto.ConfigValue("2100-01-01")})

    backfill = stack.up(color="never").outputs["backfill"].value
    assert backfill["status"] == "success" and backfill["rows"] > 0
    assert stack.preview(color="never").change_summary == {"same": 3}
    stack.set_config("backfillVersion", auto.ConfigValue("2"))
    assert stack.preview(color="never").change_summary == {"same": 2, "replace": 1}


def test_demo_program_loads_rows_into_the_embedded_sqlite(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str, pulumi_command: auto.PulumiCommand
) -> None:
    """The README's demo program (top-level __main__.py) with its defaults: a SQLite warehouse, rows in it."""
    work_dir = tmp_path / "demo"
    work_dir.mkdir()
    shutil.copy(ROOT / "__main__.py", work_dir / "__main__.py")
    settings = (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {sys.prefix}")
    (work_dir / "Pulumi.yaml").write_text(settings)
    stack = stack_for(work_dir, "demo", env=engine_env(tmp_path), pulumi_command=pulumi_command)
    stack.set_all_config({"improvado:apiUrl": auto.ConfigValue(emulator.url),
                          "improvado:token": auto.ConfigValue(token, secret=True)})

    outputs = stack.up(color="never").outputs
    assert outputs["warehouse"].value["status"] == "active"
    backfill = outputs["backfill"].value
    assert backfill["status"] == "success" and backfill["rows"] > 0
    loads = {x.destination_table: x for x in api.loads.list()}
    assert set(loads) == {"google_ads_daily", "facebook_ads_by_account", "campaign_lifetime_totals"}
    assert {x.destination_connection_id for x in loads.values()} == {outputs["warehouse"].value["connection_id"]}
    warehouse = sqlite3.connect(emulator.settings.data_dir / "demo-warehouse.sqlite3")
    try:
        assert warehouse.execute("select count(*) from google_ads_daily").fetchone()[0] == backfill["rows"]
    finally:
        warehouse.close()
    assert stack.preview(color="never").change_summary == {"same": 6}
