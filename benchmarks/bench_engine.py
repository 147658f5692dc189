"""The real Pulumi engine driving N loads, against its floor: the same N resources on a no-op provider.

    .venv/bin/python benchmarks/bench_engine.py [--loads 100 500] [--repeat 1] [--steps STEP ...] [--python PY]

Needs `pulumi` on PATH (scripts/ensure-pulumi). For each N, two stacks go
through the same steps, side by side (loads step, then floor step): ``up``
creating N loads, ``preview`` with no change, ``up`` changing every run policy,
``refresh`` and ``destroy``. One stack holds ``Load`` resources against an
emulator in its own process on loopback; the other ``NoopLoad`` resources
(benchmarks/noop_provider.py: no HTTP call, pickled by reference like ours).
The API calls of each step come from the emulator's request log. Each line
prints both times, their ratio and the goal next to it; nothing is asserted.

The provider processes of both stacks run one Python: by default a venv holding
only what ``improvado-loads[pulumi]`` installs, as users install it (made once and
cached, see ``benchmarks/lean_python.py``; the first run needs PyPI), with this
checkout on ``PYTHONPATH`` and its bytecode compiled first, as ``pip install``
compiles it; ``--python`` names another. The programs run inline in
this process (the Automation API's own language server), for both stacks alike.
``--steps`` prints only the named steps (``create`` and ``destroy`` always run: every
other step needs the loads ``create`` makes, and the next round's would collide with
loads left over).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

LOADS_PROGRAM = '''
import json
import pulumi
from improvado_loads import Load, LoadArgs
for name, spec in json.loads(pulumi.Config("bench").require("loads")).items():
    Load(name, LoadArgs(**spec))
'''
FLOOR_PROGRAM = '''
import json
import pulumi
from benchmarks.noop_provider import NoopLoad
for name, spec in json.loads(pulumi.Config("bench").require("loads")).items():
    NoopLoad(name, spec)
'''


@dataclass(frozen=True)
class Goal:
    """A step's goal: the largest ratio to the floor, and what the API calls must be."""

    ratio: float
    calls: Callable[[int, list[dict[str, Any]]], tuple[bool, str]]


def _writes_per_load(n: int, calls: list[dict[str, Any]]) -> tuple[bool, str]:
    writes = sum(1 for call in calls if call["method"] in WRITE_METHODS)
    return writes == n, f"{writes} writes, {len(calls) - writes} reads (goal: {n} writes)"


def _no_call(_n: int, calls: list[dict[str, Any]]) -> tuple[bool, str]:
    return not calls, f"{len(calls)} calls (goal: 0)"


def _paged_reads(n: int, calls: list[dict[str, Any]]) -> tuple[bool, str]:
    most = math.ceil(n / 100) + 3
    return len(calls) <= most, f"{len(calls)} calls (goal: ≤ ceil(N/100)+3 = {most})"


#: Each step's short name for ``--steps``.
STEP_NAMES = {"create": "up: create", "preview": "preview: no change", "update": "up: update every run policy",
              "refresh": "refresh", "destroy": "destroy"}
#: Steps that run whether chosen or not: the others need the loads of the first; the next round, the last.
ALWAYS_RUN = (STEP_NAMES["create"], STEP_NAMES["destroy"])
GOALS = {
    "up: create": Goal(1.15, _writes_per_load),
    "preview: no change": Goal(1.10, _no_call),
    "up: update every run policy": Goal(1.15, _writes_per_load),
    "refresh": Goal(1.20, _paged_reads),
    "destroy": Goal(1.15, _writes_per_load),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_process(data_dir: Path) -> Iterator[str]:
    """An emulator in its own process (as the real API is elsewhere): its URL while it runs."""
    port = _free_port()
    log = (data_dir.parent / "emulator.log").open("w")
    env = {**os.environ, "IMPROVADO_EMULATOR_TOKEN": TOKEN}
    command = [sys.executable, "-m", "improvado_loads.cli", "emulator", "serve", "--port", str(port),
               "--data-dir", str(data_dir), "--run-seconds", "0"]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        with EmulatorControl(url) as control:
            deadline = time.monotonic() + 60
            while not control.health():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the emulator did not start: see {log.name}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def load_specs(n: int, policy: str) -> dict[str, dict[str, Any]]:
    """N loads of the seeded data tables into the SQLite warehouse, one table each."""
    return {
        f"load-{i}": {"data_table_id": 1 + i % 3, "destination_connection_id": 1,
                      "destination_table": f"bench_{i}", "run_policy": policy}
        for i in range(n)
    }


def make_stack(base: Path, name: str, stack_name: str, program: str, env: dict[str, str]) -> auto.Stack:
    """A program directory and its stack on a local file backend."""
    work = base / name
    work.mkdir()
    (work / "Pulumi.yaml").write_text(f"name: bench-{name}\nruntime: python\n")
    (work / "__main__.py").write_text(program)
    state = base / f"state-{name}"
    state.mkdir()
    stack_env = {"PULUMI_BACKEND_URL": state.as_uri(), "PULUMI_CONFIG_PASSPHRASE": "bench", **env}
    return stack_for(work, stack_name, env=stack_env)


def steps(stack: auto.Stack, n: int) -> list[tuple[str, Callable[[], object]]]:
    """The measured steps, in order."""

    def up_with(policy: str) -> Callable[[], object]:
        def run() -> object:
            stack.set_config("bench:loads", auto.ConfigValue(json.dumps(load_specs(n, policy))))
            return stack.up(color="never")
        return run

    def preview() -> object:
        result = stack.preview(color="never")
        changed = {k: v for k, v in result.change_summary.items() if k != "same"}
        if changed:
            raise SystemExit(f"preview of an unchanged stack planned changes: {changed}")
        return result

    return [
        ("up: create", up_with("daily")),
        ("preview: no change", preview),
        ("up: update every run policy", up_with("hourly")),
        ("refresh", lambda: stack.refresh(color="never")),
        ("destroy", lambda: stack.destroy(color="never")),
    ]


def timed(step: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds of one step, and CPU seconds of this process (the inline program) and its children.

    The children are the engine and the provider processes it starts (counted once they exit); the
    emulator's own process is not among them until the end. CPU time varies little with the machine's load.
    """
    start, cpu = time.perf_counter(), _cpu()
    step()
    return time.perf_counter() - start, _cpu() - cpu


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(n: int, repeat: int, base: Path, python: str, checkout: dict[str, str], chosen: list[str]) -> None:
    """The chosen steps for N loads and N floor resources, ``repeat`` times; print medians and calls.

    ``python`` runs the provider processes of both stacks, with ``checkout`` (:func:`checkout_env`:
    they import this checkout, the floor's ``benchmarks.noop_provider`` too); a step not chosen is skipped, except
    creating, which every other step needs, and destroying, so the next round starts from an
    empty workspace (both run, unprinted).
    """
    with emulator_process(base / "emulator") as url, EmulatorControl(url) as control:
        provider_env = {"PULUMI_PYTHON_CMD": python, **checkout}
        api_env = {"IMPROVADO_API_URL": url, "IMPROVADO_API_TOKEN": TOKEN, **provider_env}
        times: dict[str, dict[str, list[tuple[float, float]]]] = {name: {"loads": [], "floor": []} for name in GOALS}
        calls: dict[str, list[dict[str, Any]]] = {}
        for round_ in range(repeat):
            loads = make_stack(base, f"loads-{n}-{round_}", "loads", LOADS_PROGRAM, api_env)
            floor = make_stack(base, f"floor-{n}-{round_}", "floor", FLOOR_PROGRAM, provider_env)
            for (name, loads_step), (_, floor_step) in zip(steps(loads, n), steps(floor, n), strict=True):
                if name not in chosen and name not in ALWAYS_RUN:
                    continue
                control.clear_requests()
                times[name]["loads"].append(timed(loads_step))
                calls[name] = control.requests()
                times[name]["floor"].append(timed(floor_step))
        print(f"N = {n} loads ({repeat} round{'s' if repeat > 1 else ''}, median)")
        print(f"  {'step':<30} {'loads':>8} {'floor':>8} {'ratio':>6} {'goal':>6}  {'CPU: loads':>10} "
              f"{'floor':>7} {'ratio':>6}   API calls")
        for name, goal in GOALS.items():
            if name not in chosen:
                continue
            mine, base_time = (statistics.median(w for w, _ in times[name][side]) for side in ("loads", "floor"))
            mine_cpu, base_cpu = (statistics.median(c for _, c in times[name][side]) for side in ("loads", "floor"))
            ratio = mine / base_time
            calls_ok, calls_text = goal.calls(n, calls[name])
            verdict = "ok" if ratio <= goal.ratio and calls_ok else "MISSED"
            print(f"  {name:<30} {mine:7.2f}s {base_time:7.2f}s {ratio:6.2f} ≤{goal.ratio:.2f}  {mine_cpu:9.2f}s "
                  f"{base_cpu:6.2f}s {mine_cpu / base_cpu:6.2f}   {calls_text}   {verdict}")


def main() -> None:
    """Measure each N."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, nargs="+", default=[100, 500], metavar="N")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per N (the median is printed)")
    parser.add_argument("--steps", nargs="+", choices=list(STEP_NAMES), default=list(STEP_NAMES), metavar="STEP",
                        help=f"the steps to measure, of: {' '.join(STEP_NAMES)} (default: all)")
    parser.add_argument("--python", help="the Python of the provider processes (default: a cached venv with only "
                        "improvado-loads[pulumi] installed, made on first use)")
    args = parser.parse_args()
    from benchmarks.lean_python import checkout_env, lean_python  # importable once __main__ put ROOT on sys.path

    python = args.python or str(lean_python(ROOT / "pyproject.toml"))
    checkout = checkout_env(python, ROOT, "improvado_loads", "benchmarks")
    load = os.getloadavg()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"provider processes (both stacks): {python}; programs: inline in {sys.executable}")
    chosen = [STEP_NAMES[step] for step in args.steps]
    for n in args.loads:
        with tempfile.TemporaryDirectory(prefix=f"bench-engine-{n}-") as tmp:
            measure(n, args.repeat, Path(tmp), python, checkout, chosen)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # benchmarks.noop_provider, for the floor's inline program
    main()
