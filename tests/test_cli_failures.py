"""Failures at the edges of the command line: a malformed API URL, Ctrl-C while waiting for a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from improvado_loads import contract
from improvado_loads.client import ImprovadoClient
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.errors import ConfigurationError

SCRIPT = Path(sys.executable).parent / "improvado-loads"


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")} | extra


def _ctrl_c(
    args: list[str], url: str, ready: Callable[[], bool], not_ready: str, settle: float = 0.0
) -> tuple[int, str]:
    """Run the command on the API at ``url``; Ctrl-C it once ``ready()`` (and ``settle`` seconds more).

    Its exit status and stderr; ``not_ready`` is the failure when that does not come within 30s.
    """
    process = subprocess.Popen(
        [str(SCRIPT), *args], env=_env(IMPROVADO_API_URL=url, IMPROVADO_API_TOKEN="ctrl-c-token"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert time.monotonic() < deadline and process.poll() is None, not_ready
            time.sleep(0.05)
        time.sleep(settle)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stderr


def _one_error_line(stderr: str, *needles: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == errors, stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:abc", "Invalid port"),
        ("http://127.0.0.1:99999", "a port is from 1 to 65535"),
        ("http://", "has no host"),
        ("http://admin:s3cr3t-pw@127.0.0.1:abc", "***@"),
    ],
)
def test_a_malformed_api_url_is_one_error_line(url: str, needle: str) -> None:
    done = subprocess.run([str(SCRIPT), "loads", "list"], env=_env(IMPROVADO_API_URL=url, IMPROVADO_API_TOKEN="t"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (1, 2)
    line = _one_error_line(done.stderr, "API URL", needle)
    assert "s3cr3t-pw" not in line
    with pytest.raises(ConfigurationError):
        ImprovadoClient(base_url=url, token="t")


def test_ctrl_c_while_waiting_says_the_run_goes_on(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path / "data", port=0, token="ctrl-c-token", run_seconds=60)
    with EmulatorServer(settings) as server:
        headers = {"Authorization": "Bearer ctrl-c-token"}
        load = httpx.post(f"{server.url}{contract.LOADS_PATH}", headers=headers, json={
            "data_table_id": 1, "destination_connection_id": 1, "destination_table": "ctrl_c_t"}).json()
        returncode, stderr = _ctrl_c(
            ["loads", "run", str(load["id"]), "--wait", "--poll-interval", "0.1"], server.url,
            lambda: httpx.get(f"{server.url}{contract.LOADS_PATH}/{load['id']}",
                              headers=headers).json()["status"] in ("queued", "running"),
            "the run did not start",
            settle=0.5,  # let the command reach its polling loop
        )
        assert returncode == 1
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert errors == [
            f"error: interrupted; the run goes on in Improvado: check it with 'improvado-loads loads get {load['id']}'"
        ], stderr
        assert "Traceback" not in stderr
        status = httpx.get(f"{server.url}{contract.LOADS_PATH}/{load['id']}", headers=headers).json()["status"]
        assert status in ("queued", "running")


@pytest.mark.parametrize(
    ("command", "method", "path", "needle"),
    [
        (["loads", "list"], "GET", contract.LOADS_PATH, "error: interrupted"),
        (["loads", "create", "--data-table-id", "1", "--destination-connection-id", "1",
          "--destination-table", "ctrl_c_create"], "POST", contract.LOADS_PATH, "may have taken effect"),
    ],
)
def test_ctrl_c_in_any_command_is_one_line(
    tmp_path: Path, command: list[str], method: str, path: str, needle: str
) -> None:
    settings = EmulatorSettings(data_dir=tmp_path / "data", port=0, token="ctrl-c-token")
    with EmulatorServer(settings) as server:
        httpx.post(f"{server.url}/_emulator/faults",
                   json={"method": method, "path": path, "latency_ms": 60_000, "times": 1}).raise_for_status()
        # The fault is used up when the command's request arrives: the command is then waiting for its answer.
        returncode, stderr = _ctrl_c(
            command, server.url, lambda: not httpx.get(f"{server.url}/_emulator/faults").json(),
            "the request never arrived",
        )
    assert returncode == 1
    _one_error_line(stderr, needle)
