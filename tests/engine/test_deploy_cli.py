"""``improvado-loads deploy`` as a faithful front of the engine, through the console script.

Each test runs the installed ``improvado-loads`` script as a subprocess (a pty
where a terminal is the point) with the real Pulumi engine on a local file
backend, against the emulator.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer

from .conftest import PROGRAM, engine_env

SCRIPT = Path(sys.executable).parent / "improvado-loads"
LOAD_TYPE = "pulumi-python:dynamic/improvado:Load"


def spec(table: str, data_table_id: int = 1) -> dict[str, Any]:
    return {"data_table_id": data_table_id, "destination_connection_id": 1, "destination_table": table,
            "run_policy": "manual"}  # fmt: skip


@dataclass
class Program:
    """A copy of the test program, its backend and the emulator's credentials."""

    work_dir: Path
    env: dict[str, str]
    emulator_url: str

    def deploy(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """``improvado-loads deploy <args> --cwd <program>`` (bounded by a generous timeout)."""
        return subprocess.run(
            [str(SCRIPT), "deploy", *args, "--cwd", str(self.work_dir)],
            env={**os.environ, **self.env}, input=input, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    def pulumi(self, *args: str) -> str:
        return subprocess.run(
            ["pulumi", *args, "--cwd", str(self.work_dir)],
            env={**os.environ, **self.env}, capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip

    def configure(self, loads: dict[str, Any], stack: str = "dev") -> list[str]:
        """The CLI options that point the stack at the emulator and declare ``loads``."""
        return ["--stack", stack, "-c", f"improvado:apiUrl={self.emulator_url}", "--secret-from-env",
                "improvado:token=TEST_IMPROVADO_TOKEN", "-c", f"test:loads={json.dumps(loads)}"]  # fmt: skip

    def state(self, stack: str = "dev") -> dict[str, Any]:
        return dict(json.loads(self.pulumi("stack", "export", "--stack", stack))["deployment"])

    def recorded(self, stack: str = "dev") -> dict[str, int]:
        """Load resource name → load id, from the stack's state."""
        return {r["urn"].rsplit("::", 1)[-1]: int(r["id"]) for r in self.state(stack).get("resources", [])
                if r["type"] == LOAD_TYPE and not r.get("delete")}  # fmt: skip


@pytest.fixture
def program(tmp_path: Path, emulator: EmulatorServer, token: str) -> Program:
    work_dir = tmp_path / "program"
    shutil.copytree(PROGRAM, work_dir)
    settings = (work_dir / "Pulumi.yaml").read_text().replace("../../../.venv", sys.prefix)
    (work_dir / "Pulumi.yaml").write_text(settings)
    env = {**engine_env(tmp_path), "TEST_IMPROVADO_TOKEN": token, "NO_COLOR": ""}
    return Program(work_dir, env, emulator.url)


def live_tables(api: ImprovadoClient) -> list[str]:
    return sorted(load.destination_table for load in api.loads.list())


# --- 1. the program's and the engine's own errors ------------------------------------------


def test_preview_shows_the_programs_error_as_pulumi_does(program: Program) -> None:
    main = program.work_dir / "__main__.py"
    main.write_text("import pulumi\n\nprint('printed by the program')\npulumi.export('x', undefined_name_in_program)\n")
    result = program.deploy("preview", "--stack", "dev", "--create")
    # what the program prints is a message of the stack, as with pulumi's language host
    assert "pulumi:pulumi:Stack (engine-tests-dev):\n    printed by the program" in result.stdout
    assert result.returncode != 0
    assert "Program failed with an unhandled exception" in result.stdout
    assert "NameError: name 'undefined_name_in_program' is not defined" in result.stdout
    assert 'File "' in result.stdout and "__main__.py" in result.stdout  # the user's own traceback
    assert "the engine's output is above" not in result.stdout + result.stderr

    main.write_text("import pulumi\n\npulumi.Config().require('destinationConnectionId')\n")
    result = program.deploy("up", "--stack", "dev", "--yes")
    assert result.returncode != 0
    assert "Missing required configuration variable 'engine-tests:destinationConnectionId'" in result.stdout
    assert "pulumi config set engine-tests:destinationConnectionId <value>" in result.stdout


def test_a_program_error_caused_by_a_refused_grpc_call_keeps_its_traceback(program: Program) -> None:
    """Only a call refused by the engine's own shutdown is reported as the shutdown: a program that
    fails of a refused gRPC call of its own (the engine still serving it) shows its traceback."""
    main = program.work_dir / "__main__.py"
    main.write_text(
        "import grpc\n\n\nclass Refused(grpc.RpcError):\n    def code(self):\n"
        "        return grpc.StatusCode.CANCELLED\n\n\n"
        "raise RuntimeError('the warehouse service refused') from Refused()\n"
    )
    result = program.deploy("preview", "--stack", "dev", "--create")
    assert result.returncode != 0
    assert "Program failed with an unhandled exception" in result.stdout
    assert "RuntimeError: the warehouse service refused" in result.stdout and "__main__.py" in result.stdout
    assert "Resource monitor has terminated" not in result.stdout


# --- 2. a mistyped --stack ----------------------------------------------------------------


def test_a_mistyped_stack_is_refused_and_names_the_stacks(program: Program, api: ImprovadoClient) -> None:
    created = program.deploy("up", "--create", "--yes", *program.configure({"ads": spec("ads")}))
    assert created.returncode == 0, created.stderr
    assert "Created stack 'dev'" in created.stderr
    stack_config = (program.work_dir / "Pulumi.dev.yaml").read_text()  # the token went in as a secret
    assert "secure: v1:" in stack_config and program.env["TEST_IMPROVADO_TOKEN"] not in stack_config

    typo = program.deploy("up", "--yes", *program.configure({"ads": spec("ads")}, stack="dve"))
    assert typo.returncode == 2
    lines = typo.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("error: no stack 'dve'")
    assert "(its stacks: dev)" in lines[0] and "--create" in lines[0]
    assert [entry["name"] for entry in json.loads(program.pulumi("stack", "ls", "--json"))] == ["dev"]
    for command in ("preview", "refresh", "destroy", "recover"):
        assert program.deploy(command, "--stack", "dve").returncode == 2
    assert live_tables(api) == ["ads"]


# --- 3. options, colour, previews before confirming -----------------------------------------


def test_target_replace_diff_and_json(program: Program, api: ImprovadoClient) -> None:
    assert program.deploy("up", "--create", "--yes", *program.configure({"a": spec("a")})).returncode == 0
    first = program.recorded()["a"]
    urn = next(r["urn"] for r in program.state()["resources"] if r["type"] == LOAD_TYPE)
    urn_b = urn.replace("::a", "::b")

    both = {"a": spec("a"), "b": spec("b"), "c": spec("c")}
    only_b = program.deploy("up", "--yes", "--target", urn_b, *program.configure(both))
    assert only_b.returncode == 0, only_b.stdout
    assert live_tables(api) == ["a", "b"]

    plan = program.deploy("preview", "--stack", "dev", "--json")
    assert plan.returncode == 0, plan.stderr
    steps = {step["urn"].rsplit("::", 1)[-1]: step["op"] for step in json.loads(plan.stdout)["steps"]}
    assert steps["c"] == "create" and steps.get("a", "same") == "same" and "b" not in steps

    diff = program.deploy("preview", "--stack", "dev", "--diff")
    assert ": (create)" in diff.stdout and 'destination_table' in diff.stdout and '"c"' in diff.stdout
    assert "destination_table" not in program.deploy("preview", "--stack", "dev").stdout

    # --replace: the run of load a is made again (a new run resource), nothing else changes
    run_config = ["-c", f"test:runs={json.dumps({'r': {'load': 'a'}})}"]
    assert program.deploy("up", "--stack", "dev", "--yes", "--target", urn.replace("Load::a", "LoadRun::r"),
                          *run_config).returncode == 0  # fmt: skip
    run_urn = urn.replace("improvado:Load::a", "improvado:LoadRun::r")
    run_id = next(r["id"] for r in program.state()["resources"] if r["urn"] == run_urn)
    replaced = program.deploy("up", "--stack", "dev", "--yes", "--replace", run_urn, "--target", run_urn)
    assert replaced.returncode == 0, replaced.stdout
    assert "replaced" in replaced.stdout
    assert next(r["id"] for r in program.state()["resources"] if r["urn"] == run_urn) != run_id
    assert program.recorded()["a"] == first
    assert live_tables(api) == ["a", "b"]  # c still not created: every up here was targeted
    assert "\x1b[" not in replaced.stdout + replaced.stderr  # no colour when not a terminal


def test_replace_of_a_load_deletes_first_and_makes_a_new_load(program: Program, api: ImprovadoClient) -> None:
    """``deploy up --replace <Load URN>``: the API allows one load per (connection, table), so the
    old load goes first and a new one takes its place (create-first would be refused)."""
    assert program.deploy("up", "--create", "--yes", *program.configure({"a": spec("a")})).returncode == 0
    first = program.recorded()["a"]
    urn = next(r["urn"] for r in program.state()["resources"] if r["type"] == LOAD_TYPE)
    replaced = program.deploy("up", "--stack", "dev", "--yes", "--replace", urn)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert "replaced" in replaced.stdout
    second = program.recorded()["a"]
    assert second != first
    assert [(load.id, load.destination_table) for load in api.loads.list()] == [(second, "a")]


def test_replace_of_adopted_resources_keeps_nothing_pointing_at_nothing(program: Program, api: ImprovadoClient) -> None:
    """``--replace`` on resources adopted by ``adopt_*_id`` (as ``export`` writes every one): the Load
    is deleted then created anew (the adopt id is not taken again), and a DestinationConnection
    whose create-first replacement takes the same connection over is not deleted under it."""
    existing = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="a")
    conn = {"destination_name": "sqlite", "title": "Local warehouse", "adopt_connection_id": 1,
            "connection_params": {"database": "warehouse.sqlite3"}}  # fmt: skip
    config = [*program.configure({"a": {**spec("a"), "adopt_load_id": existing.id}}),
              "-c", f"test:connections={json.dumps({'w': conn})}"]  # fmt: skip
    adopted = program.deploy("up", "--create", "--yes", *config)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert program.recorded()["a"] == existing.id
    urns = {r["urn"].rsplit("::", 1)[-1]: r["urn"] for r in program.state()["resources"]}

    replaced = program.deploy("up", "--stack", "dev", "--yes", "--replace", urns["a"], "--replace", urns["w"])
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    [load] = api.loads.list().to_list()
    assert load.id != existing.id and program.recorded()["a"] == load.id
    recorded_conn = next(int(r["id"]) for r in program.state()["resources"] if r["urn"] == urns["w"])
    assert api.destination_connections.get("sqlite", recorded_conn).status == "active"  # still there

    again = program.deploy("preview", "--stack", "dev", "--json")
    assert again.returncode == 0, again.stderr
    assert {step["op"] for step in json.loads(again.stdout)["steps"]} <= {"same"}


def preview_on_a_terminal(program: Program, **env: str) -> bytes:
    """What ``deploy preview`` writes to a terminal (a pty), with ``env`` added."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [str(SCRIPT), "deploy", "preview", "--stack", "dev", "--cwd", str(program.work_dir)],
            env={**os.environ, **program.env, **env}, stdout=follower, stderr=subprocess.PIPE, timeout=300,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty is closed once the child is gone and its output read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    return b"".join(chunks)


def test_colour_on_a_terminal(program: Program) -> None:
    assert program.deploy("up", "--create", "--yes", *program.configure({"a": spec("a")})).returncode == 0
    assert b"\x1b[" in preview_on_a_terminal(program)
    shown = preview_on_a_terminal(program, NO_COLOR="1")  # as the README says: NO_COLOR turns them off
    assert b"unchanged" in shown and b"\x1b[" not in shown


def test_refresh_and_destroy_show_what_they_will_change_before_asking(program: Program, api: ImprovadoClient) -> None:
    loads = {"a": spec("a"), "b": spec("b")}
    assert program.deploy("up", "--create", "--yes", *program.configure(loads)).returncode == 0
    api.loads.delete(program.recorded()["b"])  # drift: b was deleted outside Pulumi

    refresh = program.deploy("refresh", "--stack", "dev", input="n\n")
    assert refresh.returncode == 1
    assert "Previewing refresh" in refresh.stdout and "- 1 to delete" in refresh.stdout
    assert "Do you want to perform this refresh?" in refresh.stdout
    assert set(program.recorded()) == {"a", "b"}  # nothing refreshed

    destroy = program.deploy("destroy", "--stack", "dev", input="n\n")
    assert destroy.returncode == 1
    assert "Previewing destroy" in destroy.stdout and "- 3 to delete" in destroy.stdout
    assert "Do you want to perform this destroy?" in destroy.stdout
    assert live_tables(api) == ["a"]

    up = program.deploy("up", "--stack", "dev", input="n\n")
    assert up.returncode == 1 and "Previewing update" in up.stdout

    unanswered = program.deploy("destroy", "--stack", "dev", input="")  # stdin closed: nobody to ask
    assert unanswered.returncode == 2
    assert unanswered.stderr.strip().splitlines() == [
        "error: no destroy done: nothing answered the confirmation (pass --yes to go ahead without asking)"
    ]
    assert live_tables(api) == ["a"]

    assert program.deploy("refresh", "--stack", "dev", input="y\n").returncode == 0
    assert set(program.recorded()) == {"a"}


def test_help_matches_behaviour() -> None:
    for command in ("preview", "up", "refresh", "destroy", "recover"):
        text = subprocess.run([str(SCRIPT), "deploy", command, "--help"], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"}, check=True).stdout  # fmt: skip
        takes_create = "  --create " in text
        assert takes_create == (command in ("preview", "up")), command
        # the help names --create only where the command takes it
        assert ("must exist unless --create" in text) == takes_create, command
        assert "--stack" in text
    up = subprocess.run([str(SCRIPT), "deploy", "up", "--help"], capture_output=True, text=True,
                        env={**os.environ, "COLUMNS": "200"}, check=True).stdout  # fmt: skip
    for option in ("--create", "--target", "--replace", "--refresh", "--diff", "--json", "--yes", "--parallel"):
        assert option in up


# --- 4. the project's own Python environment ----------------------------------------------


@pytest.fixture
def own_venv_program(program: Program) -> Iterator[Program]:
    """The program with its own virtualenv, holding a package nothing else has."""
    venv = program.work_dir / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    here = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_relative_to(sys.prefix))
    # pulumi and improvado_loads (an editable install: its own .pth), as `pip install` would give them
    (site / "shared.pth").write_text(f"import site; site.addsitedir({str(here)!r})\n")
    (site / "only_in_program_venv").mkdir()
    (site / "only_in_program_venv" / "__init__.py").write_text("ANSWER = 'from the program venv'\n")
    settings = (program.work_dir / "Pulumi.yaml").read_text().replace(f"virtualenv: {sys.prefix}", "virtualenv: venv")
    (program.work_dir / "Pulumi.yaml").write_text(settings)
    main = program.work_dir / "__main__.py"
    main.write_text("import only_in_program_venv\n" + main.read_text()
                    + "\npulumi.export('answer', only_in_program_venv.ANSWER)\n")  # fmt: skip
    yield program


def test_program_runs_with_its_own_virtualenv(own_venv_program: Program, api: ImprovadoClient) -> None:
    with pytest.raises(ImportError):
        __import__("only_in_program_venv")
    result = own_venv_program.deploy("up", "--create", "--yes", *own_venv_program.configure({"a": spec("a")}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from the program venv" in result.stdout
    assert live_tables(api) == ["a"]


# --- 5. Ctrl-C, a crash, and `deploy recover` ---------------------------------------------

THIRTY = {f"load{i:02d}": spec(f"table_{i:02d}", data_table_id=1 + i % 3) for i in range(30)}


def slow_creates(program: Program) -> int:
    """Every load create takes a second (answered late, made at once), so a run can be cut mid-way."""
    fault = {"method": "POST", "path": "/api/v3/loads", "latency_ms": 1000}
    return int(httpx.post(f"{program.emulator_url}/_emulator/faults", json=fault).json()["id"])


def up_thirty(program: Program) -> list[str]:
    """The command line of ``deploy up`` of 30 loads, four at a time."""
    return [str(SCRIPT), "deploy", "up", "--create", "--yes", "--parallel", "4", *program.configure(THIRTY),
            "--cwd", str(program.work_dir)]  # fmt: skip


def start_up(program: Program) -> subprocess.Popen[str]:
    """``deploy up`` of 30 loads in its own session: its process group is what a terminal's Ctrl-C reaches."""
    return subprocess.Popen(
        up_thirty(program), env={**os.environ, **program.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip


def wait_for_loads(api: ImprovadoClient, at_least: int) -> None:
    for _ in range(1200):  # bounded: 2 minutes
        if len(list(api.loads.list())) >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} loads were created")


def ctrl_c_up(
    program: Program, api: ImprovadoClient, presses: int = 1, loads: int = 5
) -> tuple[subprocess.Popen[str], str, str]:
    """:func:`start_up`, then Ctrl-C ``presses`` times once ``loads`` loads exist; the process, stdout, stderr."""
    proc = start_up(program)
    try:
        wait_for_loads(api, loads)
        for _ in range(presses):
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at a terminal does
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, out, err


def session_processes(sid: int) -> list[int]:
    """The live (not zombie) processes of a session: the CLI, pulumi, providers, the program."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def lock_files(program: Program) -> list[Path]:
    return list((Path(program.env["PULUMI_BACKEND_URL"].removeprefix("file://")) / ".pulumi" / "locks").rglob("*.json"))


def assert_thirty_recorded_once(program: Program, api: ImprovadoClient) -> None:
    live = {load.destination_table: load.id for load in api.loads.list()}
    assert len(list(api.loads.list())) == 30 == len(live)  # exactly 30, no duplicates
    recorded = program.recorded()
    assert sorted(recorded.values()) == sorted(live.values())  # no orphans, state matches
    assert all(live[spec_["destination_table"]] == recorded[name] for name, spec_ in THIRTY.items())
    assert not program.state().get("pending_operations")


def test_ctrl_c_cancels_cleanly_and_says_how_to_go_on(program: Program, api: ImprovadoClient) -> None:
    fault = slow_creates(program)
    proc, out, err = ctrl_c_up(program, api)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "update canceled" in out
    assert "stack 'dev' is unlocked, has no pending operations" in err
    assert f"Finish with: improvado-loads deploy up --stack dev --cwd {program.work_dir}" in err
    assert session_processes(proc.pid) == []  # no provider or program process left behind
    assert lock_files(program) == []
    live = sorted(load.id for load in api.loads.list())
    assert 5 <= len(live) < 30 and sorted(program.recorded().values()) == live  # every load made is recorded

    httpx.delete(f"{program.emulator_url}/_emulator/faults/{fault}").raise_for_status()
    assert program.deploy("up", "--stack", "dev", "--yes").returncode == 0
    assert_thirty_recorded_once(program, api)


def test_ctrl_c_typed_at_a_terminal_also_says_how_to_go_on(program: Program, api: ImprovadoClient) -> None:
    """On a terminal pulumi's display reads the keyboard (raw mode): Ctrl-C is a key that only the
    engine sees, not a SIGINT to the process group. The command still knows the update was cancelled."""
    fault = slow_creates(program)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # a usable terminal

    def own_terminal() -> None:  # in the child: a session whose controlling terminal is the pty
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        up_thirty(program), env={**os.environ, **program.env, "TERM": "xterm"},
        stdin=follower, stdout=follower, stderr=follower, preexec_fn=own_terminal,
    )  # fmt: skip
    os.close(follower)
    shown = b""
    try:
        typed = False
        for _ in range(3000):  # bounded: 5 minutes of 0.1 s polls
            if select.select([leader], [], [], 0.1)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal is closed once the command is gone
                    break
                if not chunk:
                    break
                shown += chunk
            if not typed and len(list(api.loads.list())) >= 5:
                os.write(leader, b"\x03")  # Ctrl-C typed at the terminal
                typed = True
        proc.wait(timeout=60)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = shown.decode(errors="replace")
    assert typed and proc.returncode == 130, text
    assert "Traceback" not in text
    assert "stack 'dev' is unlocked, has no pending operations" in text
    assert f"Finish with: improvado-loads deploy up --stack dev --cwd {program.work_dir}" in text.replace("\r\n", "")
    assert session_processes(proc.pid) == [] and lock_files(program) == []
    httpx.delete(f"{program.emulator_url}/_emulator/faults/{fault}").raise_for_status()
    assert program.deploy("up", "--stack", "dev", "--yes").returncode == 0
    assert_thirty_recorded_once(program, api)


#: A program whose last registration needs a provider the engine has not loaded yet (the builtin
#: one of a StackReference), sent once ``first`` is created: while a Ctrl-C is waiting for ``slow``.
CANCELLED_REGISTRATION = """import pulumi

from improvado_loads import DestinationConnection, DestinationConnectionArgs, Load, LoadArgs

slow = DestinationConnection("slow", DestinationConnectionArgs(
    destination_name="sqlite", title="Slow", connection_params={"database": "slow.sqlite3"}))
first = Load("first", LoadArgs(data_table_id=1, destination_connection_id=1, destination_table="first",
                               run_policy="manual"))
pulumi.StackReference("organization/engine-tests/other", opts=pulumi.ResourceOptions(depends_on=[first]))
"""


def test_ctrl_c_while_a_registration_waits_for_its_provider_is_a_clean_cancel(
    program: Program, api: ImprovadoClient
) -> None:
    """Ctrl-C while ``first`` (2 s) and ``slow`` (5 s) are being created. Once ``first`` is, the
    program reads the StackReference, which waits for the ``pulumi`` package's default provider: the
    cancelling engine registers nothing more, and when ``slow`` is done and it shuts the program's
    monitor down it answers that read CANCELLED ("context canceled"), not UNAVAILABLE as the rest.
    The program dies of the cancel; that is no error of the program (no traceback), every time."""
    (program.work_dir / "__main__.py").write_text(CANCELLED_REGISTRATION)
    faults = [{"method": "POST", "path": "/api/v3/loads", "latency_ms": 2000},
              {"method": "POST", "path": "/api/v3/destinations/*", "latency_ms": 5000}]  # fmt: skip
    for fault in faults:
        httpx.post(f"{program.emulator_url}/_emulator/faults", json=fault).raise_for_status()
    proc, out, err = ctrl_c_up(program, api, loads=1)  # while both creates are in flight
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err and "context canceled" not in out + err, out + err
    assert "update canceled" in out and "error: Resource monitor has terminated, shutting down" in out
    assert "stack 'dev' is unlocked, has no pending operations" in err
    assert session_processes(proc.pid) == [] and lock_files(program) == []
    assert live_tables(api) == ["first"] and list(program.recorded().values()) == [api.loads.list().to_list()[0].id]


def test_recover_after_kill_9_leaves_no_orphan_and_no_duplicate(program: Program, api: ImprovadoClient) -> None:
    fault = slow_creates(program)
    proc = start_up(program)
    try:
        wait_for_loads(api, 6)
    finally:
        for pid in session_processes(proc.pid):  # the CLI, pulumi, the providers, the program: all at once
            os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    assert lock_files(program), "the crash should leave the stack locked"
    crashed = program.state()
    assert crashed.get("pending_operations"), "the crash should leave creates pending"

    locked = program.deploy("up", "--stack", "dev", "--yes")
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.stdout + locked.stderr  # the engine's own message

    httpx.delete(f"{program.emulator_url}/_emulator/faults/{fault}").raise_for_status()
    recovered = program.deploy("recover", "--stack", "dev")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "Unlocked stack 'dev'" in recovered.stdout
    assert "recorded in the stack" in recovered.stdout
    assert "Stack 'dev' is unlocked and has no pending operations" in recovered.stdout
    assert lock_files(program) == [] and not program.state().get("pending_operations")
    assert sorted(program.recorded().values()) == sorted(load.id for load in api.loads.list())  # 0 orphans

    again = program.deploy("recover", "--stack", "dev")  # nothing left to do
    assert again.returncode == 0 and "recorded" not in again.stdout
    token = program.env["TEST_IMPROVADO_TOKEN"]
    assert all(token not in text for run in (locked, recovered, again) for text in (run.stdout, run.stderr))

    finished = program.deploy("up", "--stack", "dev", "--yes")
    assert finished.returncode == 0, finished.stdout
    assert_thirty_recorded_once(program, api)


def test_recover_refuses_while_the_update_holding_the_lock_runs(program: Program) -> None:
    assert program.deploy("up", "--create", "--yes", *program.configure({})).returncode == 0
    backend = Path(program.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    lock_dir = backend / ".pulumi" / "locks" / "organization" / "engine-tests" / "dev"
    lock_dir.mkdir(parents=True, exist_ok=True)
    holder = {"pid": os.getpid(), "username": "test", "hostname": socket.gethostname(), "timestamp": "now"}
    (lock_dir / "held.json").write_text(json.dumps(holder))
    refused = program.deploy("recover", "--stack", "dev")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: an update of stack 'dev' is still running (process {os.getpid()}): "
        "let it finish or stop it, then run recover again"
    )
    assert lock_files(program) == [lock_dir / "held.json"]  # not taken away from a live update

    (lock_dir / "held.json").write_text(json.dumps({**holder, "hostname": "elsewhere", "pid": 4242}))
    elsewhere = program.deploy("recover", "--stack", "dev")
    assert elsewhere.returncode == 1
    assert "locked by an update on elsewhere (process 4242)" in elsewhere.stderr and "--force" in elsewhere.stderr
    forced = program.deploy("recover", "--stack", "dev", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Unlocked stack 'dev'" in forced.stdout and lock_files(program) == []


def test_a_second_ctrl_c_names_the_command_that_recovers(program: Program, api: ImprovadoClient) -> None:
    fault = slow_creates(program)
    # The second Ctrl-C is "terminate immediately": in-flight creates are left unknown.
    proc, out, err = ctrl_c_up(program, api, presses=2)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert session_processes(proc.pid) == []
    said = err.strip().splitlines()[-1]
    assert said.startswith("error: deploy up was ")
    # the one command it names (recover when operations were left unknown, else up), run as given
    command = shlex.split(said.split(" with: ", 1)[1])
    assert command[:2] == ["improvado-loads", "deploy"] and command[2] in ("recover", "up")
    httpx.delete(f"{program.emulator_url}/_emulator/faults/{fault}").raise_for_status()
    argv = [str(SCRIPT), *command[1:], *(["--yes"] if command[2] == "up" else [])]
    followed = subprocess.run(argv, env={**os.environ, **program.env}, capture_output=True, text=True, timeout=600)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert program.deploy("up", "--stack", "dev", "--yes").returncode == 0
    assert_thirty_recorded_once(program, api)
