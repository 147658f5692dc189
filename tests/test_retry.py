"""One retry policy for every call, on httpx's MockTransport: fast, no server.

A fake Loads API whose faults are scripted per request: an answer may be an
error status, or lost after the change was made (a transport error raised by
the transport after the handler changed the state).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from improvado_loads import ImprovadoClient, NotFoundError, RetryPolicy, ServerError
from improvado_loads.errors import ConflictError

FAST = RetryPolicy(max_retries=3, backoff_base=0.001, backoff_max=0.002)
ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "ads"}


class FakeApi:
    """Loads in memory; ``faults[(method, path)]`` is a list of scripted outcomes, one per request."""

    def __init__(self) -> None:
        self.loads: dict[int, dict[str, Any]] = {}
        self.faults: dict[tuple[str, str], list[Any]] = {}
        self.seen: list[tuple[str, str]] = []
        self.runs = 0

    def fail(self, method: str, path: str, *outcomes: Any) -> None:
        """Next answers to (method, path): a status (not processed) or "lost" (processed, answer lost)."""
        self.faults.setdefault((method, path), []).extend(outcomes)

    def load_json(self, load_id: int) -> dict[str, Any]:
        load = self.loads[load_id]
        return {"id": load_id, "data_table": {"id": load["data_table_id"]}, "run_policy": "manual", **load}

    def handle(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.seen.append((method, path))
        scripted = self.faults.get((method, path)) or []
        outcome = scripted.pop(0) if scripted else None
        if isinstance(outcome, int):
            return httpx.Response(outcome, json={"detail": "injected"}, headers={"Retry-After": "0"})
        response = self.process(request, method, path)
        if outcome == "lost":
            raise httpx.ReadError("connection dropped after processing", request=request)
        return response

    def process(self, request: httpx.Request, method: str, path: str) -> httpx.Response:
        parts = path.strip("/").split("/")  # api v3 loads [id] [action]
        if parts[2:] == ["loads"] and method == "GET":
            results = [self.load_json(i) for i in sorted(self.loads)
                       if all(str(self.loads[i].get(k)) == v for k, v in request.url.params.items()
                              if k in ("data_table_id", "destination_connection_id"))]
            return httpx.Response(200, json={"count": len(results), "next": None, "previous": None,
                                             "results": results})
        if parts[2:] == ["loads"] and method == "POST":
            body = json.loads(request.content)
            load_id = len(self.loads) + 1
            self.loads[load_id] = {**body, "status": "new", "last_update": None}
            return httpx.Response(201, json=self.load_json(load_id))
        load_id = int(parts[3])
        if load_id not in self.loads:
            return httpx.Response(404, json={"detail": "Not found."})
        if len(parts) == 5 and parts[4] == "run":
            if self.loads[load_id]["status"] in ("queued", "running"):
                return httpx.Response(409, json={"detail": "already queued or running"})
            self.runs += 1
            self.loads[load_id]["status"] = "queued"
            return httpx.Response(202, json=self.load_json(load_id))
        if method == "DELETE":
            del self.loads[load_id]
            return httpx.Response(204)
        return httpx.Response(200, json=self.load_json(load_id))


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(api: FakeApi) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url="http://improvado.test", token="t", retry=FAST,
                         transport=httpx.MockTransport(api.handle)) as client:
        yield client


def test_reads_are_retried_after_a_500(client: ImprovadoClient, api: FakeApi) -> None:
    client.loads.create(**ADS)
    api.fail("GET", "/api/v3/loads/1", 500, 500)
    assert client.loads.get(1).id == 1
    with pytest.raises(ServerError, match="500"):
        api.fail("GET", "/api/v3/loads/1", *[500] * 4)
        client.loads.get(1)


def test_wait_polls_through_a_500(client: ImprovadoClient, api: FakeApi) -> None:
    client.loads.create(**ADS)
    api.loads[1]["status"] = "success"
    api.fail("GET", "/api/v3/loads/1", 500)
    assert client.loads.wait(1, timeout=5, poll_interval=0.001).status == "success"


def test_a_create_answered_500_is_looked_up_and_the_lookup_survives_a_500(
    client: ImprovadoClient, api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="improvado_loads")
    api.fail("POST", "/api/v3/loads", "lost")
    api.fail("GET", "/api/v3/loads", None, 500)  # the shared-table check passes, the lookup meets a 500
    load = client.loads.create(**ADS)
    assert load.id == 1 and len(api.loads) == 1
    assert api.seen.count(("POST", "/api/v3/loads")) == 1
    # Both the create and its lookup went through the one policy (and its log line).
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "retrying after ReadError", "retrying after HTTP 500"]


def test_a_create_that_did_not_happen_is_sent_again_after_looking(client: ImprovadoClient, api: FakeApi) -> None:
    api.fail("POST", "/api/v3/loads", 503, 500)
    assert client.loads.create(**ADS).id == 1
    assert api.seen.count(("POST", "/api/v3/loads")) == 3 and len(api.loads) == 1


def test_a_run_whose_answer_is_lost_is_not_run_again(client: ImprovadoClient, api: FakeApi) -> None:
    client.loads.create(**ADS)
    api.fail("PUT", "/api/v3/loads/1/run", "lost")
    assert client.loads.run(1).status == "queued"
    assert api.runs == 1 and api.seen.count(("PUT", "/api/v3/loads/1/run")) == 1


def test_a_409_after_our_lost_run_is_our_run(client: ImprovadoClient, api: FakeApi, monkeypatch: Any) -> None:
    client.loads.create(**ADS)
    api.fail("PUT", "/api/v3/loads/1/run", "lost")
    # The look after the loss misses the run (a stale read): the resend meets a 409, which is ours.
    real_get, calls = client.loads.get, []
    before = real_get(1)

    def get(load_id: int) -> Any:
        calls.append(load_id)
        return before if len(calls) <= 2 else real_get(load_id)

    monkeypatch.setattr(client.loads, "get", get)
    assert client.loads.run(1).status == "queued"
    assert api.runs == 1 and api.seen.count(("PUT", "/api/v3/loads/1/run")) == 2


def test_a_run_refused_409_without_a_loss_is_a_conflict(client: ImprovadoClient, api: FakeApi) -> None:
    client.loads.create(**ADS)
    api.loads[1]["status"] = "running"
    with pytest.raises(ConflictError):
        client.loads.run(1)
    assert api.runs == 0


def test_a_delete_whose_answer_is_lost_is_done(client: ImprovadoClient, api: FakeApi) -> None:
    client.loads.create(**ADS)
    api.fail("DELETE", "/api/v3/loads/1", "lost")
    client.loads.delete(1)
    assert api.loads == {} and api.seen.count(("DELETE", "/api/v3/loads/1")) == 2
    with pytest.raises(NotFoundError):  # without a lost answer, a 404 is still "not here"
        client.loads.delete(1)
