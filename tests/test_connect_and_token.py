"""A refused connection is said at once, an unanswered one after 3 connect timeouts; a throttled or
failing token exchange is waited out and retried.

A connection refused on loopback means nothing listens at the API URL: retrying it 9 times only makes
the user wait. A host that never answers a connect (a wrong address, a firewall dropping it) would
cost the connect timeout 9 times over: 3 in a row are taken as the answer. A 429 (or a 5xx) from
``POST /api/v3/token`` says nothing about the credentials: the client waits for ``Retry-After`` and
tries again within its budget, as for any other request.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from improvado_loads import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ImprovadoClient,
    RateLimitedError,
    RetryPolicy,
)
from improvado_loads.client.throttle import RateGate
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from tests.conftest import FakeTime

SCRIPT = Path(sys.executable).parent / "improvado-loads"
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05)
ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "token_retry"}


def _closed_port() -> int:
    """A loopback port that nothing listens on (the OS gave it and it was closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_connection_fails_at_once_without_retrying(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    caplog.set_level(logging.WARNING, logger="improvado_loads")
    with ImprovadoClient(base_url=url, token="t") as client:  # the default budget of 9 attempts
        with pytest.raises(APIConnectionError, match="connection refused") as failed:
            client.loads.get(1)
    assert failed.value.refused
    assert [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()] == []


def test_the_cli_says_a_refused_connection_in_one_line() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")}
    env |= {"IMPROVADO_API_URL": url, "IMPROVADO_API_TOKEN": "t"}
    done = subprocess.run([str(SCRIPT), "loads", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # no "warning: retrying" lines before it
    assert lines[0].startswith("error: cannot connect to " + url) and "connection refused" in lines[0]


def test_a_dropped_answer_is_still_retried() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection dropped", request=request)
        return httpx.Response(200, json={"id": 1, "title": "t"})

    with ImprovadoClient(base_url="http://api.test", token="t", retry=FAST,
                         transport=httpx.MockTransport(answer)) as client:
        assert client.data_tables.get(1).id == 1
    assert len(calls) == 2


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback URL whose connections are never answered: its listen queue is full, so Linux drops
    every further SYN and a connect waits for its timeout, as with a firewall or a wrong address."""
    queued: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        try:
            for _ in range(8):  # fill the queue until a connect times out (bounded)
                try:
                    queued.append(socket.create_connection(address, timeout=0.3))
                except TimeoutError:
                    break
            else:
                pytest.fail("the listen queue never filled")
            yield f"http://{address[0]}:{address[1]}"
        finally:
            for sock in queued:
                sock.close()


SILENT_TIMEOUT = httpx.Timeout(5.0, connect=0.2)
QUICK_WAITS = RetryPolicy(backoff_base=0.001, backoff_max=0.002)  # the default budget: 9 attempts, 3 timeouts


def test_a_host_that_never_answers_a_connect_is_given_up_after_three_timeouts(
    silent_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="improvado_loads")
    silent = ImprovadoClient(base_url=silent_url, token="t0ken-silent", timeout=SILENT_TIMEOUT, retry=QUICK_WAITS)
    with silent as client:
        with pytest.raises(APIConnectionError) as failed:
            client.loads.get(1)
        retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
        assert len(retries) == 2 and all("ConnectTimeout" in line for line in retries), retries
        caplog.clear()
        with pytest.raises(APIConnectionError) as create_failed:  # a create is resent: it never arrived
            client.loads.create(**ADS)
        assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2
    for error in (failed.value, create_failed.value):
        assert error.unreachable and not error.refused and not error.untrusted_certificate
        assert f"cannot connect to {silent_url}: the host did not answer within the connect timeout (0.2 s), " \
               "after 3 attempts (is the API URL right" in str(error)
        assert "t0ken-silent" not in str(error)


def test_a_connect_timeout_streak_is_broken_by_any_other_answer() -> None:
    script: list[str | int] = ["timeout", "timeout", 503, "timeout", "timeout", 200]
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        outcome = script[len(sent)]
        sent.append(str(outcome))
        if outcome == "timeout":
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response(int(outcome), json={"id": 1, "title": "t"})

    with ImprovadoClient(base_url="http://api.test", token="t", retry=QUICK_WAITS,
                         transport=httpx.MockTransport(answer)) as client:
        assert client.data_tables.get(1).id == 1
    assert sent == ["timeout", "timeout", "503", "timeout", "timeout", "200"]
    sent.clear()
    with ImprovadoClient(base_url="http://api.test", token="t", retry=replace(QUICK_WAITS, connect_timeouts=0),
                         transport=httpx.MockTransport(answer)) as client:
        script[:] = ["timeout"] * 9
        with pytest.raises(APIConnectionError, match="after 9 attempts") as failed:
            client.data_tables.get(1)  # no streak limit: the whole budget of 9 attempts
    assert failed.value.unreachable and len(sent) == 9


def test_the_cli_says_an_unreachable_host_in_one_error_line(silent_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from improvado_loads.cli import app
    from tests.conftest import cli_env

    made = ImprovadoClient.from_env.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(ImprovadoClient, "from_env", classmethod(
        lambda cls, **kw: made(cls, **kw, timeout=SILENT_TIMEOUT, retry=QUICK_WAITS)))  # no 10 s connects here
    result = CliRunner().invoke(app, ["loads", "list"], env=cli_env(silent_url, "t0ken-silent"),
                                prog_name="improvado-loads")
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1, result.output
    assert errors == [f"error: cannot connect to {silent_url}: the host did not answer within the connect "
                      "timeout (0.2 s), after 3 attempts (is the API URL right and the host reachable from here?)"]
    assert "t0ken-silent" not in result.output and "Traceback" not in result.output


def test_a_throttled_token_exchange_waits_for_retry_after_then_succeeds() -> None:
    time, sent = FakeTime(), []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.now))
        if request.url.path == "/api/v3/token":
            if len([p for p, _ in sent if p == "/api/v3/token"]) == 1:
                return httpx.Response(429, json={"detail": "Too many failed token requests."},
                                      headers={"Retry-After": "7"})
            return httpx.Response(200, json={"token": "fresh", "expires_at": "2030-01-01T00:00:00Z"})
        assert request.headers["Authorization"] == "Bearer fresh"
        return httpx.Response(200, json={"id": 1, "title": "t"})

    with ImprovadoClient(base_url="http://api.test", username="u", password="p", workspace_id=1,
                         retry=FAST, transport=httpx.MockTransport(answer)) as client:
        client._core.gate = RateGate(clock=time.clock, sleep=time.sleep)
        assert client.data_tables.get(1).id == 1
    assert sent == [("/api/v3/token", 1000.0), ("/api/v3/token", 1007.0), ("/api/v3/data-tables/1", 1007.0)]


def test_a_token_exchange_throttled_past_the_budget_is_rate_limited_not_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v3/token"
        return httpx.Response(429, json={"detail": "Too many failed token requests."}, headers={"Retry-After": "0"})

    with ImprovadoClient(base_url="http://api.test", username="u", password="p", workspace_id=1,
                         retry=FAST, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(RateLimitedError, match="POST /api/v3/token failed with 429") as failed:
            client.data_tables.get(1)
    assert failed.value.retry_after == 0


def test_refused_credentials_are_still_an_authentication_error_at_once() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(401, json={"detail": "Invalid username/password."})

    with ImprovadoClient(base_url="http://api.test", username="u", password="p", workspace_id=1,
                         retry=FAST, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(AuthenticationError, match="refused"):
            client.data_tables.get(1)
    assert sent == ["/api/v3/token"]


@pytest.fixture
def server(emulator_settings: EmulatorSettings, token: str) -> Iterator[EmulatorServer]:
    settings = replace(emulator_settings, token=token, username="ana", password="pw-" + token)
    with EmulatorServer(settings) as emulator:
        yield emulator


def fault(server: EmulatorServer, **spec: Any) -> None:
    httpx.post(f"{server.url}/_emulator/faults", json=spec).raise_for_status()


def test_a_create_through_a_throttled_then_failing_token_exchange_makes_one_load(server: EmulatorServer) -> None:
    fault(server, method="POST", path="/api/v3/token", status=429, retry_after=1, times=1)
    fault(server, method="POST", path="/api/v3/token", status=503, times=1)
    with ImprovadoClient(base_url=server.url, username="ana", password=server.settings.password,
                         workspace_id=1, retry=FAST) as client:
        created = client.loads.create(**ADS)
        same = [load.id for load in client.loads.list() if load.destination_table == ADS["destination_table"]]
    assert same == [created.id]
    token_posts = [r for r in httpx.get(f"{server.url}/_emulator/requests").json()
                   if r["path"] == "/api/v3/token"]
    assert len(token_posts) == 3


@pytest.mark.parametrize("workspace_id", ["99999999999999999999", "0", "-3", 2**63])
def test_a_workspace_id_out_of_range_is_refused_before_sending(workspace_id: str | int) -> None:
    """Not a 400 from /token said as refused credentials: the setting itself is wrong, and named."""
    with pytest.raises(ConfigurationError, match="the workspace id must be from 1 to"):
        ImprovadoClient(base_url="http://api.test", username="u", password="p", workspace_id=workspace_id)


def test_the_emulators_own_throttle_is_waited_out_by_the_right_credentials(
    emulator_settings: EmulatorSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real throttle (made short: 2 failures in 2 s): a guesser's failures make the right user wait, not fail."""
    from improvado_loads.emulator import core
    from improvado_loads.emulator.auth import LoginThrottle

    monkeypatch.setattr(core, "LoginThrottle", lambda: LoginThrottle(allowed=2, window=2))
    settings = replace(emulator_settings, username="ana", password="right-password")
    with EmulatorServer(settings) as server:
        for _ in range(2):
            wrong = httpx.post(f"{server.url}/api/v3/token", json={"workspace_id": 1}, auth=("ana", "wrong"))
            assert wrong.status_code == 401
        assert httpx.post(f"{server.url}/api/v3/token", json={"workspace_id": 1},
                          auth=("ana", "right-password")).status_code == 429
        with ImprovadoClient(base_url=server.url, username="ana", password="right-password", workspace_id=1,
                             retry=FAST) as client:
            assert client.data_tables.get(1).id == 1
