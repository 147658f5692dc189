"""Answers lost after the emulator made the change (fault injection): nothing happens twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from improvado_loads import ImprovadoClient, RetryPolicy
from improvado_loads.emulator import EmulatorControl, EmulatorServer

from .conftest import EMULATOR_TOKEN

FAST = RetryPolicy(max_retries=4, backoff_base=0.01, backoff_max=0.05)
LOADS = 5


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, retry=FAST) as api:
        yield api


def test_runs_whose_answers_are_lost_run_exactly_once(client: ImprovadoClient, control: EmulatorControl) -> None:
    loads = [client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"lost_{i}")
             for i in range(LOADS)]
    control.clear_requests()
    control.add_fault(method="PUT", path="/api/v3/loads/*/run", drop="after", times=LOADS)

    for load in loads:
        started = client.loads.run(load.id)
        assert started.id == load.id
        assert client.loads.wait(load.id, timeout=30, poll_interval=0.02).status == "success"

    assert control.faults() == []  # every answer of the first attempts was dropped
    runs = [r for r in control.requests() if r["method"] == "PUT" and r["path"].endswith("/run")]
    assert sorted(r["path"] for r in runs if r["status"] == 202) == sorted(
        f"/api/v3/loads/{load.id}/run" for load in loads)  # one run each, none twice


def test_a_delete_whose_answer_is_lost_is_done(client: ImprovadoClient, control: EmulatorControl) -> None:
    load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="gone")
    control.add_fault(method="DELETE", path=f"/api/v3/loads/{load.id}", drop="after", times=1)
    client.loads.delete(load.id)
    assert client.loads.list().to_list() == []
