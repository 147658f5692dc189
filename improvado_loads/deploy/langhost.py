"""A stand-in for Pulumi's Python language host, for machines without ``pulumi-language-python``.

The engine runs a program by calling ``Run`` on a language host. Given
``--client=<address>`` it calls the host listening there instead of starting
``pulumi-language-python``. :class:`ProgramHost` is such a host: like the real
one, it runs the program's ``__main__.py`` in a **subprocess of the project's own
Python** (``runtime.options.virtualenv`` in ``Pulumi.yaml``, else
``PULUMI_PYTHON_CMD`` or ``python3``) through Pulumi's own program runner
``pulumi-language-python-exec`` (by way of :mod:`~improvado_loads.deploy.program_runner`), so a
program's imports, errors ("Program failed with an unhandled exception: …") and exit codes are
those of ``pulumi up``, except that a call the engine refuses while it cancels is not reported as
the program's failure. What
the program prints reaches the engine as the language host's output does: as
messages of the stack resource, in the engine's display (and in ``--json``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import grpc  # type: ignore[import-untyped]
import yaml
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, language_pb2, language_pb2_grpc, plugin_pb2

__all__ = ["PROGRAM_ERROR_EXIT", "NoProjectPython", "ProgramHost", "ProjectPython", "project_python", "serve"]

#: Exit status of Pulumi's program runner after it showed the user an error (the engine bails quietly).
PROGRAM_ERROR_EXIT = 32
EXEC_SCRIPT = "pulumi-language-python-exec"
#: Runs :data:`EXEC_SCRIPT` in the program's Python (see :mod:`improvado_loads.deploy.program_runner`).
PROGRAM_RUNNER = Path(__file__).with_name("program_runner.py")
#: Popen arguments that keep the program out of the terminal's process group (3.10 has no ``process_group``).
_OWN_GROUP: dict[str, Any] = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}


class NoProjectPython(Exception):
    """The project's Python environment (or Pulumi's program runner) is missing; the message says which."""


@dataclass(frozen=True)
class ProjectPython:
    """The interpreter a project's program runs with, and the environment that goes with it."""

    executable: str
    virtualenv: Path | None

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with the virtualenv activated (``PATH``, ``VIRTUAL_ENV``), as the language host does."""
        env = dict(base)
        if self.virtualenv is not None:
            env["VIRTUAL_ENV"] = str(self.virtualenv)
            env["PATH"] = f"{self.virtualenv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
            env.pop("PYTHONHOME", None)
        return env


def project_python(work_dir: Path, environ: dict[str, str] | None = None) -> ProjectPython:
    """The project's Python, chosen as ``pulumi-language-python`` chooses it.

    ``runtime.options.virtualenv`` (relative to the project directory) wins; a
    ``uv`` toolchain means ``.venv``; else ``PULUMI_PYTHON_CMD``, else ``python3``.
    A virtualenv that is named but missing is an error naming it.
    """
    environ = dict(os.environ) if environ is None else environ
    settings = yaml.safe_load((work_dir / "Pulumi.yaml").read_text()) or {}
    runtime = settings.get("runtime")
    options: dict[str, Any] = runtime.get("options") or {} if isinstance(runtime, dict) else {}
    venv = options.get("virtualenv") or (".venv" if options.get("toolchain") == "uv" else None)
    if venv:
        path = (work_dir / str(venv)).resolve()
        python = path / "bin" / "python"
        if not python.exists():
            raise NoProjectPython(
                f"the 'virtualenv' option in {work_dir / 'Pulumi.yaml'} is {venv!r}, but {python} does not exist: "
                f"create it (python3 -m venv {path}) and install the program's requirements into it"
            )
        return ProjectPython(str(python), path)
    command = environ.get("PULUMI_PYTHON_CMD") or shutil.which("python3") or sys.executable
    return ProjectPython(command, None)


class ProgramHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The ``LanguageRuntime`` service the engine calls to run the program in ``work_dir``."""

    def __init__(self, work_dir: Path, python: ProjectPython, exec_script: str, env: dict[str, str]) -> None:
        self.work_dir = work_dir
        self.python = python
        self.exec_script = exec_script
        self.env = env
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:
        return language_pb2.GetRequiredPackagesResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo()

    def About(self, request: Any, context: Any) -> Any:
        return language_pb2.AboutResponse(executable=self.python.executable)

    def Run(self, request: Any, context: Any) -> Any:
        """Run the program once (preview or update) and report how it ended."""
        engine = request.args[0] if request.args else ""
        pwd = request.pwd or str(self.work_dir)
        program = request.program or "."
        command = [
            self.python.executable, "-u", str(PROGRAM_RUNNER), self.exec_script,
            "--monitor", request.monitor_address, "--engine", engine,
            "--project", request.project, "--stack", request.stack, "--pwd", pwd,
            "--dry_run", "true" if request.dryRun else "false",
            "--parallel", str(request.parallel), "--root_directory", str(self.work_dir),
            "--organization", request.organization or "organization",
            program,
        ]  # fmt: skip
        env = self.python.env(self.env)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        # Its own process group: a Ctrl-C at the terminal goes to the engine, which shuts the program down.
        proc = subprocess.Popen(
            command, cwd=pwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **_OWN_GROUP
        )
        with self._lock:
            self._running.add(proc)
        context.add_callback(proc.kill)  # the engine went away: the program goes too
        urn = f"urn:pulumi:{request.stack}::{request.project}::pulumi:pulumi:Stack::{request.project}-{request.stack}"
        forwarders = [
            threading.Thread(target=_forward, args=(stream, engine, urn), daemon=True)
            for stream in (proc.stdout, proc.stderr)
        ]
        for thread in forwarders:
            thread.start()
        try:
            code = proc.wait()
            for thread in forwarders:  # bounded: a grandchild may keep the pipe open
                thread.join(timeout=30)
        finally:
            with self._lock:
                self._running.discard(proc)
        if code == 0:
            return language_pb2.RunResponse()
        if code == PROGRAM_ERROR_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def kill_programs(self) -> None:
        """Kill every program still running (the engine is gone)."""
        with self._lock:
            for proc in self._running:
                proc.kill()


def _forward(stream: IO[bytes] | None, engine: str, urn: str) -> None:
    """Each line the program writes, as a message of the stack resource (here on stderr if the engine is gone)."""
    if stream is None:
        return
    channel = grpc.insecure_channel(engine) if engine else None
    stub = engine_pb2_grpc.EngineStub(channel) if channel is not None else None
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            try:
                if stub is None:
                    raise ConnectionError
                stub.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=line, urn=urn))
            except (grpc.RpcError, ConnectionError):
                sys.stderr.write(line + "\n")
    finally:
        if channel is not None:
            channel.close()


def serve(host: ProgramHost) -> tuple[grpc.Server, str]:
    """Start ``host`` on a loopback port; returns the server and its address for ``--client``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
