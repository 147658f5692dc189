"""Shared test fixtures.

Other test modules may add their own fixtures here; keep each block marked.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Emulator fixtures (owned by tests/test_emulator.py): a throwaway PostgreSQL,
# a fresh emulator per test, httpx clients with a bearer token.
# ---------------------------------------------------------------------------
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorControl, EmulatorServer, EmulatorSettings

if TYPE_CHECKING:
    from improvado_loads.provider import LoadProvider

#: The static token of workspace 1 in the emulator fixtures.
EMULATOR_TOKEN = "emulator-test-token"
EMULATOR_USER = "tester"
EMULATOR_PASSWORD = "tester-password"


#: The environment variables that give the command line an API and credentials.
CREDENTIAL_VARS = (
    "IMPROVADO_API_URL",
    "IMPROVADO_API_TOKEN",
    "IMPROVADO_USERNAME",
    "IMPROVADO_PASSWORD",
    "IMPROVADO_WORKSPACE_ID",
)


def cli_env(url: str, token: str, unset: tuple[str, ...] = CREDENTIAL_VARS) -> dict[str, str | None]:
    """A command's environment: the API at ``url`` with ``token``, the rest of ``unset`` unset; a wide terminal."""
    values: dict[str, str | None] = dict.fromkeys(unset)
    values.update({"IMPROVADO_API_URL": url, "IMPROVADO_API_TOKEN": token, "COLUMNS": "200"})
    return values


class FakeTime:
    """A clock and a sleep that only advance each other: waits are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The fake monotonic time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock on by it."""
        self.sleeps.append(seconds)
        self.now += seconds


def _postgres_bindir() -> Path:
    """Where initdb and pg_ctl live: ``pg_config --bindir``, else the newest /usr/lib/postgresql/*/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
        if (found / "initdb").exists():
            return found
    def version(bindir: Path) -> int:
        return int(bindir.parent.name) if bindir.parent.name.isdigit() else 0

    for candidate in sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), key=version, reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    raise RuntimeError("PostgreSQL is not installed: no initdb (pg_config --bindir, /usr/lib/postgresql/*/bin)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        extra = log.read_text() if log and log.exists() else ""
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{extra}")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL on loopback: ``$IMPROVADO_TEST_POSTGRES_DSN``, or a throwaway server for the session.

    The throwaway server asks for a password over TCP (scram-sha-256; user ``postgres``, a generated
    password, carried in the DSN), so a wrong password really fails; its local socket stays trust.
    """
    given = os.environ.get("IMPROVADO_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    bindir = _postgres_bindir()
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="improvado-emulator-pg-"))  # short path: it holds the socket
    if as_owner:
        shutil.chown(base, "postgres")
    data, log, port = base / "data", base / "server.log", _free_port()
    password = secrets.token_hex(16)
    pwfile = base / "pwfile"
    try:
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if as_owner:
            shutil.chown(pwfile, "postgres")
        _run([*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
              "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync"], "initdb")
        pwfile.unlink()
        options = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
        _run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"],
             "pg_ctl start", log)
        _run([*as_owner, str(bindir / "createdb"), "-h", str(base), "-p", str(port), "-U", "postgres",
              "improvado_test"], "createdb", log)
        yield f"postgresql://postgres:{password}@127.0.0.1:{port}/improvado_test"
    finally:
        pwfile.unlink(missing_ok=True)
        if data.exists():
            subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_params(postgres_dsn: str) -> dict[str, Any]:
    """The test PostgreSQL as connection params: ``host, port, database, user, password`` (for PostgresqlParams)."""
    url = make_url(postgres_dsn)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "database": url.database or "postgres",
        "user": url.username or "postgres",
        "password": url.password or "",
    }


@pytest.fixture
def token() -> str:
    """A distinctive bearer token, so that a leak anywhere can be searched for."""
    return f"tok-{secrets.token_hex(16)}"


@pytest.fixture
def emulator_settings(tmp_path: Path, postgres_dsn: str) -> EmulatorSettings:
    """Settings of a fresh emulator: its own data dir, PostgreSQL behind connections 2 and 5, fast runs."""
    return EmulatorSettings(
        data_dir=tmp_path / "emulator-data",
        port=0,
        token=EMULATOR_TOKEN,
        username=EMULATOR_USER,
        password=EMULATOR_PASSWORD,
        postgres_dsn=postgres_dsn,
        run_seconds=0.05,
        tick_seconds=0.2,
    )


@pytest.fixture
def emulator(emulator_settings: EmulatorSettings) -> Iterator[EmulatorServer]:
    """A running emulator on 127.0.0.1, port chosen by the OS."""
    with EmulatorServer(emulator_settings) as server:
        yield server


@pytest.fixture
def emulator_client(emulator: EmulatorServer) -> Iterator[Callable[..., httpx.Client]]:
    """A factory of httpx clients on the emulator: ``emulator_client(token=EMULATOR_TOKEN)``.

    ``token=None`` gives a client without ``Authorization``. Clients close at teardown.
    """
    clients: list[httpx.Client] = []

    def make(token: str | None = EMULATOR_TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=emulator.url, headers=headers, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(Exception):
            client.close()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    """The typed client on the emulator, workspace 1's static token (a file may define its own)."""
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN) as api:
        yield api


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    """The emulator's control surface: faults, clock, request log."""
    with EmulatorControl(emulator.url) as ctl:
        yield ctl


def fresh_provider(client: ImprovadoClient) -> LoadProvider:
    """A Load provider as a new provider process starts, talking through ``client``."""
    from improvado_loads.provider import LoadProvider

    provider = LoadProvider()
    provider._client = client
    return provider


# --------------------------- end of emulator fixtures ---------------------------


# --- Pulumi engine fixture (engine and deploy tests) ---

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pulumi_on_path() -> None:
    """Put the Pulumi CLI on PATH, building it once if needed (scripts/ensure-pulumi)."""
    if shutil.which("pulumi") is None:
        out = subprocess.run([str(ROOT / "scripts" / "ensure-pulumi")], check=True, capture_output=True, text=True)
        os.environ["PATH"] = out.stdout.strip().splitlines()[-1] + os.pathsep + os.environ["PATH"]
    os.environ["PULUMI_SKIP_UPDATE_CHECK"] = "1"


# --- The `engine` marker: `pytest -m "not engine"` is the inner loop ---

ENGINE_TESTS = ROOT / "tests" / "engine"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that runs the real Pulumi engine: tests/engine/ and any test that needs the pulumi CLI."""
    for item in items:
        if item.path.is_relative_to(ENGINE_TESTS) or "pulumi_on_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)
