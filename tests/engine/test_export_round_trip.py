"""`improvado-loads export` round trips through the real engine: adopt, then clone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from improvado_loads import ImprovadoClient
from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorServer

from ..conftest import EMULATOR_PASSWORD, EMULATOR_USER
from .conftest import engine_env


def export(emulator: EmulatorServer, token: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "improvado_loads.cli", "export", "--out", str(out), "--stack", "test", *extra],
        env={"PATH": "/usr/bin:/bin", "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token},
        capture_output=True, text=True, check=True,
    )


def test_export_adopts_every_load_and_the_next_preview_is_empty(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str
) -> None:
    made = [
        api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads", run_policy="daily"),
        api.loads.create(data_table_id=2, destination_connection_id=1, destination_table="fb", run_policy="weekly"),
        api.loads.create(data_table_id=3, destination_connection_id=1, destination_table="totals",
                         load_historical_data=True),
    ]
    out = tmp_path / "exported"
    export(emulator, token, out)
    assert (out / "__main__.py").read_text().count("adopt_load_id=") == 3

    stack = stack_for(out, "test", env={**engine_env(tmp_path), "IMPROVADO_API_TOKEN": token})
    requests = f"{emulator.url}/_emulator/requests"
    httpx.delete(requests).raise_for_status()
    result = stack.up(color="never")

    assert result.summary.resource_changes == {"create": 4}  # the stack + 3 adopted loads
    assert not [r for r in httpx.get(requests).json() if r["method"] in ("POST", "PUT", "DELETE")]
    assert [load.id for load in api.loads.list()] == [load.id for load in made]  # adopted, not created again
    assert stack.preview(color="never").change_summary == {"same": 4}


def test_export_clones_into_another_workspace(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str, workspace2_api: ImprovadoClient
) -> None:
    api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads", run_policy="daily")
    api.loads.create(data_table_id=3, destination_connection_id=1, destination_table="totals")
    out = tmp_path / "clone"
    export(emulator, token, out, "--target-workspace-id", "2", "--map-destination", "1=4",
           "--map-data-table", "1=4", "--map-data-table", "3=6")
    assert "adopt_load_id" not in (out / "__main__.py").read_text()

    env = {**engine_env(tmp_path), "IMPROVADO_USERNAME": EMULATOR_USER, "IMPROVADO_PASSWORD": EMULATOR_PASSWORD}
    stack = stack_for(out, "test", env=env)
    assert stack.get_config("improvado:workspaceId").value == "2"
    stack.up(color="never")

    clones = workspace2_api.loads.list()
    assert sorted((x.data_table.id, x.destination_connection_id, x.destination_table) for x in clones) == [
        (4, 4, "ads"), (6, 4, "totals")]
    assert len(api.loads.list().to_list()) == 2  # the originals, untouched
    assert stack.preview(color="never").change_summary == {"same": 3}
