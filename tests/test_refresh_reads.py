"""The Load provider's reads come from one paged list per process, not one GET per load."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from improvado_loads import ImprovadoClient, contract
from improvado_loads.emulator import EmulatorControl

from .conftest import fresh_provider

LOADS = 130


def state(load: Any) -> dict[str, Any]:
    return {"data_table_id": load.data_table.id, "destination_connection_id": 1,
            "destination_table": load.destination_table, "run_policy": "manual", "deletion_policy": "delete"}


def test_reads_of_many_loads_take_one_list_call_a_page(client: ImprovadoClient, control: EmulatorControl) -> None:
    loads = [client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
             for i in range(LOADS)]
    client.loads.update(loads[0].id, run_policy="weekly")  # drift, seen through the list
    control.clear_requests()

    provider = fresh_provider(client)
    results = [provider.read(str(load.id), state(load)) for load in loads]

    assert [int(r.id) for r in results] == [load.id for load in loads]
    assert results[0].outs["run_policy"] == "weekly" and results[1].outs["run_policy"] == "manual"
    calls = [(r["method"], r["path"]) for r in control.requests()]
    assert calls == [("GET", contract.LOADS_PATH)] * math.ceil(LOADS / contract.MAX_PAGE_SIZE)


def test_a_load_missing_from_the_list_is_confirmed_by_its_own_get(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    kept, deleted = (client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
                     for i in range(2))
    client.loads.delete(deleted.id)
    control.clear_requests()

    provider = fresh_provider(client)
    assert provider.read(str(kept.id), state(kept)).id == str(kept.id)
    assert provider.read(str(deleted.id), state(deleted)).id == ""
    assert [(r["method"], r["path"]) for r in control.requests()] == [
        ("GET", contract.LOADS_PATH), ("GET", contract.load_path(deleted.id)),
        ("GET", f"{contract.DATA_TABLES_PATH}/1")]


def test_a_write_of_the_process_makes_reads_list_again(client: ImprovadoClient, control: EmulatorControl) -> None:
    load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="t")
    provider = fresh_provider(client)
    assert provider.read(str(load.id), state(load)).outs["run_policy"] == "manual"
    provider.update(str(load.id), state(load), {**state(load), "run_policy": "daily"})
    assert provider.read(str(load.id), state(load)).outs["run_policy"] == "daily"


def test_a_read_waits_for_its_own_page_only(client: ImprovadoClient, control: EmulatorControl) -> None:
    """The first reads of a refresh are served once their page is in, while later pages are still to come."""
    loads = [client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
             for i in range(LOADS)]
    control.clear_requests()
    provider = fresh_provider(client)

    def list_calls() -> int:
        return sum(1 for r in control.requests() if (r["method"], r["path"]) == ("GET", contract.LOADS_PATH))

    assert provider.read(str(loads[0].id), state(loads[0])).id == str(loads[0].id)
    assert list_calls() == 1  # the first page of two
    assert provider.read(str(loads[-1].id), state(loads[-1])).id == str(loads[-1].id)
    assert list_calls() == 2
    for load in loads[1:-1]:  # every other read is served from the pages already in
        provider.read(str(load.id), state(load))
    assert len(control.requests()) == 2


def test_concurrent_reads_share_one_list(client: ImprovadoClient, control: EmulatorControl) -> None:
    """Four reads at a time, as the engine sends them: each page is fetched once, every load is found."""
    loads = [client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
             for i in range(LOADS)]
    control.clear_requests()
    provider = fresh_provider(client)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda load: provider.read(str(load.id), state(load)), loads, timeout=120))
    assert [r.id for r in results] == [str(load.id) for load in loads]
    calls = [(r["method"], r["path"]) for r in control.requests()]
    assert calls == [("GET", contract.LOADS_PATH)] * math.ceil(LOADS / contract.MAX_PAGE_SIZE)


def test_a_read_returns_inputs_only_when_refresh_saw_one_change(client: ImprovadoClient) -> None:
    """Unchanged, the engine keeps the stack's inputs; a change made in Improvado becomes the inputs."""
    load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="t")
    recorded = dict(fresh_provider(client).read(str(load.id), state(load)).outs)  # as the state holds it

    unchanged = fresh_provider(client).read(str(load.id), recorded)
    assert unchanged.id == str(load.id) and unchanged.inputs is None
    assert unchanged.outs["run_policy"] == "manual"

    client.loads.update(load.id, run_policy="weekly")  # someone clicks in the Improvado UI
    drifted = fresh_provider(client).read(str(load.id), recorded)
    assert drifted.outs["run_policy"] == "weekly"
    assert drifted.inputs is not None and drifted.inputs["run_policy"] == "weekly"
    assert {k: drifted.inputs[k] for k in drifted.inputs if k != "run_policy"} == {
        k: recorded[k] for k in drifted.inputs if k != "run_policy"}
