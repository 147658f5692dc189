"""LoadRun through the real engine, and credentials kept out of state and output."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorSettings

from .conftest import Deployment

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily",
       "run_policy": "manual"}


def warehouse_rows(emulator_dir: Path, table: str) -> int:
    with sqlite3.connect(emulator_dir / "warehouse-ws1.sqlite3") as db:
        return int(db.execute(f"select count(*) from {table}").fetchone()[0])


def test_load_run_moves_rows_and_reruns_when_triggers_change(
    deployment: Deployment, api: ImprovadoClient, emulator_settings: EmulatorSettings
) -> None:
    rng = {"date_from": "2000-01-01", "date_to": "2100-01-01"}  # every day of the data table
    deployment.configure(loads={"ads": ADS}, runs={"backfill": {"load": "ads", **rng, "triggers": ["v1"]}})
    result = deployment.up()

    run = result.outputs["backfill"].value
    assert run["status"] == "success"
    assert run["rows"] == warehouse_rows(emulator_settings.data_dir, "google_ads_daily") > 0
    # one timestamp format everywhere: RFC 3339, UTC, `Z` (issue 7), as `loads get -o json` says it
    [recorded] = deployment.resources(":LoadRun")
    ended = recorded["outputs"]["last_update"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", ended), ended
    [load] = api.loads.list().to_list()
    assert ended == load.model_dump(mode="json")["last_update"]

    deployment.clear_requests()
    assert deployment.preview().change_summary == {"same": 3}
    deployment.configure(runs={"backfill": {"load": "ads", **rng, "triggers": ["v2"]}})
    deployment.up()
    runs = [w for w in deployment.writes() if w["path"].endswith("/run")]
    assert len(runs) == 1
    assert warehouse_rows(emulator_settings.data_dir, "google_ads_daily") == run["rows"]  # replaced, not doubled


def test_failed_run_fails_the_deployment_with_the_error_text(deployment: Deployment) -> None:
    httpx.put(
        f"{deployment.emulator_url}/_emulator/connections/1", json={"dsn": "postgresql://nobody@127.0.0.1:9/gone"}
    ).raise_for_status()
    deployment.configure(loads={"ads": ADS}, runs={"now": {"load": "ads"}})

    with pytest.raises(auto.CommandError) as failed:
        deployment.up()

    message = str(failed.value)
    assert "the run of load" in message and "failed:" in message
    assert "127.0.0.1" in message and "9" in message  # the destination's own words
    assert deployment.resources(":LoadRun") == []


def test_token_is_nowhere_in_state_files_or_engine_output(
    deployment: Deployment, token: str, api: ImprovadoClient
) -> None:
    deployment.configure(loads={"ads": ADS}, runs={"now": {"load": "ads", "triggers": [1]}})
    deployment.up()
    deployment.preview()
    deployment.refresh()
    api.loads.update(int(deployment.stack.outputs()["ads"].value["load_id"]), run_policy="weekly")
    deployment.refresh()
    deployment.destroy()
    deployment.configure(loads={"ads": ADS})
    deployment.up()

    exported = deployment.export_without_secrets()
    assert token not in exported
    resources = json.loads(exported)["deployment"]["resources"]
    # The engine keeps the provider's config (improvado:token among it) as an encrypted secret.
    [default_provider] = [r for r in resources if r["type"] == "pulumi:providers:pulumi-python"]
    assert "ciphertext" in default_provider["inputs"]["improvado:token"]
    pickled = [r["inputs"]["__provider"] for r in resources if "__provider" in r.get("inputs", {})]
    assert pickled and all(len(p) < 200 for p in pickled)  # by reference only, no code, no credentials
    on_disk = [p for p in deployment.state_dir.rglob("*") if p.is_file()]
    assert on_disk and all(token not in p.read_text(errors="replace") for p in on_disk)
    stack_config = (deployment.work_dir / "Pulumi.test.yaml").read_text()
    assert token not in stack_config and "secure:" in stack_config
    assert deployment.output and all(token not in line for line in deployment.output)


def test_provider_falls_back_to_environment_credentials(
    token: str, deployment: Deployment, api: ImprovadoClient
) -> None:
    deployment.stack.remove_config("improvado:token")
    deployment.stack.workspace.env_vars["IMPROVADO_API_TOKEN"] = token
    deployment.configure(loads={"ads": ADS})

    deployment.up()

    assert len(api.loads.list().to_list()) == 1


def test_look_ups_read_loads_without_managing_them(deployment: Deployment, api: ImprovadoClient) -> None:
    outside = api.loads.create(data_table_id=3, destination_connection_id=1, destination_table="totals")
    api.loads.create(data_table_id=3, destination_connection_id=1, destination_table="totals_copy")
    deployment.configure(lookup={"load_id": outside.id, "data_table_id": 3})
    deployment.clear_requests()

    outputs = deployment.up().outputs

    assert outputs["looked_up"].value == {"table": "totals", "status": "new"}
    assert outputs["tables"].value == ["totals", "totals_copy"]
    assert deployment.resources() == []  # read, not managed
    assert deployment.writes() == []
