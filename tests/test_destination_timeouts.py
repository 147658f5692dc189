"""A hung destination fails its own run in bounded time and stalls no other load."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from improvado_loads import contract
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.emulator.destinations import bounded_connect_args
from tests.conftest import EMULATOR_TOKEN

HEADERS = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}


@pytest.fixture
def quick_timeouts(emulator_settings: EmulatorSettings) -> EmulatorSettings:
    emulator_settings.destination_timeout_seconds = 1.0
    return emulator_settings


def _create(api: httpx.Client, connection_id: int, table: str) -> int:
    response = api.post(contract.LOADS_PATH, json={
        "data_table_id": 1, "destination_connection_id": connection_id, "destination_table": table})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _run_and_wait(api: httpx.Client, load_ids: list[int], timeout: float = 30) -> dict[int, dict[str, Any]]:
    for load_id in load_ids:
        assert api.put(f"{contract.LOADS_PATH}/{load_id}/run").status_code == 202
    deadline = time.monotonic() + timeout
    done: dict[int, dict[str, Any]] = {}
    while len(done) < len(load_ids):
        assert time.monotonic() < deadline, f"runs still going: {set(load_ids) - set(done)}"
        for load_id in set(load_ids) - set(done):
            load = api.get(f"{contract.LOADS_PATH}/{load_id}").json()
            if load["status"] in ("success", "failed"):
                done[load_id] = load
        time.sleep(0.05)
    return done


def test_a_locked_postgres_table_fails_its_run_and_other_loads_go_on(
    quick_timeouts: EmulatorSettings, postgres_dsn: str
) -> None:
    with EmulatorServer(quick_timeouts) as server, httpx.Client(base_url=server.url, headers=HEADERS,
                                                                timeout=30) as api:
        locked = _create(api, 2, "hung_destination_t")
        assert _run_and_wait(api, [locked])[locked]["status"] == "success"  # the table exists, and is ours
        other = _create(api, 1, "independent_t")
        with psycopg.connect(postgres_dsn) as blocker:
            blocker.execute("LOCK TABLE hung_destination_t IN ACCESS EXCLUSIVE MODE")  # held until the end
            started = time.monotonic()
            ended = _run_and_wait(api, [locked, other])
            waited = time.monotonic() - started
            blocker.rollback()
        assert ended[other]["status"] == "success" and ended[other]["uploaded_rows_count"] > 0
        assert ended[locked]["status"] == "failed"
        assert "lock timeout" in ended[locked]["error_text"], ended[locked]["error_text"]
        assert waited < 20
        # Once the lock is gone, the same load runs again.
        assert _run_and_wait(api, [locked])[locked]["status"] == "success"


def test_every_destination_driver_gets_a_bound(tmp_path: Path) -> None:
    pg = bounded_connect_args("postgresql+psycopg://u@127.0.0.1:5432/db", 2.5)
    assert "lock_timeout=2500" in pg["options"] and "statement_timeout=7500" in pg["options"]
    assert 2 <= pg["connect_timeout"] <= 10
    assert bounded_connect_args(f"sqlite:///{tmp_path}/w.sqlite3", 2.5) == {"timeout": 2.5}
