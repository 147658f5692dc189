"""After a 429 with Retry-After, a burst of concurrent requests of the client waits for it together.

Against the emulator's fault injection: one request meets a 429 (``Retry-After: 1``), then
eight threads send at once through the same client (as a provider process's resources do).
What is asserted comes from the emulator's request log (arrival times and statuses), never
from timing anything in the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from improvado_loads import ImprovadoClient, RateLimitedError, RetryPolicy, contract
from improvado_loads.emulator import EmulatorControl, EmulatorServer

from .conftest import EMULATOR_TOKEN

RETRY_AFTER = 1
BURST = 8


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    with EmulatorControl(emulator.url) as log:
        yield log


def test_a_burst_after_a_429_is_held_until_retry_after_passes(
    emulator: EmulatorServer, control: EmulatorControl
) -> None:
    control.add_fault(method="GET", path=f"{contract.DATA_TABLES_PATH}/1", status=429,
                      retry_after=RETRY_AFTER, times=1)
    control.clear_requests()
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(RateLimitedError):
            client.data_tables.get(1)  # heard the 429; no retry left, but the client's gate is now closed
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            tables = list(pool.map(lambda i: client.data_tables.get(1 + i % 3), range(BURST)))
    assert sorted(table.id for table in tables) == sorted(1 + i % 3 for i in range(BURST))

    first, *burst = control.requests()
    assert first["status"] == 429 and first["path"] == f"{contract.DATA_TABLES_PATH}/1"
    assert len(burst) == BURST and {entry["status"] for entry in burst} == {200}
    # Every request of the burst arrived only once Retry-After had passed since the 429 arrived.
    early = [round(entry["at"] - first["at"], 3) for entry in burst if entry["at"] - first["at"] < RETRY_AFTER]
    assert early == []


def test_the_request_log_says_when_each_request_arrived(emulator: EmulatorServer, control: EmulatorControl) -> None:
    control.clear_requests()
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN) as client:
        client.data_tables.get(1)
        client.data_tables.get(2)
    one, two = control.requests()
    assert isinstance(one["at"], float) and one["at"] <= two["at"]
