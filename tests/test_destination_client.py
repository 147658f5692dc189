"""``client.destination_connections`` on an in-memory fake of the API (httpx ``MockTransport``).

Fast unit tests of what the client sends and how it reads the answers; the
emulator tests (tests/test_destinations.py) check the same calls over HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from improvado_loads import (
    ImprovadoClient,
    InvalidRequestError,
    NotFoundError,
    PostgresqlParams,
    RetryPolicy,
    SqliteParams,
)
from improvado_loads.models import DestinationConnection, params_model

PASSWORD = "s3cret-Pa55-word"
FAST = RetryPolicy(max_retries=2, backoff_base=0.001, backoff_max=0.002)
BASE = "/api/v3/destinations"


def pg(**overrides: Any) -> PostgresqlParams:
    values: dict[str, Any] = {"host": "127.0.0.1", "database": "dw", "user": "loader", "password": PASSWORD}
    return PostgresqlParams(**{**values, **overrides})


class FakeApi:
    """Just enough of the connections API: a dict of connections, a log of requests, injectable failures."""

    def __init__(self) -> None:
        self.connections: dict[int, dict[str, Any]] = {}
        self.params: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        #: Called before a POST is handled; may raise (lost request) or return a response.
        self.before_post: Callable[[], httpx.Response | None] | None = None
        #: Called after a POST took effect; may raise to lose the answer.
        self.after_post: Callable[[], None] | None = None

    def add(self, name: str, title: str, status: str = "active") -> int:
        new_id = max(self.connections, default=0) + 1
        self.connections[new_id] = {
            "id": new_id, "title": title, "destination_name": name, "status": status,
            "status_message": None, "create_load_for_new_tables": False,
        }
        return new_id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.requests.append((request.method, path, body))
        parts = path.removeprefix(BASE + "/").split("/")
        name = parts[0]
        if request.method == "GET" and len(parts) == 2:
            results = [c for c in self.connections.values() if c["destination_name"] == name]
            return httpx.Response(200, json={"count": len(results), "next": None, "previous": None, "results": results})
        if request.method == "POST":
            if self.before_post is not None and (answer := self.before_post()) is not None:
                return answer
            new_id = self.add(name, body["title"])
            self.params[new_id] = body["connection_params"]
            self.connections[new_id]["create_load_for_new_tables"] = body["create_load_for_new_tables"]
            if self.after_post is not None:
                self.after_post()
            return httpx.Response(201, json=self.connections[new_id])
        connection = self.connections.get(int(parts[2]))
        if connection is None or connection["destination_name"] != name:
            return httpx.Response(404, json={"detail": "Not found."})
        if request.method == "DELETE":
            del self.connections[connection["id"]]
            return httpx.Response(204)
        if request.method == "PATCH":
            connection.update(body)
        if request.method == "PUT" and len(parts) == 3:
            self.params[connection["id"]] = body["connection_params"]
        return httpx.Response(200, json=connection)


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(api: FakeApi) -> ImprovadoClient:
    return ImprovadoClient(base_url="http://api.test", token="t", retry=FAST, transport=httpx.MockTransport(api))


def test_create_sends_the_params_under_the_chosen_key_and_reads_the_connection(
    client: ImprovadoClient, api: FakeApi
) -> None:
    created = client.destination_connections.create(
        destination_name="postgresql", title="Warehouse", connection_params=pg(schema="ads"),
        create_load_for_new_tables=True,
    )
    assert isinstance(created, DestinationConnection)
    assert (created.id, created.destination_name, created.status) == (1, "postgresql", "active")
    assert created.destination_type == "postgresql" and created.create_load_for_new_tables is True
    post = [r for r in api.requests if r[0] == "POST"]
    assert post == [("POST", f"{BASE}/postgresql/connections", {
        "title": "Warehouse", "destination_name": "postgresql", "create_load_for_new_tables": True,
        "connection_params": {"host": "127.0.0.1", "port": 5432, "database": "dw", "user": "loader",
                              "password": PASSWORD, "schema": "ads"},
    })]


def test_params_given_as_a_mapping_are_validated_and_defaulted(client: ImprovadoClient, api: FakeApi) -> None:
    client.destination_connections.create(
        destination_name="sqlite", title="Local", connection_params={"database": "dw.sqlite3"}
    )
    assert api.params[1] == {"database": "dw.sqlite3"}
    client.destination_connections.create(
        destination_name="postgresql", title="PG",
        connection_params={"host": "h", "database": "d", "user": "u", "password": PASSWORD},
    )
    assert api.params[2]["port"] == 5432 and api.params[2]["schema"] == "public"


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("postgresql", {"database": "d", "user": "u", "password": PASSWORD}, "connection_params.host"),
        ("postgresql", {"host": "h", "database": "d", "user": "u", "password": PASSWORD, "sslmode": "x"},
         "connection_params.sslmode"),
        ("postgresql", {"host": "h", "port": 70000, "database": "d", "user": "u", "password": PASSWORD},
         "connection_params.port"),
        ("sqlite", {"database": "../outside.sqlite3"}, "connection_params.database"),
        ("sqlite", {"database": "/etc/passwd"}, "connection_params.database"),
        ("sqlite", {"database": ".."}, "connection_params.database"),
        ("bigquery", {"project": "p"}, "destination_name"),
    ],
)
def test_bad_params_are_refused_before_any_request_naming_the_field(
    client: ImprovadoClient, api: FakeApi, name: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.destination_connections.create(destination_name=name, title="T", connection_params=params)
    assert field in caught.value.errors
    assert field in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value.errors)
    assert api.requests == []


def test_params_of_another_destination_type_are_refused(client: ImprovadoClient, api: FakeApi) -> None:
    with pytest.raises(InvalidRequestError, match="not params of destination 'postgresql'"):
        client.destination_connections.create(
            destination_name="postgresql", title="T", connection_params=SqliteParams(database="x.sqlite3")
        )
    assert api.requests == []


def test_the_password_shows_in_no_repr_str_or_dump() -> None:
    params = pg()
    for shown in (repr(params), str(params), params.model_dump_json(), json.dumps(params.model_dump(mode="json"))):
        assert PASSWORD not in shown
    assert params.password.get_secret_value() == PASSWORD
    assert params_model("postgresql") is PostgresqlParams and params_model("sqlite") is SqliteParams
    with pytest.raises(KeyError, match="known: postgresql, sqlite"):
        params_model("oracle")


def test_a_password_the_service_echoes_in_an_error_is_blanked_out(client: ImprovadoClient, api: FakeApi) -> None:
    api.before_post = lambda: httpx.Response(
        400, json={"detail": f"bad password {PASSWORD}", "errors": {"connection_params.password": [PASSWORD]}}
    )
    with pytest.raises(InvalidRequestError) as caught:
        client.destination_connections.create(destination_name="postgresql", title="T", connection_params=pg())
    error = caught.value
    assert PASSWORD not in str(error) and PASSWORD not in repr(error.args)
    assert PASSWORD not in json.dumps(error.body) and PASSWORD not in json.dumps(error.errors)
    assert "connection_params.password" in error.errors


def test_a_create_whose_answer_was_lost_is_looked_up_by_title_not_sent_again(
    client: ImprovadoClient, api: FakeApi
) -> None:
    api.add("postgresql", "Warehouse")  # an older connection with the same title is not the answer
    answers_lost = [1]

    def lose() -> None:
        if answers_lost:
            answers_lost.pop()
            raise httpx.ReadTimeout("answer lost")

    api.after_post = lose
    created = client.destination_connections.create(
        destination_name="postgresql", title="Warehouse", connection_params=pg()
    )
    assert created.id == 2
    assert [r[0] for r in api.requests] == ["GET", "POST", "GET"]
    assert len(api.connections) == 2


def test_a_create_that_never_arrived_is_sent_again(client: ImprovadoClient, api: FakeApi) -> None:
    failures = [httpx.Response(503, json={"detail": "down"})]
    api.before_post = lambda: failures.pop() if failures else None
    created = client.destination_connections.create(destination_name="sqlite", title="L",
                                                    connection_params=SqliteParams(database="l.sqlite3"))
    assert created.id == 1 and len(api.connections) == 1
    assert [r[0] for r in api.requests] == ["GET", "POST", "GET", "POST"]


def test_reading_and_changing_a_connection(client: ImprovadoClient, api: FakeApi) -> None:
    connections = client.destination_connections
    sqlite_id = api.add("sqlite", "Local")
    pg_id = api.add("postgresql", "Warehouse", status="error")
    api.add("postgresql", "Warehouse")
    assert [c.id for c in connections.list("postgresql")] == [pg_id, pg_id + 1]
    assert {c.id for c in connections.list_all()} == {sqlite_id, pg_id, pg_id + 1}
    assert connections.get("sqlite", sqlite_id).title == "Local"
    assert connections.find(pg_id).status == "error" and not connections.find(pg_id).is_active
    assert [c.id for c in connections.find_by_title("postgresql", "Warehouse")] == [pg_id, pg_id + 1]
    assert connections.find_by_title("postgresql", "warehouse") == []

    api.requests.clear()
    assert connections.update("postgresql", pg_id, title="Main").title == "Main"
    connections.update("postgresql", pg_id, create_load_for_new_tables=True)
    connections.reauthorize("postgresql", pg_id, pg(password="rotated"))
    connections.recheck("postgresql", pg_id)
    connections.delete("postgresql", pg_id)
    path = f"{BASE}/postgresql/connections/{pg_id}"
    assert api.requests == [
        ("PATCH", path, {"title": "Main"}),
        ("PATCH", path, {"create_load_for_new_tables": True}),
        ("PUT", path, {"connection_params": {"host": "127.0.0.1", "port": 5432, "database": "dw",
                                             "user": "loader", "password": "rotated", "schema": "public"}}),
        ("PUT", f"{path}/recheck", None),
        ("DELETE", path, None),
    ]
    with pytest.raises(NotFoundError, match=f"destination connection {pg_id} does not exist in this workspace"):
        connections.find(pg_id)


def test_update_validates_before_sending(client: ImprovadoClient, api: FakeApi) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.destination_connections.update("sqlite", 1, title="")
    assert "title" in caught.value.errors and api.requests == []


def test_an_old_style_connection_body_still_reads() -> None:
    old = DestinationConnection.model_validate({"id": 1, "title": "t", "destination_type": "sqlite", "status": "x"})
    assert (old.destination_name, old.destination_type, old.status_message) == ("sqlite", "sqlite", None)


def test_no_log_line_shows_the_password(
    client: ImprovadoClient, api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.before_post = lambda: httpx.Response(503, json={"detail": "down"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as caught:
        client.destination_connections.create(destination_name="postgresql", title="T", connection_params=pg())
    assert PASSWORD not in str(caught.value)
    with pytest.raises(NotFoundError) as missing:
        client.destination_connections.reauthorize("postgresql", 99, pg())
    assert PASSWORD not in str(missing.value)
    assert caplog.records and all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_an_escaped_echo_of_the_password_is_blanked_out_too(client: ImprovadoClient, api: FakeApi) -> None:
    tricky = 'quo"te\\back'
    api.before_post = lambda: httpx.Response(400, text=f'bad input: {json.dumps(tricky)} / {tricky!r}')
    with pytest.raises(InvalidRequestError) as caught:
        client.destination_connections.create(
            destination_name="postgresql", title="T", connection_params=pg(password=tricky)
        )
    shown = str(caught.value) + repr(caught.value.body)
    assert tricky not in shown and json.dumps(tricky)[1:-1] not in shown and repr(tricky)[1:-1] not in shown
