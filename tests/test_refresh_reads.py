"""The Load provider's reads come from one paged list per process, not one GET per load."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from improvado_loads import ImprovadoClient, contract
from improvado_loads.emulator import EmulatorControl
from improvado_loads.models import Load

from .conftest import EMULATOR_TOKEN, fresh_provider

LOADS = 130


class HeldPages(httpx.BaseTransport):
    """Sends every request, except that list requests after the first wait until :attr:`release` is set."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.held = threading.Event()  # a later page was asked for
        self.release = threading.Event()
        self.lists = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == contract.LOADS_PATH:
            self.lists += 1
            if self.lists > 1:
                self.held.set()
                if not self.release.wait(timeout=60):  # bounded: the test fails rather than hangs
                    raise httpx.ReadTimeout("the test never released the page", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def make_loads(client: ImprovadoClient, count: int) -> list[Load]:
    """``count`` loads of data table 1 into connection 1, tables ``t0``, ``t1``..."""
    return [client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
            for i in range(count)]


def made_requests(control: EmulatorControl) -> list[tuple[str, str]]:
    """The emulator's requests since the last clear, as (method, path)."""
    return [(r["method"], r["path"]) for r in control.requests()]


def state(load: Any) -> dict[str, Any]:
    return {"data_table_id": load.data_table.id, "destination_connection_id": 1,
            "destination_table": load.destination_table, "run_policy": "manual", "deletion_policy": "delete"}


def test_reads_of_many_loads_take_one_list_call_a_page(client: ImprovadoClient, control: EmulatorControl) -> None:
    loads = make_loads(client, LOADS)
    client.loads.update(loads[0].id, run_policy="weekly")  # drift, seen through the list
    control.clear_requests()

    provider = fresh_provider(client)
    results = [provider.read(str(load.id), state(load)) for load in loads]

    assert [int(r.id) for r in results] == [load.id for load in loads]
    assert results[0].outs["run_policy"] == "weekly" and results[1].outs["run_policy"] == "manual"
    calls = made_requests(control)
    assert calls == [("GET", contract.LOADS_PATH)] * math.ceil(LOADS / contract.MAX_PAGE_SIZE)


def test_a_load_missing_from_the_list_is_confirmed_by_its_own_get(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    kept, deleted = make_loads(client, 2)
    client.loads.delete(deleted.id)
    control.clear_requests()

    provider = fresh_provider(client)
    assert provider.read(str(kept.id), state(kept)).id == str(kept.id)
    assert provider.read(str(deleted.id), state(deleted)).id == ""
    assert made_requests(control) == [
        ("GET", contract.LOADS_PATH), ("GET", contract.load_path(deleted.id)),
        ("GET", f"{contract.DATA_TABLES_PATH}/1")]


def test_a_write_of_the_process_makes_reads_list_again(client: ImprovadoClient, control: EmulatorControl) -> None:
    load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="t")
    provider = fresh_provider(client)
    assert provider.read(str(load.id), state(load)).outs["run_policy"] == "manual"
    provider.update(str(load.id), state(load), {**state(load), "run_policy": "daily"})
    assert provider.read(str(load.id), state(load)).outs["run_policy"] == "daily"


def test_a_read_waits_for_its_own_page_only(client: ImprovadoClient, control: EmulatorControl) -> None:
    """The first reads of a refresh are served once their page is in, while the next page is on its way."""
    loads = make_loads(client, LOADS)
    control.clear_requests()
    transport = HeldPages()
    with ImprovadoClient(base_url=client.base_url, token=EMULATOR_TOKEN, transport=transport) as held_client:
        provider = fresh_provider(held_client)

        # Served from the first page while the second is held: the read did not wait for it...
        assert provider.read(str(loads[0].id), state(loads[0])).id == str(loads[0].id)
        # ...which was asked for ahead of the reads that need it.
        assert transport.held.wait(timeout=60)
        transport.release.set()
        assert provider.read(str(loads[-1].id), state(loads[-1])).id == str(loads[-1].id)
        for load in loads[1:-1]:  # every other read is served from the pages already in
            provider.read(str(load.id), state(load))

    assert made_requests(control) == [("GET", contract.LOADS_PATH)] * 2


def test_a_page_fetched_ahead_is_at_most_one_more_than_the_reads_need(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    """Reads of loads on the first page of a longer list: one page fetched ahead, not the whole list."""
    loads = make_loads(client, 2 * contract.MAX_PAGE_SIZE + 1)
    control.clear_requests()
    transport = HeldPages()
    transport.release.set()
    with ImprovadoClient(base_url=client.base_url, token=EMULATOR_TOKEN, transport=transport) as counted:
        provider = fresh_provider(counted)
        for load in loads[:3]:
            assert provider.read(str(load.id), state(load)).id == str(load.id)
        assert transport.held.wait(timeout=60)  # the second page, fetched ahead
        for load in loads[3:10]:
            provider.read(str(load.id), state(load))
        for thread in threading.enumerate():  # whatever is still being fetched ahead, bounded
            if thread.name == "improvado-list-ahead":
                thread.join(timeout=60)

    assert made_requests(control) == [("GET", contract.LOADS_PATH)] * 2


def test_concurrent_reads_share_one_list(client: ImprovadoClient, control: EmulatorControl) -> None:
    """Four reads at a time, as the engine sends them: each page is fetched once, every load is found."""
    loads = make_loads(client, LOADS)
    control.clear_requests()
    provider = fresh_provider(client)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda load: provider.read(str(load.id), state(load)), loads, timeout=120))
    assert [r.id for r in results] == [str(load.id) for load in loads]
    calls = made_requests(control)
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
