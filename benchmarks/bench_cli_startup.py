"""Start-up time of the command line against a bare ``import httpx, pydantic``; prints figures.

    .venv/bin/python benchmarks/bench_cli_startup.py [--rounds 7] [--pieces] [--python PY]

Everything runs as users install the command line: in a venv with only
``improvado-loads[cli]``'s dependencies (made once and cached, see
``benchmarks/lean_python.py``; the first run needs PyPI), this checkout on
``PYTHONPATH`` and ``improvado-loads`` started by the console script pip writes.
That matters: where click is installed (the ``[dev]`` venv has it, through
uvicorn), ``import httpx`` also imports httpx's own command line (click,
Pygments, Rich's console), about 30 ms that the floor would pay and that
covers Rich, which ``loads list`` needs; a ``[cli]`` install has no click.
``--python`` names another Python (its output says which ran).

Each round runs, one after the other, the floor (``python -c 'import httpx, pydantic'``)
and each command: ``--help``, ``--version`` and ``loads list`` (against a local
emulator holding 5 loads). Prints the median wall time of each and its ratio to the
floor's median, next to the goal (≤ 1.3×), and the same for CPU time (user + system),
which a busy shared machine disturbs less. Also lists any heavy package a command
imported (there should be none). For reference it measures two more programs: the
same bare import plus one pydantic model validating one object, the least that any
command reading the API with typed models pays; and the libraries' least for
``loads list`` (:data:`LIBRARY_FLOOR`): a Typer command with one option, one model,
one GET on the emulator through an httpx client and a one-cell Rich table, run as the
command line runs (collector paused, pydantic's plugin scan skipped, heap frozen at
exit). What ``loads list`` costs beyond that is this package's.
With ``--pieces`` it also times the floor's program run that way with each piece that
``loads list`` adds (Typer, pydantic's machinery, this package's modules, tenacity,
httpcore...), one added at a time: where the time goes before the command does anything.

The package's bytecode is compiled first, as ``pip install`` does: run with
``PYTHONDONTWRITEBYTECODE`` set, a source tree would otherwise be compiled at
every run, which no installed copy is (and the floor's site-packages never are).
The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from improvado_loads import ImprovadoClient, contract
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

GOAL = 1.3
TOKEN = "bench-token"
HEAVY = ("pulumi", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "grpc")
ROOT = Path(__file__).resolve().parents[1]
#: The console script pip writes for ``improvado-loads`` (``[project.scripts]``), ``{python}`` its shebang.
CONSOLE_SCRIPT = """#!{python}
import sys
from improvado_loads.cli import main
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit(main())
"""
FLOOR = "import httpx, pydantic"
LIST = "improvado-loads loads list"
LEAST = "reference: libraries' least for loads list"
MODEL_FLOOR = "import httpx, pydantic\nclass M(pydantic.BaseModel):\n    id: int\nM.model_validate({'id': 1})"
#: The floor's imports run as the command line runs a short-lived command (collector paused, heap
#: frozen at exit, no pydantic plugin scan): the start of LIBRARY_FLOOR and of every ``--pieces`` program.
PIECE_PRELUDE = (
    "import atexit, gc, os\ngc.disable()\natexit.register(gc.freeze)\n"
    "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\nimport httpx, pydantic\n"
)
#: The libraries' least for ``loads list`` (``{url}``: the emulator's list of loads), run as the command line runs:
#: a Typer command with one option (Typer 0.29 validates it through a pydantic ``TypeAdapter``), one model,
#: one GET (no CA bundle loaded, as the client loads it only for TLS) and a one-cell Rich table.
LIBRARY_FLOOR = PIECE_PRELUDE + """\
import typer
app = typer.Typer(add_completion=False)
@app.command()
def main(limit: int = 100) -> None:
    class M(pydantic.BaseModel):
        count: int
    with httpx.Client(verify=False) as client:
        answer = client.get("{url}", params={{"limit": limit}}, headers={{"Authorization": "Bearer {token}"}})
        page = M.model_validate(answer.json())
    from rich.console import Console
    from rich.table import Table
    table = Table("count")
    table.add_row(str(page.count))
    Console(emoji=False).print(table)
app()
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


def pieces(python: str) -> dict[str, list[str]]:
    """The ``--pieces`` programs: each adds its piece to all the ones before it."""
    programs: dict[str, list[str]] = {}
    code = PIECE_PRELUDE
    for name, piece in PIECES.items():
        code += piece + "\n"
        programs[name] = [python, "-c", code]
    return programs


def wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds one run of ``command`` takes: wall time and CPU time (user + system); it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(python: str, command: list[str], env: dict[str, str]) -> list[str]:
    """The heavy top-level packages that ``command`` (the console script and its arguments) imports."""
    done = subprocess.run([python, "-X", "importtime", *command], env=env, capture_output=True, text=True, check=True)
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(names & set(HEAVY))


def main() -> None:
    """Measure every command against the floor, in paired rounds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--pieces", action="store_true", help="also time the floor's program with each piece loads list adds"
    )
    parser.add_argument("--python", help="the Python to run everything with (default: a cached venv with only "
                        "improvado-loads[cli]'s dependencies, as users install the command line)")  # fmt: skip
    args = parser.parse_args()
    from benchmarks.lean_python import checkout_env, lean_python  # importable once __main__ put ROOT on sys.path

    python = args.python or str(lean_python(ROOT / "pyproject.toml", "cli"))
    checkout = checkout_env(python, ROOT, "improvado_loads")
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(
        EmulatorSettings(data_dir=Path(tmp), port=0, token=TOKEN, run_seconds=0.0)
    ) as server:
        with ImprovadoClient(base_url=server.url, token=TOKEN) as client:
            for i in range(5):
                client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"bench_{i}")
        script = Path(tmp) / "improvado-loads"
        script.write_text(CONSOLE_SCRIPT.format(python=python))
        script.chmod(0o755)
        env = {
            **os.environ,
            "IMPROVADO_API_URL": server.url,
            "IMPROVADO_API_TOKEN": TOKEN,
            **checkout,
        }
        library_floor = LIBRARY_FLOOR.format(url=server.url + contract.LOADS_PATH, token=TOKEN)
        floor = [python, "-c", FLOOR]
        commands = {
            "improvado-loads --help": [str(script), "--help"],
            "improvado-loads --version": [str(script), "--version"],
            LIST: [str(script), "loads", "list"],
            "reference: bare import + one pydantic model": [python, "-c", MODEL_FLOOR],
            LEAST: [python, "-c", library_floor],
            **(pieces(python) if args.pieces else {}),
        }
        wall(floor, env)  # warm the file system caches once
        for command in commands.values():
            wall(command, env)
        floor_runs: list[tuple[float, float]] = []
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            floor_runs.append(wall(floor, env))
            for name, command in commands.items():
                times[name].append(wall(command, env))
        heavy = {
            name: heavy_imports(python, command, env) for name, command in commands.items() if command[0] == str(script)
        }

    load_after = os.getloadavg()
    print(
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs); python: {python}"
    )
    base_wall = statistics.median(run[0] for run in floor_runs)
    base_cpu = statistics.median(run[1] for run in floor_runs)
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
    ours = statistics.median(run[0] for run in times[LIST]) - statistics.median(run[0] for run in times[LEAST])
    print(f"this package's own share of loads list (loads list - the libraries' least): {ours * 1000:.1f} ms wall")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # benchmarks.lean_python
    main()
