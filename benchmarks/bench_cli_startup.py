"""Start-up time of the command line against a bare ``import httpx, pydantic``; prints figures.

    .venv/bin/python benchmarks/bench_cli_startup.py [--rounds 7] [--pieces]

Each round runs, one after the other, the floor (``python -c 'import httpx, pydantic'``)
and each command through the installed ``improvado-loads`` script: ``--help``,
``--version`` and ``loads list`` (against a local emulator holding 5 loads).
Prints the median wall time of each and its ratio to the floor's median, next to
the goal (≤ 1.3×), and the same for CPU time (user + system), which a busy shared
machine disturbs less. Also lists any heavy package a command imported (there
should be none). For reference it measures two more programs: the same bare import
plus one pydantic model validating one object, the least that any command reading
the API with typed models pays; and the libraries' least for ``loads list``
(:data:`LIBRARY_FLOOR`): Typer imported and one option validated as Typer 0.29 does
it (a pydantic ``TypeAdapter``), one model, one GET on the emulator through an httpx
client and a one-cell Rich table, run as the command line runs (collector paused, pydantic's plugin scan
skipped, heap frozen at exit). What ``loads list`` costs beyond that is this package's.
With ``--pieces`` it also times the floor's program run that way with each piece that
``loads list`` adds (Typer, pydantic's machinery, this package's modules, tenacity,
httpcore...), one added at a time: where the time goes before the command does anything.

The package's bytecode is compiled first, as ``pip install`` does: an editable
install run with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile the
package's source at every run, which no installed copy does (and the floor's
site-packages never do). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import improvado_loads
from improvado_loads import ImprovadoClient, contract
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

GOAL = 1.3
TOKEN = "bench-token"
HEAVY = ("pulumi", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "grpc")
SCRIPT = Path(sys.executable).parent / "improvado-loads"
FLOOR = [sys.executable, "-c", "import httpx, pydantic"]
MODEL_FLOOR = [
    sys.executable,
    "-c",
    "import httpx, pydantic\nclass M(pydantic.BaseModel):\n    id: int\nM.model_validate({'id': 1})",
]
#: The floor's imports run as the command line runs a short-lived command (collector paused, heap
#: frozen at exit, no pydantic plugin scan): the start of LIBRARY_FLOOR and of every ``--pieces`` program.
PIECE_PRELUDE = (
    "import atexit, gc, os\ngc.disable()\natexit.register(gc.freeze)\n"
    "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\nimport httpx, pydantic\n"
)
#: The libraries' least for ``loads list`` (``{url}``: the emulator's list of loads), run as the command line runs.
LIBRARY_FLOOR = PIECE_PRELUDE + """\
import typer
pydantic.TypeAdapter(int).validate_python("5")
class M(pydantic.BaseModel):
    count: int
with httpx.Client(verify=False) as client:
    page = M.model_validate(client.get("{url}", headers={{"Authorization": "Bearer {token}"}}).json())
from rich.console import Console
from rich.table import Table
table = Table("count")
table.add_row(str(page.count))
Console(emoji=False).print(table)
"""

#: ``--pieces``: the floor's program with one piece added at a time, run as the command line runs.
PIECES = {
    "piece: floor without its collections": "",
    "piece: + import typer": "import typer",
    "piece: + pydantic's machinery": (  # what Typer's option validation and any typed model need
        "pydantic.TypeAdapter(int).validate_python('5')\n"
        "class M(pydantic.BaseModel):\n    count: int\nM.model_validate({'count': 5})"
    ),
    "piece: + CLI modules, load models": "import improvado_loads.cli.root, improvado_loads.cli.loads",
    "piece: + tenacity": "import tenacity",
    "piece: + client, httpcore, h11, rich.table": "import improvado_loads.client.client, httpcore, h11, rich.table",
}


def pieces() -> dict[str, list[str]]:
    """The ``--pieces`` programs: each adds its piece to all the ones before it."""
    programs: dict[str, list[str]] = {}
    code = PIECE_PRELUDE
    for name, piece in PIECES.items():
        code += piece + "\n"
        programs[name] = [sys.executable, "-c", code]
    return programs


def wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds one run of ``command`` takes: wall time and CPU time (user + system); it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    """The heavy top-level packages that ``improvado-loads ARGS`` imports (from ``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=True
    )
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(names & set(HEAVY))


def main() -> None:
    """Measure every command against the floor, in paired rounds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--pieces", action="store_true", help="also time the floor's program with each piece loads list adds"
    )
    args = parser.parse_args()
    compileall.compile_dir(str(Path(improvado_loads.__file__).parent), quiet=1)
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(
        EmulatorSettings(data_dir=Path(tmp), port=0, token=TOKEN, run_seconds=0.0)
    ) as server:
        with ImprovadoClient(base_url=server.url, token=TOKEN) as client:
            for i in range(5):
                client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"bench_{i}")
        env = {**os.environ, "IMPROVADO_API_URL": server.url, "IMPROVADO_API_TOKEN": TOKEN}
        library_floor = LIBRARY_FLOOR.format(url=server.url + contract.LOADS_PATH, token=TOKEN)
        commands = {
            "improvado-loads --help": [str(SCRIPT), "--help"],
            "improvado-loads --version": [str(SCRIPT), "--version"],
            "improvado-loads loads list": [str(SCRIPT), "loads", "list"],
            "reference: bare import + one pydantic model": MODEL_FLOOR,
            "reference: libraries' least for loads list": [sys.executable, "-c", library_floor],
            **(pieces() if args.pieces else {}),
        }
        wall(FLOOR, env)  # warm the file system caches once
        for command in commands.values():
            wall(command, env)
        floor: list[tuple[float, float]] = []
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            floor.append(wall(FLOOR, env))
            for name, command in commands.items():
                times[name].append(wall(command, env))
        heavy = {
            name: heavy_imports(command[1:], env) for name, command in commands.items() if command[0] == str(SCRIPT)
        }

    load_after = os.getloadavg()
    print(
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs)"
    )
    base_wall = statistics.median(run[0] for run in floor)
    base_cpu = statistics.median(run[1] for run in floor)
    label = "python -c 'import httpx, pydantic' (floor)"
    print(f"{label:<44} wall {base_wall * 1000:7.1f} ms        cpu {base_cpu * 1000:7.1f} ms        (n={args.rounds})")
    for name, runs in times.items():
        med_wall = statistics.median(run[0] for run in runs)
        med_cpu = statistics.median(run[1] for run in runs)
        ratio_wall, ratio_cpu = med_wall / base_wall, med_cpu / base_cpu
        verdict = "ok" if ratio_wall <= GOAL else "over"
        imported = ", ".join(heavy[name]) or "none" if name in heavy else "-"
        print(
            f"{name:<44} wall {med_wall * 1000:7.1f} ms {ratio_wall:4.2f}x   cpu {med_cpu * 1000:7.1f} ms "
            f"{ratio_cpu:4.2f}x   goal <= {GOAL}x (wall): {verdict if name in heavy else '-'};  "
            f"heavy imports: {imported}"
        )


if __name__ == "__main__":
    main()
