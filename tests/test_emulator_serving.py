"""How the emulator starts and guards itself: one per data dir, loopback only, secrets out of argv, a busy
port or a held data dir is one ``error:`` line, failed token requests are throttled."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from improvado_loads import contract
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.emulator.datadir_lock import DataDirBusy
from improvado_loads.emulator.listen import ListenError, bind, is_loopback
from improvado_loads.emulator.runner import INTERRUPTED
from tests.conftest import wait_until_serving

SCRIPT = Path(sys.executable).parent / "improvado-loads"
SECRET_VARS = ("IMPROVADO_EMULATOR_TOKEN", "IMPROVADO_EMULATOR_PASSWORD", "IMPROVADO_EMULATOR_POSTGRES_DSN")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and not k.startswith("IMPROVADO_API")}
    return env | extra


def _serve(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``improvado-loads emulator serve ARGS`` run to its end (for commands that must refuse at once)."""
    return subprocess.run([str(SCRIPT), "emulator", "serve", *args], env=env or _env(), capture_output=True,
                          text=True, timeout=60)


def _one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 1 or done.returncode == 2, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def held(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulator on ``tmp_path/data`` whose runs take long, so one stays running."""
    settings = EmulatorSettings(data_dir=tmp_path / "data", port=0, token="held-token", run_seconds=30)
    with EmulatorServer(settings) as server:
        yield server


def _running_load(server: EmulatorServer) -> int:
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer held-token"}, timeout=30) as api:
        load = api.post(contract.LOADS_PATH, json={"data_table_id": 1, "destination_connection_id": 1,
                                                   "destination_table": "held_t"}).json()
        assert api.put(f"{contract.LOADS_PATH}/{load['id']}/run").status_code == 202
        return int(load["id"])


def _status(server: EmulatorServer, load_id: int) -> dict[str, object]:
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer held-token"}, timeout=30) as api:
        body: dict[str, object] = api.get(f"{contract.LOADS_PATH}/{load_id}").json()
        return body


def test_a_second_emulator_on_the_same_data_dir_refuses_and_names_the_holder(held: EmulatorServer) -> None:
    load_id = _running_load(held)
    second = EmulatorServer(EmulatorSettings(data_dir=held.settings.data_dir, port=0, token="held-token"))
    with pytest.raises(DataDirBusy, match=f"pid {os.getpid()}"):
        second.start()
    done = _serve(["--port", "0", "--data-dir", str(held.settings.data_dir)])
    _one_error_line(done, "in use by another emulator", f"pid {os.getpid()}")
    # The live instance's run was not touched: still running, not failed as "interrupted".
    status = _status(held, load_id)
    assert status["status"] in ("queued", "running") and status["error_text"] != INTERRUPTED


def test_the_data_dir_is_free_again_after_a_stop(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path / "data", port=0)
    with EmulatorServer(settings):
        pass
    with EmulatorServer(settings) as again:
        assert httpx.get(f"{again.url}/_emulator/health").status_code == 200


def test_a_busy_port_is_one_error_line_and_touches_no_state(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve(["--port", str(port), "--data-dir", str(tmp_path / "data")])
    _one_error_line(done, f"127.0.0.1:{port}", "in use")
    assert done.returncode == 1
    assert not (tmp_path / "data" / "emulator.sqlite3").exists()


def test_only_loopback_without_allow_remote(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.0.0.1")
    with pytest.raises(ListenError, match="--allow-remote"):
        EmulatorServer(EmulatorSettings(data_dir=tmp_path / "d", host="0.0.0.0", port=0)).start()
    done = _serve(["--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "data")])
    _one_error_line(done, "refusing to listen on '0.0.0.0'", "--allow-remote")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--token", "argv-token-1"], "IMPROVADO_EMULATOR_TOKEN"),
        (["--username", "u", "--password", "argv-pw-1"], "IMPROVADO_EMULATOR_PASSWORD"),
        (["--postgres-dsn", "postgresql://u:argv-pw-2@127.0.0.1:9/db"], "IMPROVADO_EMULATOR_POSTGRES_DSN"),
    ],
)
def test_secrets_on_the_command_line_are_refused(tmp_path: Path, args: list[str], needle: str) -> None:
    done = _serve([*args, "--port", "0", "--data-dir", str(tmp_path / "data")])
    _one_error_line(done, needle, "ps")
    assert done.returncode == 2
    assert "argv-" not in done.stdout + done.stderr


def test_secrets_come_from_the_environment_or_a_file_and_stay_out_of_ps(tmp_path: Path) -> None:
    token, password = "env-token-x7q", "file-password-k2m"
    (tmp_path / "pw").write_text(password + "\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(SCRIPT), "emulator", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"),
         "--username", "ana", "--password-file", str(tmp_path / "pw")],
        env=_env(IMPROVADO_EMULATOR_TOKEN=token), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_serving(process, url)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        assert token not in cmdline and password not in cmdline
        assert httpx.get(f"{url}/api/v3/data-tables", headers={"Authorization": f"Bearer {token}"}).is_success
        basic = "Basic " + base64.b64encode(f"ana:{password}".encode()).decode()
        exchanged = httpx.post(f"{url}{contract.TOKEN_PATH}", json={"workspace_id": 1},
                               headers={"Authorization": basic})
        assert exchanged.status_code == 200
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    assert "Listening on loopback only" in stderr
    assert token not in stdout + stderr and password not in stdout + stderr


def test_failed_token_requests_are_throttled(emulator: EmulatorServer) -> None:
    wrong = "Basic " + base64.b64encode(b"tester:not-the-password").decode()
    right = "Basic " + base64.b64encode(f"{emulator.settings.username}:{emulator.settings.password}".encode()).decode()
    with httpx.Client(base_url=emulator.url, timeout=30) as api:
        statuses = [
            api.post(contract.TOKEN_PATH, json={"workspace_id": 1}, headers={"Authorization": wrong}).status_code
            for _ in range(contract.TOKEN_FAILURES_ALLOWED)
        ]
        assert statuses == [401] * contract.TOKEN_FAILURES_ALLOWED
        throttled = api.post(contract.TOKEN_PATH, json={"workspace_id": 1}, headers={"Authorization": wrong})
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= contract.TOKEN_FAILURE_WINDOW_SECONDS
        assert "detail" in throttled.json()
        # Even the right password waits: a guesser learns nothing during the wait.
        assert api.post(contract.TOKEN_PATH, json={"workspace_id": 1},
                        headers={"Authorization": right}).status_code == 429


def test_an_ipv6_loopback_written_as_in_a_url_is_served_and_named_once_bracketed(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with EmulatorServer(EmulatorSettings(data_dir=tmp_path / "d", host="[::1]", port=0, token="t6")) as server:
        assert server.url.startswith("http://[::1]:") and "[[" not in server.url
        assert httpx.get(f"{server.url}/api/v3/data-tables", headers={"Authorization": "Bearer t6"}).status_code == 200


def test_connections_to_the_emulator_socket_send_without_nagle() -> None:
    """The socket uvicorn serves on gets TCP_NODELAY from asyncio on every accepted connection.

    Without it a response written as headers then body waits for the client's delayed ACK
    (about 40 ms a request on loopback); asyncio sets it only on sockets whose proto is TCP.
    """
    sock = bind("127.0.0.1", 0, allow_remote=False)
    nodelay: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def serve_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            _reader, writer = await asyncio.open_connection(*sock.getsockname())
            await asyncio.wait_for(_reader.read(), timeout=10)
            writer.close()

    asyncio.run(serve_one())
    assert nodelay and nodelay[0] != 0
