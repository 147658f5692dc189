"""Run one ``pulumi`` command on a program directory, its output going straight to the user.

The command is the real ``pulumi`` CLI, so what it prints (the plan, the
program's errors, the engine's own messages about locks and pending operations),
its colours and its exit status are exactly those of ``pulumi``. Where Pulumi's
Python language host is not installed, the engine is pointed (``--client``) at a
:class:`~improvado_loads.deploy.langhost.ProgramHost`, which runs the program with
the project's own Python as the language host would.

Ctrl-C: the engine gets it (it cancels cleanly: in-flight operations finish and
are recorded, nothing new starts, the stack is unlocked); this process only
notes it, so no Python traceback interrupts the engine's output. On a terminal
pulumi's display reads the keyboard itself (raw mode), so a Ctrl-C typed there
reaches the engine alone: the engine's own record of the run (its event log)
says whether it was cancelled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["EngineRun", "has_language_host", "run_pulumi"]

#: Engine commands that run the program (and so need a language host).
PROGRAM_COMMANDS = ("preview", "up", "refresh", "destroy")


def has_language_host() -> bool:
    """Whether ``pulumi-language-python`` is on PATH (so plain ``pulumi up`` works too)."""
    return shutil.which("pulumi-language-python") is not None


@dataclass
class EngineRun:
    """How one ``pulumi`` command ended."""

    returncode: int
    interrupted: bool = False


@contextmanager
def _host_address(work_dir: Path, env: dict[str, str]) -> Iterator[str | None]:
    if has_language_host():
        yield None
        return
    from improvado_loads.deploy.langhost import EXEC_SCRIPT, NoProjectPython, ProgramHost, project_python, serve

    python = project_python(work_dir, env)
    # The dynamic providers' launcher reads these (the language host would have set them).
    if python.virtualenv is not None:
        env["PULUMI_RUNTIME_VIRTUALENV"] = str(python.virtualenv)
    else:
        env["PULUMI_PYTHON_CMD"] = python.executable
    exec_script = shutil.which(EXEC_SCRIPT, path=env.get("PATH"))
    if exec_script is None:
        raise NoProjectPython(
            f"neither pulumi-language-python nor {EXEC_SCRIPT} is on PATH: install Pulumi (see the README)"
        )
    host = ProgramHost(work_dir, python, exec_script, env)
    server, address = serve(host)
    try:
        yield address
    finally:
        host.kill_programs()
        server.stop(None)


@contextmanager
def _interrupts_noted(run: EngineRun) -> Iterator[None]:
    """While the engine runs, Ctrl-C is the engine's: here it is only noted."""

    def note(_signum: int, _frame: FrameType | None) -> None:
        run.interrupted = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_pulumi(
    args: Sequence[str],
    work_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
) -> tuple[EngineRun, str]:
    """Run ``pulumi <args> --cwd work_dir``; the output goes to the terminal unless ``capture``.

    Returns how it ended and, with ``capture``, its stdout (stderr still goes to the user).
    """
    full_env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "1", **(env or {})}
    command = ["pulumi", *args, "--cwd", str(work_dir)]
    run = EngineRun(returncode=0)
    needs_program = bool(args) and args[0] in PROGRAM_COMMANDS
    with (
        _host_address(work_dir, full_env) if needs_program else _no_host() as address,
        tempfile.TemporaryDirectory(prefix="improvado-loads-events-") as scratch,
    ):
        engine_env = full_env
        events = Path(scratch) / "events.jsonl"
        if address is not None:
            command.append(f"--client={address}")
        if needs_program:  # --event-log is offered with PULUMI_DEBUG_COMMANDS (as the Automation API sets it)
            command += ["--event-log", str(events)]
            engine_env = {**full_env, "PULUMI_DEBUG_COMMANDS": "true"}
        with _interrupts_noted(run):
            proc = subprocess.Popen(command, env=engine_env, stdout=subprocess.PIPE if capture else None, text=True)
            out, _ = proc.communicate()
        run.returncode = proc.returncode
        run.interrupted = run.interrupted or _engine_cancelled(events)
    return run, out or ""


#: How the engine's cancellation announces itself (its message on the first Ctrl-C or SIGTERM).
_CANCELLING = ("received; cancelling", "received; terminating")


def _engine_cancelled(event_log: Path) -> bool:
    """Whether the engine's event log shows that it was interrupted (a Ctrl-C it read itself)."""
    try:
        lines = event_log.read_text(errors="replace").splitlines()
    except OSError:
        return False
    for line in lines:
        if not any(words in line for words in _CANCELLING):
            continue  # most lines are resource events: parse only the few that may be the message
        try:
            event = json.loads(line)
        except ValueError:
            continue
        message = (event.get("stdoutEvent") or {}).get("message", "") if isinstance(event, dict) else ""
        if isinstance(message, str) and any(words in message for words in _CANCELLING):
            return True
    return False


@contextmanager
def _no_host() -> Iterator[None]:
    yield None
