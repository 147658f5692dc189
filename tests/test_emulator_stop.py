"""Stopping an emulator while an injected latency holds an answer: the answer goes, it is not cut off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from improvado_loads import contract
from improvado_loads.emulator import EmulatorControl, EmulatorServer


def test_a_stop_lets_an_answer_held_by_a_latency_go(
    emulator: EmulatorServer, control: EmulatorControl, emulator_client: Callable[..., httpx.Client]
) -> None:
    """A 10-minute latency is cut short by the stop: the client gets its 200 (uvicorn would cancel it after 5 s)."""
    answers: list[object] = []
    control.add_fault(method="GET", path=f"{contract.DATA_TABLES_PATH}/1", latency_ms=600_000, times=1)
    http = emulator_client()

    def ask() -> None:
        try:
            answers.append(http.get(f"{contract.DATA_TABLES_PATH}/1", timeout=120).status_code)
        except httpx.HTTPError as exc:
            answers.append(type(exc).__name__)

    asking = threading.Thread(target=ask)
    asking.start()
    deadline = time.monotonic() + 30
    while control.faults():  # taken when the request arrives: its answer is then held
        assert time.monotonic() < deadline, "the request never arrived"
        time.sleep(0.02)
    emulator.stop()
    asking.join(timeout=120)
    assert answers == [200]
