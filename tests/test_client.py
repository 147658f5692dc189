"""The typed client against the emulator over loopback: every method, every error path."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from improvado_loads import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    ImprovadoClient,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05)
ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily"}


@pytest.fixture
def server(emulator_settings: EmulatorSettings, token: str) -> Iterator[EmulatorServer]:
    settings = replace(emulator_settings, token=token, username="ana", password="pw-" + token)
    with EmulatorServer(settings) as emulator:
        yield emulator


@pytest.fixture
def client(server: EmulatorServer, token: str) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=server.url, token=token, retry=FAST) as api:
        yield api


def fault(server: EmulatorServer, **spec: Any) -> None:
    httpx.post(f"{server.url}/_emulator/faults", json=spec).raise_for_status()


def requests_seen(server: EmulatorServer) -> list[dict[str, Any]]:
    return list(httpx.get(f"{server.url}/_emulator/requests").json())


def clear_requests(server: EmulatorServer) -> None:
    httpx.delete(f"{server.url}/_emulator/requests").raise_for_status()


def test_a_load_end_to_end(client: ImprovadoClient, emulator_settings: EmulatorSettings) -> None:
    load = client.loads.create(**ADS, run_policy="daily")
    assert (load.status, load.data_table.id, str(load.run_policy)) == ("new", 1, "daily")
    assert client.loads.get(load.id) == load

    assert str(client.loads.update(load.id, run_policy="manual").run_policy) == "manual"
    started = client.loads.run(load.id, date_from="2000-01-01", date_to="2100-12-31")
    assert started.status in ("queued", "running")
    seen: list[str] = []
    done = client.loads.wait(load.id, timeout=30, poll_interval=0.05, on_poll=lambda x: seen.append(str(x.status)))

    assert done.status == "success" and done.error_text is None and done.last_update is not None
    with sqlite3.connect(emulator_settings.data_dir / "warehouse-ws1.sqlite3") as db:
        rows = db.execute("select count(*) from google_ads_daily").fetchone()[0]
    assert done.uploaded_rows_count == rows > 0
    assert seen[-1] == "success"

    assert client.loads.pause(load.id).status == "paused"
    assert client.loads.unpause(load.id).status == "success"
    client.loads.delete(load.id)
    with pytest.raises(NotFoundError):
        client.loads.get(load.id)


def test_list_follows_next_across_pages_lazily(client: ImprovadoClient, server: EmulatorServer) -> None:
    created = [client.loads.create(**{**ADS, "destination_table": f"t{i}"}).id for i in range(5)]
    clear_requests(server)

    pages = client.loads.list(page_size=2)
    first = next(iter(pages))
    assert first.id == created[0] and pages.count == 5
    assert len(requests_seen(server)) == 1  # one page fetched, no more

    assert [load.id for load in client.loads.list(page_size=2)] == created
    assert [len(p.results) for p in client.loads.list(page_size=2).pages()] == [2, 2, 1]


def test_list_filters(client: ImprovadoClient) -> None:
    a = client.loads.create(**ADS)
    b = client.loads.create(data_table_id=3, destination_connection_id=1, destination_table="totals")
    assert [x.id for x in client.loads.list(data_table_id=3)] == [b.id]
    assert [x.id for x in client.loads.list(destination_connection_id=1)] == [a.id, b.id]
    assert [x.id for x in client.loads.list(destination_name="sqlite")] == [a.id, b.id]
    assert list(client.loads.list(destination_name="postgresql")) == []
    assert client.loads.find(data_table_id=3, destination_connection_id=1, destination_table="totals") == b


def test_catalog(client: ImprovadoClient) -> None:
    tables = client.data_tables.list().to_list()
    assert [t.id for t in tables] == [1, 2, 3]
    assert client.data_tables.get(2).by_accounts is True
    assert {c.name for c in client.data_tables.get(1).columns} >= {"date", "campaign", "spend"}
    assert [c.id for c in client.destination_connections.list("sqlite")] == [1]
    assert {c.id for c in client.destination_connections.list_all()} == {1, 2, 3}
    assert client.destination_connections.find(3).status == "error"
    with pytest.raises(NotFoundError):
        client.data_tables.get(4)  # workspace 2's


def test_basic_credentials_are_exchanged_and_renewed_after_401(server: EmulatorServer, token: str) -> None:
    with ImprovadoClient(base_url=server.url, username="ana", password="pw-" + token, workspace_id=2) as client:
        assert [t.id for t in client.data_tables.list()] == [4, 5, 6]
        client._core._http.auth._token = "expired-token"  # type: ignore[union-attr]
        assert client.data_tables.get(4).id == 4
    exchanges = [r for r in requests_seen(server) if r["path"] == "/api/v3/token"]
    assert len(exchanges) == 2


def test_workspaces_are_isolated(server: EmulatorServer, client: ImprovadoClient, token: str) -> None:
    mine = client.loads.create(**ADS)
    with ImprovadoClient(base_url=server.url, username="ana", password="pw-" + token, workspace_id=2) as other:
        assert list(other.loads.list()) == []
        with pytest.raises(NotFoundError):
            other.loads.get(mine.id)


def test_wrong_credentials(server: EmulatorServer, token: str) -> None:
    with ImprovadoClient(base_url=server.url, token="nope", retry=FAST) as client, pytest.raises(AuthenticationError):
        client.loads.get(1)
    with ImprovadoClient(base_url=server.url, username="ana", password="wrong", workspace_id=1) as client:
        with pytest.raises(AuthenticationError, match="username or password was refused") as failed:
            client.loads.get(1)
        assert "wrong" not in str(failed.value)


def test_service_side_errors_are_typed(client: ImprovadoClient) -> None:
    with pytest.raises(NotFoundError, match=r"GET /api/v3/loads/999 failed with 404"):
        client.loads.get(999)
    with pytest.raises(InvalidRequestError) as bad:
        client.loads.create(data_table_id=1, destination_connection_id=3, destination_table="x")
    assert "destination_connection_id" in bad.value.errors and "error" in str(bad.value)
    with pytest.raises(InvalidRequestError) as unknown_table:
        client.loads.create(data_table_id=4, destination_connection_id=1, destination_table="x")
    assert "data_table_id" in unknown_table.value.errors
    first = client.loads.create(**ADS)
    with pytest.raises(ConflictError) as twin:
        client.loads.create(**ADS)
    assert twin.value.existing_load_id == first.id and f"load {first.id}" in str(twin.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.loads.run(1, date_from="2026-01-01"), "date_to"),
        (lambda c: c.loads.run(1, date_to="2026-01-01"), "date_from"),
        (lambda c: c.loads.run(1, date_from="2026-02-01", date_to="2026-01-01"), "date_from"),
        (lambda c: c.loads.run(1, date_from="01/02/2026", date_to="2026-01-03"), "date_from"),
        (lambda c: c.loads.create(**{**ADS, "destination_table": ""}), "destination_table"),
        (lambda c: c.loads.create(**ADS, run_policy="sometimes"), "run_policy"),
        (lambda c: c.loads.update(1, run_policy="monthly"), "run_policy"),
    ],
)
def test_requests_are_validated_before_any_network_call(
    client: ImprovadoClient, server: EmulatorServer, call: Any, field: str
) -> None:
    clear_requests(server)
    with pytest.raises(InvalidRequestError) as bad:
        call(client)
    assert field in bad.value.errors
    assert requests_seen(server) == []


def test_retries_429_honouring_retry_after_then_succeeds(client: ImprovadoClient, server: EmulatorServer) -> None:
    fault(server, method="GET", path="/api/v3/data-tables", status=429, retry_after=0, times=2)
    clear_requests(server)
    assert len(client.data_tables.list().to_list()) == 3
    assert [r["status"] for r in requests_seen(server)] == [429, 429, 200]


def test_retries_5xx_then_gives_up_with_a_typed_error(client: ImprovadoClient, server: EmulatorServer) -> None:
    fault(server, method="GET", path="/api/v3/loads/*", status=503, times=2)
    load = client.loads.create(**ADS)
    assert client.loads.get(load.id).id == load.id

    fault(server, method="GET", path="/api/v3/loads/*", status=502, times=10)
    with pytest.raises(ServerError, match="502"):
        client.loads.get(load.id)
    fault(server, method="GET", path="/api/v3/data-tables", status=429, retry_after=0, times=10)
    with pytest.raises(RateLimitedError) as limited:
        client.data_tables.list().to_list()
    assert limited.value.retry_after == 0


def test_put_is_retried_after_a_dropped_connection(client: ImprovadoClient, server: EmulatorServer) -> None:
    load = client.loads.create(**ADS)
    fault(server, method="PUT", path=f"/api/v3/loads/{load.id}", drop="before", times=1)
    assert str(client.loads.update(load.id, run_policy="weekly").run_policy) == "weekly"


@pytest.mark.parametrize("when", ["before", "after"])
def test_create_whose_answer_is_lost_is_never_duplicated(
    client: ImprovadoClient, server: EmulatorServer, when: str
) -> None:
    fault(server, method="POST", path="/api/v3/loads", drop=when, times=1)
    load = client.loads.create(**ADS)
    assert [x.id for x in client.loads.list()] == [load.id]
    posts = [r for r in requests_seen(server) if r["method"] == "POST"]
    assert len(posts) == (2 if when == "before" else 1)


def test_create_is_not_resent_after_a_5xx_when_it_took_effect(
    client: ImprovadoClient, server: EmulatorServer
) -> None:
    created = client.loads.create(**ADS)
    fault(server, method="POST", path="/api/v3/loads", status=503, times=1)
    # A 503 on a create is an unknown outcome: the client looks before it sends again.
    again = client.loads.create(**ADS)
    assert again.id == created.id
    assert len([r for r in requests_seen(server) if r["method"] == "POST"]) == 2


def test_unreachable_service_is_a_connection_error() -> None:
    with ImprovadoClient(base_url="http://127.0.0.1:9", token="t", retry=FAST) as client:
        with pytest.raises(APIConnectionError, match=r"cannot connect to http://127\.0\.0\.1:9: connection refused"):
            client.loads.get(1)


def test_every_call_has_a_timeout(client: ImprovadoClient, server: EmulatorServer, token: str) -> None:
    fault(server, method="GET", path="/api/v3/data-tables/1", latency_ms=1500, times=5)
    with ImprovadoClient(base_url=server.url, token=token, timeout=0.3, retry=RetryPolicy(max_retries=1)) as slow:
        with pytest.raises(APIConnectionError, match="ReadTimeout"):
            slow.data_tables.get(1)


def test_wait_gives_up_at_its_timeout(emulator_settings: EmulatorSettings, token: str) -> None:
    # Runs that last a minute: the wait surely ends before the run does.
    with EmulatorServer(replace(emulator_settings, token=token, run_seconds=60)) as slow_runs, \
            ImprovadoClient(base_url=slow_runs.url, token=token, retry=FAST) as client:
        load = client.loads.create(**ADS)
        client.loads.run(load.id)
        with pytest.raises(WaitTimeoutError, match=f"load {load.id} still (queued|running) after 0.2s"):
            client.loads.wait(load.id, timeout=0.2, poll_interval=0.05)


def test_no_secret_in_errors_or_logs(
    server: EmulatorServer, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    password = "pw-" + token
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with ImprovadoClient(base_url=server.url, token=token, retry=FAST) as client:
        fault(server, path="/api/v3/*", status=503, times=2)
        client.loads.create(**ADS)
        for call in (lambda: client.loads.get(999), lambda: client.loads.create(**ADS),
                     lambda: client.loads.run(1, date_from="2026-01-01")):
            try:
                call()
            except Exception as exc:
                errors.append(f"{exc!s} {exc!r} {getattr(exc, 'body', '')}")
        assert token not in repr(client)
    for creds in ({"token": "wrong-" + token}, {"username": "ana", "password": password + "x", "workspace_id": 1}):
        with ImprovadoClient(base_url=server.url, retry=FAST, **creds) as bad:  # type: ignore[arg-type]
            try:
                bad.loads.get(1)
            except Exception as exc:
                errors.append(f"{exc!s} {exc!r}")
    assert len(errors) == 5
    text = "\n".join(errors + [r.getMessage() for r in caplog.records])
    assert "retrying after HTTP 503" in text
    assert token not in text and password not in text
