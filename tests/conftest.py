"""Shared test fixtures.

Other test modules may add their own fixtures here; keep each block marked.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Emulator fixtures (owned by tests/test_emulator.py): a throwaway PostgreSQL,
# a fresh emulator per test, httpx clients with a bearer token.
# ---------------------------------------------------------------------------
import contextlib
import fcntl
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from improvado_loads import ImprovadoClient
from improvado_loads.client.tls import DeferredCAContext
from improvado_loads.emulator import EmulatorControl, EmulatorServer, EmulatorSettings

if TYPE_CHECKING:
    from improvado_loads.provider import LoadProvider

# The run keeps its bytecode caches even where PYTHONDONTWRITEBYTECODE is set: without them every
# xdist worker rewrites and compiles every test module again (pytest's assertion rewriting, about
# 2.5 s of CPU a process), and so does every Python process a test starts.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

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


def wait_until_serving(process: subprocess.Popen[str], url: str, seconds: float = 30.0) -> None:
    """Wait (bounded) until the ``emulator serve`` ``process`` answers its health check at ``url``."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{url}/_emulator/health").is_success:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the emulator did not start"
        time.sleep(0.1)


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


#: Where this run's throwaway PostgreSQL lives (set by the first conftest to configure: the xdist
#: controller, whose workers inherit it); the server starts on first use, once for all workers.
_PG_DIR_VAR = "IMPROVADO_TEST_POSTGRES_DIR"
_PG_DIR_KEY = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Pick the directory of this run's throwaway PostgreSQL, before any xdist worker starts."""
    if hasattr(config, "workerinput") or os.environ.get("IMPROVADO_TEST_POSTGRES_DSN"):
        return
    base = Path(tempfile.mkdtemp(prefix="improvado-test-pg-"))  # short path: it holds the socket
    os.environ[_PG_DIR_VAR] = str(base)
    config.stash[_PG_DIR_KEY] = base


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop this run's throwaway PostgreSQL (if a test started it) and remove its directory."""
    base = config.stash.get(_PG_DIR_KEY, None)
    if base is None:
        return
    if (base / "data").exists():
        subprocess.run([str(ROOT / "scripts" / "postgres-throwaway"), "stop", str(base)], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
    os.environ.pop(_PG_DIR_VAR, None)


def _server_dsn() -> str:
    """``$IMPROVADO_TEST_POSTGRES_DSN``, else this run's throwaway server, started by whoever asks first.

    The throwaway server (scripts/postgres-throwaway) asks for a password over TCP (scram-sha-256;
    user ``postgres``, a generated password, carried in the DSN), so a wrong password really fails.
    """
    given = os.environ.get("IMPROVADO_TEST_POSTGRES_DSN")
    if given:
        return given
    base = Path(os.environ[_PG_DIR_VAR])
    with open(base / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait here while the first one starts it
        dsn_file = base / "dsn"
        if not dsn_file.exists():
            done = subprocess.run([str(ROOT / "scripts" / "postgres-throwaway"), "start", str(base)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"postgres-throwaway start failed ({done.returncode}):\n{done.stderr}")
            with os.fdopen(os.open(dsn_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(done.stdout.strip().splitlines()[-1])
        return dsn_file.read_text()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL on loopback: ``$IMPROVADO_TEST_POSTGRES_DSN``, or a throwaway server for the run.

    Under pytest-xdist each worker gets a database of its own on that server (``improvado_test_gw0``,
    ...), made at its start and dropped at its end, so that workers never see each other's tables.
    """
    server = _server_dsn()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield server
        return
    import psycopg
    from psycopg import sql

    name = sql.Identifier(f"improvado_test_{worker}")
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        db.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield make_url(server).set(database=f"improvado_test_{worker}").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


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
        client = httpx.Client(base_url=emulator.url, headers=headers, timeout=30, verify=DeferredCAContext())
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
    # The tests run hundreds of short pulumi commands: Go's garbage collector waits until 1 GiB of
    # heap (an up of 30 loads peaks under 200 MB), about 10 % less of their CPU. A setting of the
    # caller's own stays.
    os.environ.setdefault("GOGC", "off")
    os.environ.setdefault("GOMEMLIMIT", "1GiB")


# --- The `engine` marker: `pytest -m "not engine"` is the inner loop ---

ENGINE_TESTS = ROOT / "tests" / "engine"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that runs the real Pulumi engine: tests/engine/ and any test that needs the pulumi CLI."""
    for item in items:
        if item.path.is_relative_to(ENGINE_TESTS) or "pulumi_on_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)
