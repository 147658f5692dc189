"""A 429 with Retry-After pauses every request of the client, not only the one that heard it."""

from __future__ import annotations

import httpx
import pytest

from improvado_loads import ImprovadoClient, RateLimitedError, RetryPolicy
from improvado_loads.client.throttle import RateGate
from tests.conftest import FakeTime


def test_the_gate_holds_every_caller_until_the_latest_retry_after() -> None:
    time = FakeTime()
    gate = RateGate(clock=time.clock, sleep=time.sleep, max_pause=30)
    assert gate.pass_() == 0.0
    gate.hold(5)
    gate.hold(2)  # an earlier end never shortens the pause
    assert gate.pass_() == 5.0 and gate.pass_() == 0.0
    gate.hold(3600)
    assert gate.pass_() == 30.0  # capped
    assert time.sleeps == [5.0, 30.0]


def test_a_request_after_anothers_429_waits_before_it_is_sent() -> None:
    time, sent = FakeTime(), []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.now))
        if len(sent) == 1:
            return httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "7"})
        return httpx.Response(200, json={"id": 2, "title": "t"})

    with ImprovadoClient(base_url="http://api.test", token="t", retry=RetryPolicy(max_retries=0),
                         transport=httpx.MockTransport(answer)) as client:
        client._core.gate = RateGate(clock=time.clock, sleep=time.sleep)
        with pytest.raises(RateLimitedError):
            client.data_tables.get(1)  # heard the 429, out of retries
        assert client.data_tables.get(2).id == 2  # another request: it waits first

    assert time.sleeps == [7.0]
    assert sent == [("/api/v3/data-tables/1", 1000.0), ("/api/v3/data-tables/2", 1007.0)]
