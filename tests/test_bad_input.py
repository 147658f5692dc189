"""Bad input to the emulator's API is a 4xx naming the field: never a 500, never a reset connection."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from improvado_loads import contract
from improvado_loads.emulator import EmulatorServer
from tests.conftest import EMULATOR_PASSWORD, EMULATOR_USER

Client = Callable[..., httpx.Client]
HUGE = 2**63
GOOD_LOAD = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "bad_input_t"}


def _errors(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 400, (response.status_code, response.text)
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v3/loads/{HUGE}", "load_id"),
        (f"/api/v3/loads/{HUGE}/run", "load_id"),
        (f"/api/v3/data-tables/{HUGE}", "table_id"),
        (f"/api/v3/destinations/sqlite/connections/{HUGE}", "connection_id"),
        (f"/api/v3/loads?data_table_id={HUGE}", "data_table_id"),
        (f"/api/v3/loads?destination_connection_id={10**40}", "destination_connection_id"),
        ("/api/v3/loads?data_table_id=0", "data_table_id"),
        ("/api/v3/loads/0", "load_id"),
    ],
)
def test_ids_out_of_range_in_paths_and_filters_name_the_field(emulator_client: Client, path: str, field: str) -> None:
    api = emulator_client()
    method = "PUT" if path.endswith("/run") else "GET"
    assert field in _errors(api.request(method, path))


@pytest.mark.parametrize("field", ["data_table_id", "destination_connection_id"])
def test_ids_out_of_range_in_a_body_name_the_field(emulator_client: Client, field: str) -> None:
    api = emulator_client()
    assert field in _errors(api.post(contract.LOADS_PATH, json={**GOOD_LOAD, field: HUGE}))
    assert api.post(contract.LOADS_PATH, json={**GOOD_LOAD, field: contract.MAX_ID}).status_code == 400


def test_a_workspace_id_out_of_range_in_token_is_a_400(emulator: EmulatorServer) -> None:
    basic = "Basic " + base64.b64encode(f"{EMULATOR_USER}:{EMULATOR_PASSWORD}".encode()).decode()
    with httpx.Client(base_url=emulator.url, headers={"Authorization": basic}, timeout=30) as api:
        assert "workspace_id" in _errors(api.post(contract.TOKEN_PATH, json={"workspace_id": HUGE}))
        assert "workspace_id" in _errors(api.post(contract.TOKEN_PATH, json={"workspace_id": True}))
        assert api.post(contract.TOKEN_PATH, json={"workspace_id": contract.MAX_ID}).status_code == 403


@pytest.mark.parametrize("depth", [100_000, contract.MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_a_400(emulator_client: Client, depth: int) -> None:
    api = emulator_client()
    body = "[" * depth + "]" * depth
    for method, path in [("POST", contract.LOADS_PATH), ("PUT", f"{contract.LOADS_PATH}/1/run")]:
        response = api.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert "nests deeper" in " ".join(_errors(response)["non_field_errors"])
    unclosed = api.post(contract.LOADS_PATH, content="[" * 100_000, headers={"Content-Type": "application/json"})
    assert unclosed.status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"data_table_id": True}, "data_table_id"),
        ({"destination_connection_id": "1"}, "destination_connection_id"),
        ({"data_table_id": 1.5}, "data_table_id"),
        ({"load_historical_data": "yes"}, "load_historical_data"),
        ({"load_historical_data": 1}, "load_historical_data"),
        ({"run_policy": True}, "run_policy"),
    ],
)
def test_create_bodies_are_strict(emulator_client: Client, change: dict[str, Any], field: str) -> None:
    api = emulator_client()
    assert field in _errors(api.post(contract.LOADS_PATH, json={**GOOD_LOAD, **change}))
    assert api.get(contract.LOADS_PATH).json()["count"] == 0


def test_strict_request_models_still_take_python_values() -> None:
    from improvado_loads.models import LoadCreate, RunPolicy

    built = LoadCreate.model_validate({**GOOD_LOAD, "run_policy": "daily", "load_historical_data": True})
    assert built.run_policy is RunPolicy.DAILY and built.load_historical_data is True
    with pytest.raises(ValueError, match="data_table_id"):
        LoadCreate.model_validate({**GOOD_LOAD, "data_table_id": True})
