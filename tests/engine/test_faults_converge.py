"""One ``up`` of 30 loads under the fault mix converges: exactly 30 loads, none twice, none orphaned.

The mix, on every ``/api/v3/`` request: 20 % answered 5xx (500 and 503), 10 % answered 429
(``Retry-After: 1``), 5 % of connections dropped after the request was processed (the answer is lost).
The provider uses the client's default retry budget.
"""

from __future__ import annotations

import httpx

from improvado_loads import ImprovadoClient

from .conftest import Deployment

LOADS = 30
#: (status or drop, share of the requests that reach it): applied in order, so each share is
#: that of what the faults before it let through (0.1, 0.1/0.9, ...) to give the overall mix.
FAULT_MIX = [
    {"status": 500, "share": 0.10},
    {"status": 503, "share": 0.10 / 0.90},
    {"status": 429, "share": 0.10 / 0.80, "retry_after": 1},
    {"drop": "after", "share": 0.05 / 0.70},
]


def add_fault_mix(emulator_url: str) -> None:
    """Register the fault mix on every API request of the emulator."""
    for fault in FAULT_MIX:
        httpx.post(f"{emulator_url}/_emulator/faults", json={"path": "/api/v3/*", **fault}).raise_for_status()


def test_an_up_of_30_loads_under_faults_converges_in_one_run(deployment: Deployment, api: ImprovadoClient) -> None:
    loads = {
        f"load-{i:02d}": {"data_table_id": 1 + i % 3, "destination_connection_id": 1,
                          "destination_table": f"faulty_{i:02d}", "run_policy": "daily"}
        for i in range(LOADS)
    }
    deployment.configure(loads=loads)
    add_fault_mix(deployment.emulator_url)
    deployment.clear_requests()
    try:
        deployment.up()
        requests = deployment.requests()
    finally:
        httpx.delete(f"{deployment.emulator_url}/_emulator/faults").raise_for_status()

    faulted = [r for r in requests if r["status"] in (429, 500, 503) or r.get("dropped")]
    # The mix is random (unseeded). Measured over 14 runs, 4 at a time: 11 to 35 of 50 to 88 requests
    # faulted; one earlier full-suite run saw 8, which failed the old bound of 10. 4 still proves the mix bit.
    assert len(faulted) >= 4, f"the fault mix did not bite: {len(faulted)} of {len(requests)} requests faulted"
    live = api.loads.list().to_list()
    assert len(live) == LOADS  # none twice
    state_ids = sorted(int(r["outputs"]["load_id"]) for r in deployment.resources())
    assert state_ids == sorted(load.id for load in live)  # none orphaned, none missing
    assert {load.destination_table for load in live} == {spec["destination_table"] for spec in loads.values()}
