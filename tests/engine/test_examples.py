"""The programs users copy (examples/) run through the real engine against the emulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pulumi import automation as auto

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


def test_multi_environment_dev_and_prod_differ_only_by_config(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, workspace2_api: ImprovadoClient
) -> None:
    work_dir, env = example(tmp_path, "multi-environment")
    env |= {"IMPROVADO_USERNAME": EMULATOR_USER, "IMPROVADO_PASSWORD": EMULATOR_PASSWORD}
    for name in ("dev", "prod"):
        stack = stack_for(work_dir, name, env=env)
        stack.set_config("improvado:apiUrl", auto.ConfigValue(emulator.url))
        stack.up(color="never")
        assert stack.preview(color="never").change_summary == {"same": 4}

    def loads_of(client: ImprovadoClient) -> list[tuple[int, int | None, str]]:
        return sorted((x.data_table.id, x.destination_connection_id, str(x.run_policy)) for x in client.loads.list())

    assert loads_of(api) == [(1, 1, "hourly"), (2, 1, "after_extraction"), (3, 1, "weekly")]
    assert loads_of(workspace2_api) == [(4, 4, "daily"), (5, 4, "after_extraction"), (6, 4, "weekly")]


def test_adopt_existing_takes_over_without_creating(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str
) -> None:
    made = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads", run_policy="daily")
    work_dir, env = example(tmp_path, "adopt-existing")
    stack = stack_for(work_dir, "dev", env={**env, "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token})
    spec = {"ads": {"loadId": made.id, "dataTableId": 1, "connectionId": 1, "table": "ads", "runPolicy": "daily"}}
    stack.set_config("existingLoads", auto.ConfigValue(json.dumps(spec)))

    assert stack.up(color="never").outputs["ads"].value == made.id
    assert [x.id for x in api.loads.list()] == [made.id]
    assert stack.preview(color="never").change_summary == {"same": 2}


def test_run_on_deploy_backfills_once_per_trigger(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str
) -> None:
    work_dir, env = example(tmp_path, "run-on-deploy")
    stack = stack_for(work_dir, "dev", env={**env, "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token})
    stack.set_config("backfillFrom", auto.ConfigValue("2000-01-01"))
    stack.set_config("backfillTo", auto.ConfigValue("2100-01-01"))

    backfill = stack.up(color="never").outputs["backfill"].value
    assert backfill["status"] == "success" and backfill["rows"] > 0
    assert stack.preview(color="never").change_summary == {"same": 3}
    stack.set_config("backfillVersion", auto.ConfigValue("2"))
    assert stack.preview(color="never").change_summary == {"same": 2, "replace": 1}
