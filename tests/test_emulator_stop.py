"""Stopping an emulator while an injected latency holds an answer: the answer goes, it is not cut off.

In process (:meth:`EmulatorServer.stop`) and as ``improvado-loads emulator serve`` sent SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from improvado_loads import contract
from improvado_loads.emulator import EmulatorControl, EmulatorServer
from tests.conftest import wait_until_serving

SCRIPT = Path(sys.executable).parent / "improvado-loads"
TOKEN = "stop-token"


def _held_answer(http: httpx.Client, control: EmulatorControl, stop: Callable[[], None]) -> list[object]:
    """Ask for data table 1 behind a 10-minute latency, ``stop`` once the request is held; what it got."""
    answers: list[object] = []
    control.add_fault(method="GET", path=f"{contract.DATA_TABLES_PATH}/1", latency_ms=600_000, times=1)

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
    stop()
    asking.join(timeout=120)
    return answers


def test_a_stop_lets_an_answer_held_by_a_latency_go(
    emulator: EmulatorServer, control: EmulatorControl, emulator_client: Callable[..., httpx.Client]
) -> None:
    """A 10-minute latency is cut short by the stop: the client gets its 200 (uvicorn would cancel it after 5 s)."""
    assert _held_answer(emulator_client(), control, emulator.stop) == [200]


def test_sigterm_to_emulator_serve_lets_an_answer_held_by_a_latency_go(tmp_path: Path) -> None:
    """The same for the command line's server: SIGTERM ends the latency, the answer goes, the process ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")} | {"IMPROVADO_EMULATOR_TOKEN": TOKEN}
    process = subprocess.Popen(
        [str(SCRIPT), "emulator", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_serving(process, url)
        with EmulatorControl(url) as control, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http:
            answers = _held_answer(http, control, lambda: process.send_signal(signal.SIGTERM))
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=30)
    assert answers == [200], stderr
    assert "Traceback" not in stderr
