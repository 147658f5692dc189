"""The Load provider's reads come from one paged list per process, not one GET per load."""

from __future__ import annotations

import math
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
