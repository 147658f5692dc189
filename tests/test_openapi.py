"""The hand-written OpenAPI document (docs/openapi.yaml) against the emulator and the client's models.

schemathesis generates valid and invalid requests for every documented operation and sends them to
a real emulator on loopback: no answer is a server error, every answer has a documented status, type
and shape. Each generated body is also given to the client's request model, which must agree with
the document (accept what it allows, refuse what it refuses), and each successful answer must parse
with the client's response model. The run is bounded: a few examples per operation and mode.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pydantic
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from improvado_loads import models
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

from .openapi_cases import on_loopback

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
TOKEN, USER, PASSWORD = "openapi-test-token", "openapi-user", "openapi-password"
EXAMPLES = 8

#: The client's model of each operation's request body and of its successful answer.
REQUEST_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "exchangeToken": models.TokenRequest,
    "createLoad": models.LoadCreate,
    "updateLoad": models.LoadUpdate,
    "runLoad": models.RunRequest,
}
RESPONSE_MODELS: dict[str, Any] = {
    "exchangeToken": models.Token,
    "listLoads": models.Page[models.Load],
    "createLoad": models.Load,
    "getLoad": models.Load,
    "updateLoad": models.Load,
    "runLoad": models.Load,
    "pauseLoad": models.Load,
    "unpauseLoad": models.Load,
    "listDataTables": models.Page[models.DataTable],
    "getDataTable": models.DataTable,
    "listConnections": models.Page[models.DestinationConnection],
    "getConnection": models.DestinationConnection,
    "createConnection": models.DestinationConnection,
    "updateConnection": models.DestinationConnection,
    "reauthorizeConnection": models.DestinationConnection,
    "recheckConnection": models.DestinationConnection,
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _json_schema(openapi: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: ``nullable: true`` becomes a ``null`` type."""
    if isinstance(openapi, list):
        return [_json_schema(item) for item in openapi]
    if not isinstance(openapi, dict):
        return openapi
    converted = {k: _json_schema(v) for k, v in openapi.items() if k != "nullable"}
    if openapi.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A JSON Schema validator of one of the document's component schemas."""
    root = {"$ref": f"#/components/schemas/{name}", "components": _json_schema(copy.deepcopy(document["components"]))}
    return jsonschema_rs.validator_for(root)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    settings_ = EmulatorSettings(
        data_dir=tmp_path_factory.mktemp("openapi") / "data", port=0, token=TOKEN, username=USER,
        password=PASSWORD, run_seconds=0.01, tick_seconds=0.2,
    )
    with EmulatorServer(settings_) as server:
        yield server


def _model_accepts(model: type[pydantic.BaseModel], body: Any) -> bool:
    try:
        model.model_validate(body)
    except pydantic.ValidationError:
        return False
    return True


def _request_schema_name(document: dict[str, Any], operation_id: str) -> str:
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                ref: str = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                return ref.rsplit("/", 1)[1]
    raise KeyError(operation_id)


def test_the_document_is_valid_openapi_and_covers_the_client(document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    ids = {result.ok().definition.raw["operationId"] for result in schema.get_all_operations()}
    assert ids == set(RESPONSE_MODELS) | {"deleteLoad", "deleteConnection"}
    # Every field of a request model is in the document's schema, and no other one.
    for operation_id, model in REQUEST_MODELS.items():
        name = _request_schema_name(document, operation_id)
        assert set(document["components"]["schemas"][name]["properties"]) == set(model.model_fields), name


def test_client_request_models_agree_with_the_document(document: dict[str, Any]) -> None:
    """Hand-picked bodies at the edges: the document and the client's model say the same."""
    create = validator(document, "LoadCreate")
    good = {"data_table_id": 1, "destination_connection_id": 2, "destination_table": "s.t"}
    cases: list[tuple[dict[str, Any], bool]] = [
        (good, True),
        ({**good, "data_table_id": 2**63 - 1}, True),
        ({**good, "data_table_id": 2**63}, False),
        ({**good, "data_table_id": 0}, False),
        ({**good, "data_table_id": True}, False),
        ({**good, "data_table_id": "1"}, False),
        ({**good, "load_historical_data": "yes"}, False),
        ({**good, "load_historical_data": 1}, False),
        ({**good, "load_historical_data": True, "run_policy": "weekly"}, True),
        ({**good, "run_policy": "sometimes"}, False),
        ({**good, "destination_table": "1bad"}, False),
        ({**good, "extra": 1}, False),
    ]
    for body, allowed in cases:
        assert create.is_valid(body) is allowed, body
        assert _model_accepts(models.LoadCreate, body) is allowed, body
    token = validator(document, "TokenRequest")
    for body, allowed in [({"workspace_id": 1}, True), ({"workspace_id": 2**63}, False),
                          ({"workspace_id": True}, False)]:
        assert token.is_valid(body) is allowed and _model_accepts(models.TokenRequest, body) is allowed, body
    # Python callers build the same models from Python values: an enum by value still works.
    assert models.LoadCreate(data_table_id=1, destination_connection_id=2, destination_table="t",
                             run_policy="daily").run_policy is models.RunPolicy.DAILY  # type: ignore[arg-type]


def _auth_headers(operation_id: str, case: Any) -> dict[str, str]:
    """Real credentials where the generated case carries some (a negative case may leave them out)."""
    headers = dict(case.headers or {})
    present = any(k.lower() == "authorization" for k in headers)
    case.headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    if not present:
        return {}
    if operation_id == "exchangeToken":
        return {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    return {"Authorization": f"Bearer {TOKEN}"}


def _body_allowed(document: dict[str, Any], operation_id: str, body: Any) -> bool:
    allowed = validator(document, _request_schema_name(document, operation_id)).is_valid(body)
    if allowed and operation_id == "runLoad" and body.get("date_from") and body.get("date_to"):
        allowed = body["date_from"] <= body["date_to"]  # what the document cannot say
    return bool(allowed)


def _exercise(served: EmulatorServer, document: dict[str, Any], operation_id: str, case: Any,
              answered: dict[int, int]) -> None:
    """Send one generated case; check the answer, and the client's models against the document."""
    on_loopback(case.body)
    response = case.call(base_url=served.url, headers=_auth_headers(operation_id, case), timeout=30)
    answered[response.status_code] = answered.get(response.status_code, 0) + 1
    case.validate_response(response, checks=CHECKS)
    body = case.body
    if operation_id in REQUEST_MODELS and body is not NOT_SET and isinstance(body, dict):
        allowed = _body_allowed(document, operation_id, body)
        model_ok = _model_accepts(REQUEST_MODELS[operation_id], body)
        assert model_ok is allowed, f"{operation_id}: the client's model and the document disagree on {body!r}"
        if not allowed:
            assert 400 <= response.status_code < 500, f"{operation_id} took {body!r}: {response.status_code}"
    if 200 <= response.status_code < 300 and operation_id in RESPONSE_MODELS:
        pydantic.TypeAdapter(RESPONSE_MODELS[operation_id]).validate_python(response.json())


def _bound(served: EmulatorServer, document: dict[str, Any], operation_id: str,
           answered: dict[int, int]) -> Callable[[Any], None]:
    def exercise(case: Any) -> None:
        _exercise(served, document, operation_id, case, answered)

    return exercise


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_schemathesis_against_the_emulator(
    served: EmulatorServer, document: dict[str, Any], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    answered: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        exercise = _bound(served, document, operation.definition.raw["operationId"], answered)
        settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))(
            given(operation.as_strategy(generation_mode=mode))(exercise)
        )()
    assert not [status for status in answered if status >= 500], answered
    assert sum(answered.values()) >= 10
