"""`improvado-loads export` round trips through the real engine, connections included.

Adopt: the exported program, with the stack config the export wrote and the
``pulumi config set`` commands it printed, takes every connection and load over
on its first ``up`` (no write reaches the API) and then shows no diff, before
and after a refresh. Clone: the same program as a new stack (``Pulumi.prod.yaml``
beside it) creates copies in workspace 2, the paused load paused.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pulumi import automation as auto
from sqlalchemy.engine import make_url

from improvado_loads import ImprovadoClient
from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorServer

from ..conftest import EMULATOR_PASSWORD, EMULATOR_USER
from .conftest import engine_env


def export(emulator: EmulatorServer, token: str, out: Path, *extra: str) -> str:
    """Run the installed command; its stdout."""
    return subprocess.run(
        [sys.executable, "-m", "improvado_loads.cli", "export", "--out", str(out), *extra],
        env={"PATH": "/usr/bin:/bin", "IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": token},
        capture_output=True, text=True, check=True,
    ).stdout


def run_printed_commands(stdout: str, work_dir: Path, env: dict[str, str], values: dict[str, str]) -> list[str]:
    """Run each printed ``pulumi config set`` with its placeholders filled in; a secret goes through stdin."""
    ran = []
    full_env = {**os.environ, **env}
    for line in stdout.splitlines():
        if not line.strip().startswith("pulumi config set "):
            continue  # prose (it may hold an apostrophe), not a command
        words = shlex.split(line.strip())
        if "improvado:token" in words:
            continue
        if "--secret" in words:
            secret_for = words[-1]
            subprocess.run(words, input=values[secret_for], cwd=work_dir, env=full_env, check=True,
                           capture_output=True, text=True)
        else:
            path = words[-2]
            words[-1] = values.get(path, words[-1])
            subprocess.run(words, cwd=work_dir, env=full_env, check=True, capture_output=True, text=True)
        ran.append(words[-2] if "--path" in words else words[-1])
    return ran


def init_stack(work_dir: Path, name: str, env: dict[str, str]) -> None:
    subprocess.run(["pulumi", "stack", "init", name], cwd=work_dir, env={**os.environ, **env}, check=True,
                   capture_output=True, text=True)


def writes(emulator: EmulatorServer) -> list[dict[str, str]]:
    seen = httpx.get(f"{emulator.url}/_emulator/requests").json()
    return [r for r in seen if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]


def test_export_round_trip_with_connections(
    tmp_path: Path,
    emulator: EmulatorServer,
    api: ImprovadoClient,
    token: str,
    workspace2_api: ImprovadoClient,
    postgres_dsn: str,
    pulumi_command: auto.PulumiCommand,
) -> None:
    ads = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads", run_policy="daily")
    totals = api.loads.create(data_table_id=3, destination_connection_id=2, destination_table="totals",
                              run_policy="weekly", load_historical_data=True)
    api.loads.pause(totals.id)
    pg = make_url(postgres_dsn)
    out = tmp_path / "infra"

    # --- adopt: the export's own stack, set up exactly as the export says -----------------------
    printed = export(emulator, token, out, "--stack", "dev")
    env = engine_env(tmp_path)
    init_stack(out, "dev", env)
    # Before the printed commands: the program says which config is missing, in one line, and touches nothing.
    early = stack_for(out, "dev", env=env, create=False, pulumi_command=pulumi_command)
    early.set_config("improvado:token", auto.ConfigValue(token, secret=True))
    with pytest.raises(auto.CommandError) as refused:
        early.preview(color="never")
    assert "stack config has no connections.local-warehouse" in str(refused.value)
    assert "Traceback" not in str(refused.value)
    values = {
        "connections.local-warehouse.database": "warehouse-ws1.sqlite3",
        "connections.analytics-postgres.host": str(pg.host),
        "connections.analytics-postgres.port": str(pg.port),
        "connections.analytics-postgres.database": str(pg.database),
        "connections.analytics-postgres.user": str(pg.username),
        "analyticsPostgresPassword": str(pg.password or ""),
    }
    assert run_printed_commands(printed, out, env, values) == [
        "connections.local-warehouse.database",
        "connections.analytics-postgres.host",
        "connections.analytics-postgres.port",
        "connections.analytics-postgres.database",
        "connections.analytics-postgres.user",
        "connections.analytics-postgres.schema",
        "analyticsPostgresPassword",
    ]
    dev = stack_for(out, "dev", env=env, create=False, pulumi_command=pulumi_command)
    # The credentials as the export says: stack config (the look-ups run in the program's process).
    dev.set_config("improvado:token", auto.ConfigValue(token, secret=True))
    httpx.delete(f"{emulator.url}/_emulator/requests").raise_for_status()
    result = dev.up(color="never")
    assert result.summary.resource_changes == {"create": 5}  # the stack, 2 connections, 2 loads: all adopted
    assert writes(emulator) == []
    assert sorted(load.id for load in api.loads.list()) == [ads.id, totals.id]
    assert result.outputs["connections"].value == {"local-warehouse": 1, "analytics-postgres": 2}
    assert dev.preview(color="never").change_summary == {"same": 5}
    dev.refresh(color="never")
    assert dev.preview(color="never").change_summary == {"same": 5}  # no perpetual diff
    if pg.password:
        # `pulumi stack export` as a user runs it (the Automation API's export shows secrets).
        exported = subprocess.run(["pulumi", "stack", "export", "--stack", "dev"], cwd=out,
                                  env={**os.environ, **env}, check=True, capture_output=True, text=True).stdout
        assert pg.password not in exported and "ciphertext" in exported

    # --- clone: a new stack of the same program, in workspace 2 ---------------------------------
    program = (out / "__main__.py").read_text()
    printed = export(emulator, token, out, "--clone", "--stack", "prod", "--target-workspace-id", "2")
    assert (out / "__main__.py").read_text() == program
    # The workspace-1 token is still exported in the shell (the export suggests it): the stack's own
    # username, password and workspaceId 2 win over it, not a mix that deploys into workspace 1.
    prod_env = {**engine_env(tmp_path), "IMPROVADO_API_TOKEN": token}
    init_stack(out, "prod", prod_env)
    values["connections.local-warehouse.database"] = "warehouse-prod.sqlite3"
    run_printed_commands(printed, out, prod_env, values)
    prod = stack_for(out, "prod", env=prod_env, create=False, pulumi_command=pulumi_command)
    prod.set_all_config({"improvado:username": auto.ConfigValue(EMULATOR_USER),
                         "improvado:password": auto.ConfigValue(EMULATOR_PASSWORD, secret=True)})
    result = prod.up(color="never")
    assert result.summary.resource_changes == {"create": 5}

    conns = {c.title: c for c in workspace2_api.destination_connections.list_all()}
    copies = {(x.data_table.id, x.destination_table): x for x in workspace2_api.loads.list()}
    local, analytics = conns["Local warehouse"], conns["Analytics Postgres"]
    assert result.outputs["connections"].value == {"local-warehouse": local.id, "analytics-postgres": analytics.id}
    assert local.id not in (1, 4) and local.status == "active" and analytics.status == "active"
    assert set(copies) == {(4, "ads"), (6, "totals")}  # the same data tables, found by title in workspace 2
    assert copies[(4, "ads")].destination_connection_id == local.id
    assert str(copies[(4, "ads")].run_policy) == "daily" and str(copies[(4, "ads")].status) != "paused"
    assert copies[(6, "totals")].destination_connection_id == analytics.id
    assert str(copies[(6, "totals")].status) == "paused" and copies[(6, "totals")].load_historical_data
    assert sorted(load.id for load in api.loads.list()) == [ads.id, totals.id]  # the originals, untouched
    assert prod.preview(color="never").change_summary == {"same": 5}


def test_export_with_connections_found_by_title_adopts_the_loads(
    tmp_path: Path, emulator: EmulatorServer, api: ImprovadoClient, token: str, pulumi_command: auto.PulumiCommand
) -> None:
    """--connections lookup: connections managed elsewhere; the program finds them, adopts the loads."""
    made = api.loads.create(data_table_id=2, destination_connection_id=1, destination_table="fb", run_policy="hourly")
    out = tmp_path / "lookup"
    printed = export(emulator, token, out, "--stack", "dev", "--connections", "lookup")
    assert "--path 'connections." not in printed  # nothing to set: the connection is not declared
    assert 'get_destination_connection(title="Local warehouse", destination_name="sqlite")' \
        in (out / "__main__.py").read_text()
    stack = stack_for(out, "dev", env=engine_env(tmp_path), pulumi_command=pulumi_command)
    stack.set_config("improvado:token", auto.ConfigValue(token, secret=True))
    httpx.delete(f"{emulator.url}/_emulator/requests").raise_for_status()

    result = stack.up(color="never")
    assert result.summary.resource_changes == {"create": 2}  # the stack and the adopted load
    assert writes(emulator) == []
    assert result.outputs["connections"].value == {"local-warehouse": 1}
    assert result.outputs["loads"].value == {"facebook-ads-by-account-fb": made.id}
    assert stack.preview(color="never").change_summary == {"same": 2}
