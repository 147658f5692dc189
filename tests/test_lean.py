"""A lean install and a fast command line, checked through real subprocesses.

The client must work with the core dependencies alone (httpx, pydantic,
tenacity), and ``improvado-loads --help``, ``--version`` and ``loads list`` must
not import Pulumi, the emulator's web stack or the engine runner. A command
whose optional dependency is missing says, in one line, which extra to install.
Missing packages are simulated by ``sys.modules[name] = None`` in a fresh
interpreter (what ``import`` then raises is what a missing package raises).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from improvado_loads.emulator import EmulatorServer

#: Packages that only the extras bring: the client and the fast commands must import none of them.
HEAVY = ("pulumi", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "starlette", "grpc", "yaml")
ROOT = Path(__file__).resolve().parents[1]


def imported_by(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages a fresh interpreter has imported after running ``code``."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _json, sys as _sys
        print("MODULES=" + _json.dumps(sorted({name.split(".")[0] for name in _sys.modules})))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


Run = subprocess.CompletedProcess[str]


def cli_imports(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], Run]:
    """Run ``improvado-loads ARGS`` under ``-X importtime``: the top-level packages it imported, and the run."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "improvado_loads.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return modules, done


def run_blocked(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where the ``blocked`` packages cannot be imported."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_the_client_imports_no_extra() -> None:
    imported = imported_by(
        """
        import improvado_loads
        from improvado_loads import ImprovadoClient, RetryPolicy
        from improvado_loads.models import Load
        ImprovadoClient(base_url="http://127.0.0.1:9", token="t").close()
        """
    )
    assert {"httpx", "pydantic", "tenacity"} <= imported
    # (httpx itself imports click and rich, for its own command line, when they are installed.)
    assert not imported & {*HEAVY, "typer"}


def test_the_client_works_with_every_extra_missing(emulator: EmulatorServer) -> None:
    token = emulator.settings.token
    done = run_blocked(
        (*HEAVY, "typer", "rich", "click"),
        f"""
        from improvado_loads import ImprovadoClient
        with ImprovadoClient(base_url={emulator.url!r}, token={token!r}) as client:
            print(len(client.data_tables.list().to_list()), "data tables")
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "3 data tables" in done.stdout


def test_the_pulumi_names_without_pulumi_say_which_extra() -> None:
    done = run_blocked(("pulumi",), "from improvado_loads import Load")
    assert done.returncode == 1
    assert "pip install 'improvado-loads[pulumi]'" in done.stderr.splitlines()[-1]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["loads", "--help"], ["loads", "list", "--help"]])
def test_help_and_version_import_no_extra_and_no_client(args: list[str]) -> None:
    imported, done = cli_imports(args)
    assert done.returncode == 0, done.stderr
    assert not imported & set(HEAVY), imported & set(HEAVY)
    if args in (["--help"], ["--version"]):
        assert not imported & {"httpx", "pydantic", "rich", "improvado_loads.client"}


def test_loads_list_imports_no_extra(emulator: EmulatorServer) -> None:
    env = {"IMPROVADO_API_URL": emulator.url, "IMPROVADO_API_TOKEN": str(emulator.settings.token)}
    for output in ("table", "json"):
        imported, done = cli_imports(["loads", "list", "--output", output], env)
        assert done.returncode == 0, done.stderr
        assert not imported & set(HEAVY), imported & set(HEAVY)


def test_the_import_graph_through_the_console_script() -> None:
    script = Path(sys.executable).parent / "improvado-loads"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("improvado-loads ")
    assert "pulumi" not in done.stderr and "fastapi" not in done.stderr


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        (("pulumi",), ["deploy", "preview", "--stack", "dev"], "pulumi"),
        (("pulumi",), ["deploy", "--help"], "pulumi"),
        (("fastapi", "uvicorn", "sqlalchemy"), ["emulator", "serve", "--port", "0"], "emulator"),
        (("yaml",), ["export", "--help"], "cli"),
    ],
)
def test_a_command_without_its_extra_is_one_line_naming_it(
    blocked: tuple[str, ...], args: list[str], extra: str, tmp_path: Path
) -> None:
    done = run_blocked(
        blocked,
        f"""
        import os
        os.chdir({str(tmp_path)!r})
        sys.argv = ["improvado-loads", *{args!r}]
        from improvado_loads.cli import main
        main()
        """,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert f"pip install 'improvado-loads[{extra}]'" in lines[0]
    assert "Traceback" not in done.stderr


def test_the_command_line_without_its_extra_says_which() -> None:
    done = run_blocked(
        ("typer",),
        """
        sys.argv = ["improvado-loads", "--help"]
        from improvado_loads.cli import main
        main()
        """,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: the improvado-loads command line needs its optional dependencies (typer is missing): "
        "pip install 'improvado-loads[cli]'"
    ]


def test_no_import_of_a_private_module_of_a_library() -> None:
    offenders = []
    for path in sorted((ROOT / "improvado_loads").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            words = line.strip().split()
            if len(words) < 2 or words[0] not in ("import", "from") or words[1].startswith("improvado_loads"):
                continue
            if any(part.startswith("_") and part != "__future__" for part in words[1].split(".")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []



def test_the_heap_is_frozen_at_exit_only() -> None:
    """The command line skips the interpreter's last collections by freezing the heap, but only at exit."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            import atexit, gc, sys
            atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))  # runs after main's
            sys.argv = ["improvado-loads", "--version"]
            from improvado_loads.cli import main
            try:
                main()
            except SystemExit:
                pass
            print("frozen after main:", gc.get_freeze_count())
            """
        )],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["frozen after main: 0", "frozen at exit: True"], done.stdout
