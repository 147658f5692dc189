"""Through the real engine: ``pulumi refresh`` reads every load from one list call (per 100 loads), and a
preview of an unchanged stack makes no API call at all."""

from __future__ import annotations

from improvado_loads import ImprovadoClient, contract

from .conftest import Deployment

LOADS = {
    f"ads{i}": {"data_table_id": 1, "destination_connection_id": 1, "destination_table": f"ads_{i}",
                "run_policy": "daily"}
    for i in range(12)
}


def test_preview_calls_nothing_and_refresh_lists_once_and_confirms_a_missing_load_by_its_own_get(
    deployment: Deployment, api: ImprovadoClient
) -> None:
    deployment.configure(loads=LOADS)
    deployment.up()
    deployment.clear_requests()
    assert deployment.preview().change_summary == {"same": 13}  # the 12 loads and the stack
    assert deployment.requests() == []
    before = deployment.resources()
    ids = sorted(int(r["outputs"]["load_id"]) for r in before)
    inputs_before = {r["outputs"]["load_id"]: r["inputs"] for r in before}
    api.loads.update(ids[0], run_policy="hourly")
    deployment.clear_requests()

    result = deployment.refresh()

    assert result.summary.resource_changes == {"same": 12, "update": 1}
    assert [(r["method"], r["path"]) for r in deployment.requests()] == [("GET", contract.LOADS_PATH)]
    # The changed load's inputs are what refresh saw; every other load keeps its inputs as they were.
    inputs_after = {r["outputs"]["load_id"]: r["inputs"] for r in deployment.resources()}
    assert inputs_after[ids[0]] == {**inputs_before[ids[0]], "run_policy": "hourly"}
    assert {k: v for k, v in inputs_after.items() if k != ids[0]} == {
        k: v for k, v in inputs_before.items() if k != ids[0]}

    api.loads.delete(ids[1])
    deployment.clear_requests()
    assert deployment.refresh().summary.resource_changes == {"same": 12, "delete": 1}
    calls = sorted((r["method"], r["path"]) for r in deployment.requests())
    assert calls == sorted([("GET", contract.LOADS_PATH), ("GET", contract.load_path(ids[1])),
                            ("GET", f"{contract.DATA_TABLES_PATH}/1")])
