"""Reliability figures (issue 8): bad input, faults, crashes, secrets. Prints a table, writes docs/reliability.md.

    bash scripts/reliability            # or: .venv/bin/python benchmarks/reliability.py [--loads 100]

Everything runs on loopback (emulator on 127.0.0.1, the Pulumi engine on a local file backend) and
every loop is bounded. Rows:

1. bad inputs: hand-made bad requests (ids >= 2^63 everywhere, 100 000 nested ``[``, wrong JSON types,
   malformed bodies and headers) plus a schemathesis run (valid and invalid requests for every
   operation of docs/openapi.yaml); counts the server errors and reset connections (goal 0);
2. client creates under the fault mix (20 % 5xx, 10 % 429, 5 % answers lost): duplicates, lost and
   orphaned loads (goal 0, errors only when the retry budget runs out);
3. one ``deploy up`` of N loads under the same mix: converges in one run with exactly N loads;
4. ``kill -9`` of ``deploy up`` mid-way, then ``deploy recover`` and ``deploy up``: 0 orphans, 0 duplicates;
5. ``kill -9`` of the emulator while its loads run, then a restart: no load stuck, no partial rows;
6. a secrets scan of everything the above wrote and printed (state, stack config, logs, CLI output,
   error messages) for the token and passwords used (goal 0 hits).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "tests" / "engine" / "program"
SCRIPT = Path(sys.executable).parent / "improvado-loads"
DOC = ROOT / "docs" / "reliability.md"
HUGE = 2**63
#: Applied in order; each share is of what the faults before it let through: 20 % 5xx, 10 % 429, 5 % lost.
FAULT_MIX: list[dict[str, Any]] = [
    {"status": 500, "share": 0.10},
    {"status": 503, "share": 0.10 / 0.90},
    {"status": 429, "share": 0.10 / 0.80, "retry_after": 1},
    {"drop": "after", "share": 0.05 / 0.70},
]


@dataclass
class Row:
    """One line of the table."""

    what: str
    tried: str
    result: str
    goal: str
    met: bool


@dataclass
class Run:
    """What one run of the script shares between its rows."""

    tmp: Path
    token: str
    password: str
    seen: list[str] = field(default_factory=list)  # every output and error text, for the secrets scan

    def note(self, *texts: str) -> None:
        self.seen.extend(texts)


# --- helpers -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(run: Run, name: str, **extra: Any) -> EmulatorSettings:
    return EmulatorSettings(data_dir=run.tmp / name, port=0, token=run.token, username="reliability",
                            password=run.password, run_seconds=0.05, tick_seconds=0.5, **extra)  # fmt: skip


def add_faults(url: str, faults: list[dict[str, Any]]) -> None:
    for fault in faults:
        httpx.post(f"{url}/_emulator/faults", json={"path": "/api/v3/*", **fault}).raise_for_status()


def clear_faults(url: str) -> None:
    httpx.delete(f"{url}/_emulator/faults").raise_for_status()


def spec(i: int) -> dict[str, Any]:
    return {"data_table_id": 1 + i % 3, "destination_connection_id": 1, "destination_table": f"rel_{i:03d}",
            "run_policy": "manual"}  # fmt: skip


def identity(load: Any) -> tuple[int, int | None, str]:
    return (load.data_table.id, load.destination_connection_id, load.destination_table)


# --- 1. bad inputs -------------------------------------------------------------------------------------


def bad_requests() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx request keywords) of bad inputs."""
    loads = "/api/v3/loads"
    good = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "bad_t"}
    raw = {"headers": {"Content-Type": "application/json"}}
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for path in (f"{loads}/{HUGE}", f"{loads}/{10**40}", f"{loads}/0", "/api/v3/data-tables/" + str(HUGE),
                 f"/api/v3/destinations/sqlite/connections/{HUGE}", f"/api/v3/destinations/x/connections/{HUGE}"):
        cases.append(("GET", path, {}))
    for action in ("run", "pause", "unpause"):
        cases.append(("PUT", f"{loads}/{HUGE}/{action}", {}))
    cases += [("DELETE", f"{loads}/{HUGE}", {}), ("PUT", f"{loads}/{HUGE}", {"json": {"run_policy": "daily"}})]
    for query in (f"data_table_id={HUGE}", "destination_connection_id=-1", "data_table_id=abc",
                  f"page={HUGE}", f"page_size={10**30}", "page=abc", "page_size=0", "destination_name=%00",
                  "data_table_id=1e3", "data_table_id=" + "9" * 5000):
        cases.append(("GET", f"{loads}?{query}", {}))
    bodies: list[Any] = [
        {**good, "data_table_id": HUGE}, {**good, "destination_connection_id": HUGE}, {**good, "data_table_id": True},
        {**good, "data_table_id": "1"}, {**good, "data_table_id": 1.5}, {**good, "data_table_id": None},
        {**good, "load_historical_data": "yes"}, {**good, "load_historical_data": 1}, {**good, "run_policy": 5},
        {**good, "destination_table": "x" * 10_000}, {**good, "destination_table": "a; drop table t"},
        {**good, "destination_table": "nul\u0000byte"}, {**good, "unknown": 1}, {**good, "allow_shared_table": "y"},
        [good], "a string", 42, None, {}, {"data_table_id": 10**400},
    ]
    cases += [("POST", loads, {"json": body}) for body in bodies]
    for content in ("[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000, "{not json", "\xff\xfe",
                    '{"data_table_id": 1' + " " * 100_000, "1" * 5000, '"' + "x" * 1_000_000 + '"'):
        cases.append(("POST", loads, {"content": content.encode("utf-8", "surrogateescape"), **raw}))
    cases.append(("POST", loads, {"content": b"\xff\xfe\x00{", **raw}))
    for run_body in ({"date_from": "2026-02-30", "date_to": "2026-03-01"}, {"date_from": "99999-01-01"},
                     {"date_from": "2026-01-02", "date_to": "2026-01-01"}, {"date_from": 20260101, "date_to": 1},
                     {"date_from": "2026-01-01"}, {"date_from": "2026-01-01T00:00:00", "date_to": "2026-01-02"}):
        cases.append(("PUT", f"{loads}/1/run", {"json": run_body}))
    for update in ({"run_policy": True}, {"run_policy": "daily", "destination_table": "x"}, [1], {"run_policy": None}):
        cases.append(("PUT", f"{loads}/1", {"json": update}))
    connections = "/api/v3/destinations/sqlite/connections"
    for conn in ({"title": "t", "connection_params": {"database": "../escape.sqlite3"}},
                 {"title": "t", "connection_params": {"database": "/etc/passwd"}},
                 {"title": "t", "connection_params": {"database": "a", "extra": 1}},
                 {"title": "", "connection_params": {"database": "a"}},
                 {"title": "t", "connection_params": {"database": "a"}, "conenctions_params": {"database": "a"}},
                 {"title": "t" * 10_000, "connection_params": {"database": "a"}},
                 {"title": "t", "create_load_for_new_tables": "yes", "connection_params": {"database": "a"}}):
        cases.append(("POST", connections, {"json": conn}))
    cases.append(("POST", "/api/v3/destinations/postgresql/connections",
                  {"json": {"title": "t", "connection_params": {"host": "127.0.0.1", "port": HUGE, "database": "d",
                                                                "user": "u", "password": "p"}}}))
    cases.append(("PATCH", f"{connections}/1", {"json": {"title": 5, "create_load_for_new_tables": "no"}}))
    return cases


def token_requests(run: Run) -> list[dict[str, Any]]:
    basic = "Basic " + base64.b64encode(f"reliability:{run.password}".encode()).decode()
    cases: list[dict[str, Any]] = [{"headers": {"Authorization": basic}, "json": body}
                                   for body in ({"workspace_id": HUGE}, {"workspace_id": True}, {"workspace_id": "1"},
                                                {}, [1], {"workspace_id": 1, "x": 1}, {"workspace_id": -1})]
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic " +
                   base64.b64encode(b"\xff:\xfe").decode(), "Bearer x", "Basic"):
        cases.append({"headers": {"Authorization": header}, "json": {"workspace_id": 1}})
    return cases


def schemathesis_requests(url: str, token: str, password: str, examples: int) -> Counter[int]:
    """Valid and invalid requests for every documented operation; returns the count of each status."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from schemathesis import GenerationMode

    sys.path.insert(0, str(ROOT))  # tests.openapi_cases, shared with tests/test_openapi.py
    from tests.openapi_cases import on_loopback

    answered: Counter[int] = Counter()
    schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")

    def sender(operation_id: str) -> Callable[[Any], None]:
        def send(case: Any) -> None:
            on_loopback(case.body)
            headers = dict(case.headers or {})
            present = any(k.lower() == "authorization" for k in headers)
            case.headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            auth = {}
            if present:
                auth = {"Authorization": "Basic " + base64.b64encode(f"reliability:{password}".encode()).decode()
                        if operation_id == "exchangeToken" else f"Bearer {token}"}  # fmt: skip
            try:
                answered[case.call(base_url=url, headers=auth, timeout=30).status_code] += 1
            except Exception:  # a reset connection counts as a server error
                answered[599] += 1

        return send

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            strategy = operation.as_strategy(generation_mode=mode)
            hsettings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))(
                given(strategy)(sender(operation.definition.raw["operationId"]))
            )()  # fmt: skip
    return answered


def row_bad_inputs(run: Run, examples: int) -> Row:
    with EmulatorServer(settings(run, "bad-inputs")) as server:
        statuses: Counter[int] = Counter()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {run.token}"}, timeout=30) as api:
            for method, path, kwargs in bad_requests():
                try:
                    response = api.request(method, path, **kwargs)
                    statuses[response.status_code] += 1
                    run.note(response.text[:2000])
                except httpx.TransportError:
                    statuses[599] += 1
        with httpx.Client(base_url=server.url, timeout=30) as bare:
            for kwargs in token_requests(run):
                try:
                    statuses[bare.post("/api/v3/token", **kwargs).status_code] += 1
                except httpx.TransportError:
                    statuses[599] += 1
        hand = sum(statuses.values())
        generated = schemathesis_requests(server.url, run.token, run.password, examples)
    statuses.update(generated)
    errors = sum(n for status, n in statuses.items() if status >= 500)
    return Row(
        "bad inputs → server errors",
        f"{hand} hand-made bad requests + {sum(generated.values())} schemathesis requests (valid and invalid)",
        f"{errors} server errors or resets; statuses {dict(sorted(statuses.items()))}",
        "0", errors == 0,
    )


# --- 2. client creates under faults ----------------------------------------------------------------------


def row_client_creates(run: Run, count: int) -> Row:
    with EmulatorServer(settings(run, "client-creates")) as server:
        add_faults(server.url, FAULT_MIX)
        returned: dict[tuple[int, int | None, str], int] = {}
        failed: list[tuple[int, int, str]] = []
        with ImprovadoClient(base_url=server.url, token=run.token) as client:
            for i in range(count):
                body = spec(i)
                try:
                    load = client.loads.create(**body)
                    returned[identity(load)] = load.id
                except Exception as exc:
                    run.note(str(exc), repr(exc))
                    failed.append((body["data_table_id"], 1, body["destination_table"]))
        faulted = sum(1 for r in httpx.get(f"{server.url}/_emulator/requests").json() if r["status"] in (429, 500, 503))
        clear_faults(server.url)
        with ImprovadoClient(base_url=server.url, token=run.token) as client:
            live = client.loads.list().to_list()
    per_identity = Counter(identity(load) for load in live)
    duplicates = sum(n - 1 for n in per_identity.values() if n > 1)
    live_ids = {load.id for load in live}
    lost = sum(1 for load_id in returned.values() if load_id not in live_ids)
    orphans = sum(1 for load in live if identity(load) not in returned)
    return Row(
        "client creates under the fault mix",
        f"{count} `loads.create` (default retry budget), {faulted} answers faulted (+ lost answers)",
        f"{len(returned)} created, {len(failed)} errors, {duplicates} duplicates, {lost} lost, {orphans} orphans",
        "0 duplicates, 0 lost, 0 orphans", duplicates == lost == orphans == 0,
    )


# --- 3 and 4. the engine ---------------------------------------------------------------------------------


@dataclass
class Program:
    """A copy of the engine tests' program on its own local backend."""

    work_dir: Path
    env: dict[str, str]
    url: str

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(SCRIPT), "deploy", *args, "--cwd", str(self.work_dir)], env=self.env,
                              capture_output=True, text=True, timeout=1200)  # fmt: skip
        return done

    def up_args(self, loads: dict[str, Any]) -> list[str]:
        return ["up", "--stack", "dev", "--create", "--yes", "-c", f"improvado:apiUrl={self.url}",
                "--secret-from-env", "improvado:token=RELIABILITY_TOKEN", "-c", f"test:loads={json.dumps(loads)}"]

    def recorded(self) -> list[int]:
        out = subprocess.run(["pulumi", "stack", "export", "--stack", "dev", "--cwd", str(self.work_dir)],
                             env=self.env, capture_output=True, text=True, check=True, timeout=120).stdout
        resources = json.loads(out)["deployment"].get("resources", [])
        return sorted(int(r["id"]) for r in resources if r["type"].endswith(":Load") and not r.get("delete"))


def program(run: Run, name: str, url: str) -> Program:
    work_dir = run.tmp / name / "program"
    shutil.copytree(PROGRAM, work_dir)
    pulumi_yaml = work_dir / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("../../../.venv", sys.prefix))
    state = run.tmp / name / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")}
    env |= {"PULUMI_BACKEND_URL": state.as_uri(), "PULUMI_CONFIG_PASSPHRASE": "reliability-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "1", "RELIABILITY_TOKEN": run.token}  # fmt: skip
    return Program(work_dir, env, url)


def live_ids(url: str, token: str) -> list[int]:
    with ImprovadoClient(base_url=url, token=token) as client:
        return sorted(load.id for load in client.loads.list())


def row_up_under_faults(run: Run, count: int) -> Row:
    with EmulatorServer(settings(run, "up-faults")) as server:
        prog = program(run, "up-faults", server.url)
        add_faults(server.url, FAULT_MIX)
        started = time.monotonic()
        done = prog.deploy(*prog.up_args({f"load-{i:03d}": spec(i) for i in range(count)}))
        took = time.monotonic() - started
        faulted = sum(1 for r in httpx.get(f"{server.url}/_emulator/requests").json() if r["status"] in (429, 500, 503))
        clear_faults(server.url)
        run.note(done.stdout, done.stderr)
        live, recorded = live_ids(server.url, run.token), prog.recorded()
    ok = done.returncode == 0 and len(live) == count and recorded == live
    return Row(
        f"`deploy up` of {count} loads under the fault mix",
        f"one run, {faulted} answers faulted (+ lost answers), {took:.0f} s",
        f"exit {done.returncode}; {len(live)} loads in the workspace, {len(recorded)} in the state, "
        f"{len(set(live) - set(recorded))} orphans",
        f"exit 0, exactly {count}, state = workspace", ok,
    )


def session_processes(sid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if os.getsid(int(entry.name)) == sid and state != "Z":
                    found.append(int(entry.name))
    return found


def row_kill_deploy(run: Run, count: int = 30) -> Row:
    with EmulatorServer(settings(run, "kill-deploy")) as server:
        prog = program(run, "kill-deploy", server.url)
        slow = httpx.post(f"{server.url}/_emulator/faults",
                          json={"method": "POST", "path": "/api/v3/loads", "latency_ms": 1000}).json()["id"]
        loads = {f"load-{i:02d}": spec(i) for i in range(count)}
        proc = subprocess.Popen([str(SCRIPT), "deploy", *prog.up_args(loads), "--parallel", "4",
                                 "--cwd", str(prog.work_dir)], env=prog.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
        killed_at = 0
        try:
            for _ in range(1200):  # bounded: 2 minutes
                killed_at = len(live_ids(server.url, run.token))
                if killed_at >= count // 4:
                    break
                time.sleep(0.1)
        finally:
            for pid in session_processes(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=60)
            run.note(out, err)
        httpx.delete(f"{server.url}/_emulator/faults/{slow}")
        recover = prog.deploy("recover", "--stack", "dev")
        again = prog.deploy("up", "--stack", "dev", "--yes")
        run.note(recover.stdout, recover.stderr, again.stdout, again.stderr)
        live, recorded = live_ids(server.url, run.token), prog.recorded()
    orphans, duplicates = len(set(live) - set(recorded)), max(0, len(live) - count)
    ok = recover.returncode == 0 and again.returncode == 0 and len(live) == count and recorded == live
    return Row(
        "`kill -9` of `deploy up` mid-way, then `deploy recover` and `deploy up`",
        f"{count} loads, killed with {killed_at} created",
        f"recover exit {recover.returncode}, up exit {again.returncode}; {len(live)} loads, {orphans} orphans, "
        f"{duplicates} duplicates",
        f"exactly {count}, 0 orphans, 0 duplicates", ok,
    )


# --- 5. emulator kill -9 mid-run -------------------------------------------------------------------------


@contextlib.contextmanager
def emulator_process(run: Run, data_dir: Path, port: int, run_seconds: float) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")} | {
        "IMPROVADO_EMULATOR_TOKEN": run.token, "IMPROVADO_EMULATOR_PASSWORD": run.password}
    proc = subprocess.Popen([str(SCRIPT), "emulator", "serve", "--port", str(port), "--data-dir", str(data_dir),
                             "--username", "reliability", "--run-seconds", str(run_seconds)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(300):  # bounded: 30 s
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/_emulator/health").is_success:
                    break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        out, err = proc.communicate(timeout=60)
        run.note(out, err)


def row_kill_emulator(run: Run, count: int = 6) -> Row:
    data_dir, port = run.tmp / "kill-emulator", free_port()
    url = f"http://127.0.0.1:{port}"
    with emulator_process(run, data_dir, port, run_seconds=3.0) as proc, \
            ImprovadoClient(base_url=url, token=run.token) as client:
        ids = [client.loads.create(**spec(i)).id for i in range(count)]
        for load_id in ids:
            client.loads.run(load_id)
        for _ in range(100):  # bounded: 10 s
            if any(str(client.loads.get(i).status) == "running" for i in ids):
                break
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=30)
    with emulator_process(run, data_dir, port, run_seconds=0.05), \
            ImprovadoClient(base_url=url, token=run.token) as client:
        after = [client.loads.get(i) for i in ids]
        stuck = sum(1 for load in after if str(load.status) in ("queued", "running"))
        partial = 0
        for load in after:
            rows = httpx.get(f"{url}/_emulator/connections/1/tables/{load.destination_table}/rows")
            if rows.status_code == 200 and rows.json():
                partial += 1  # a killed run wrote nothing: any row would be from a half-done write
        for load_id in ids:
            client.loads.run(load_id)
        final = [client.loads.wait(i, timeout=120) for i in ids]
        rerun_ok = sum(1 for load in final if str(load.status) == "success")
        duplicated = 0
        for load in final:
            rows = httpx.get(f"{url}/_emulator/connections/1/tables/{load.destination_table}/rows").json()
            keys = Counter(json.dumps(row, sort_keys=True) for row in rows)
            duplicated += sum(n - 1 for n in keys.values() if n > 1)
    ok = stuck == 0 and partial == 0 and rerun_ok == count and duplicated == 0
    return Row(
        "`kill -9` of the emulator while its loads run, then a restart",
        f"{count} runs in flight",
        f"{stuck} loads stuck after restart, {partial} tables with partial rows, "
        f"{rerun_ok}/{count} reruns succeed, {duplicated} duplicate rows",
        "0 stuck, 0 partial rows", ok,
    )


# --- 6. secrets ------------------------------------------------------------------------------------------


def row_secrets(run: Run, log: io.StringIO) -> Row:
    secrets = [run.token, run.password, base64.b64encode(f"reliability:{run.password}".encode()).decode()]
    texts = [*run.seen, log.getvalue()]
    files = [p for p in run.tmp.rglob("*") if p.is_file() and p.suffix not in (".sqlite3", ".lock")
             and "-wal" not in p.name and "-shm" not in p.name]  # fmt: skip
    for path in files:
        texts.append(path.read_text(errors="replace"))
    hits = sum(text.count(secret) for text in texts for secret in secrets)
    return Row(
        "secrets scan",
        f"{len(files)} files (state, stack config, backups, program) + {len(run.seen)} outputs and errors + the log",
        f"{hits} hits of the token or the passwords",
        "0", hits == 0,
    )


# --- the table -------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pulumi = subprocess.run(["pulumi", "version"], capture_output=True, text=True).stdout.strip() or "?"
    return (f"{platform.system()} {platform.release()} ({platform.machine()}), {cpu}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, Pulumi {pulumi}")


def render(rows: list[Row], took: float) -> str:
    lines = ["| what | tried | result | goal | met |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.tried} | {r.result} | {r.goal} | {'yes' if r.met else '**no**'} |" for r in rows]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([*lines, "", f"Machine: {machine()}; {when}; {took:.0f} s in all."])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loads", type=int, default=100, help="loads in the `deploy up` under faults")
    parser.add_argument("--creates", type=int, default=100, help="client creates under faults")
    parser.add_argument("--examples", type=int, default=25, help="schemathesis examples per operation and mode")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/reliability.md alone")
    args = parser.parse_args()

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="improvado-reliability-") as tmp:
        run = Run(Path(tmp), token=f"rel-token-{os.urandom(8).hex()}", password=f"rel-pw-{os.urandom(8).hex()}")
        steps: list[Callable[[], Row]] = [
            lambda: row_bad_inputs(run, args.examples),
            lambda: row_client_creates(run, args.creates),
            lambda: row_up_under_faults(run, args.loads),
            lambda: row_kill_deploy(run),
            lambda: row_kill_emulator(run),
        ]
        rows = []
        for step in steps:
            rows.append(step())
            print(f"{rows[-1].what}: {rows[-1].result}", file=sys.stderr, flush=True)
        rows.append(row_secrets(run, log))
    table = render(rows, time.monotonic() - started)
    print(table)
    if not args.no_write:
        head = DOC.read_text().split("<!-- figures -->")[0] if DOC.exists() else "# Reliability\n\n"
        DOC.write_text(f"{head}<!-- figures -->\n{table}\n")
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
