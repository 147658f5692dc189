"""Fixtures for the engine tests: the real Pulumi engine, a program directory, the emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient
from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorControl, EmulatorServer, EmulatorSettings

from ..conftest import EMULATOR_PASSWORD, EMULATOR_USER

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).parent / "program"
PASSPHRASE = "engine-tests-passphrase"


@pytest.fixture(scope="session", autouse=True)
def _engine_on_path(pulumi_on_path: None) -> None:
    """Every engine test needs the Pulumi CLI (see ``pulumi_on_path`` in tests/conftest.py)."""


@pytest.fixture(scope="session")
def pulumi_command(pulumi_on_path: None) -> auto.PulumiCommand:
    """The Pulumi CLI for the Automation API, made once (each new one runs ``pulumi version``)."""
    return auto.PulumiCommand()


@pytest.fixture
def emulator(emulator_settings: EmulatorSettings, token: str) -> Iterator[EmulatorServer]:
    """A fresh emulator whose only static token is ``token`` (workspace 1)."""
    with EmulatorServer(replace(emulator_settings, token=token)) as server:
        yield server


@pytest.fixture
def api(emulator: EmulatorServer, token: str) -> Iterator[ImprovadoClient]:
    """A client on the emulator, for setting up and checking what the engine did."""
    with ImprovadoClient(base_url=emulator.url, token=token) as client:
        yield client


@pytest.fixture
def workspace2_api(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    """A client on the emulator's second workspace, through the username/password exchange."""
    with ImprovadoClient(
        base_url=emulator.url, username=EMULATOR_USER, password=EMULATOR_PASSWORD, workspace_id=2
    ) as client:
        yield client


@dataclass
class Deployment:
    """One stack of the test program, driven through the Automation API.

    Its config (``pending``) is written with the test's own in :meth:`configure`, or before
    anything else uses :attr:`stack`: one ``pulumi config set-all`` (each ``pulumi`` command
    costs about 0.3 s of CPU).
    """

    bare_stack: auto.Stack
    emulator_url: str
    work_dir: Path
    state_dir: Path
    pending: dict[str, auto.ConfigValue] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)

    @property
    def stack(self) -> auto.Stack:
        """The stack, its pending config written."""
        if self.pending:
            self.bare_stack.set_all_config(self.pending)
            self.pending = {}
        return self.bare_stack

    def configure(
        self,
        *,
        loads: dict[str, Any] | None = None,
        runs: dict[str, Any] | None = None,
        lookup: dict[str, Any] | None = None,
        connections: dict[str, Any] | None = None,
        passwords: dict[str, str] | None = None,
        find: dict[str, Any] | None = None,
    ) -> None:
        """Set the program's connections, loads, runs and look-ups (stack config ``test:<name>``).

        ``passwords`` go in as a secret (``test:passwords``), as a user sets them. All in one
        ``pulumi config set-all`` (each ``pulumi`` command costs about 0.3 s of CPU).
        """
        given = {"connections": connections, "passwords": passwords, "find": find, "lookup": lookup,
                 "loads": loads, "runs": runs}
        config = {f"test:{name}": auto.ConfigValue(json.dumps(value), secret=name == "passwords")
                  for name, value in given.items() if value is not None}
        if config:
            self.bare_stack.set_all_config({**self.pending, **config})
            self.pending = {}

    def _log(self, line: str) -> None:
        self.output.append(line)

    # show_secrets=False: the result's summary leaves the stack's secret config masked (no test reads it),
    # so the Automation API's `pulumi stack history` after the command derives no key from the passphrase.
    def up(self) -> auto.UpResult:
        return self.stack.up(on_output=self._log, color="never", show_secrets=False)

    def preview(self) -> auto.PreviewResult:
        return self.stack.preview(on_output=self._log, color="never", diff=True)

    def refresh(self) -> auto.RefreshResult:
        return self.stack.refresh(on_output=self._log, color="never", show_secrets=False)

    def destroy(self) -> auto.DestroyResult:
        return self.stack.destroy(on_output=self._log, color="never", show_secrets=False)

    def resources(self, type_suffix: str = ":Load") -> list[dict[str, Any]]:
        """The resources of that type in the exported state."""
        state = self.stack.export_stack().deployment
        return [r for r in state.get("resources", []) if r["type"].endswith(type_suffix)]

    def export_without_secrets(self) -> str:
        """``pulumi stack export`` as a user runs it (secrets stay encrypted)."""
        env = {**os.environ, **self.stack.workspace.env_vars}
        return subprocess.run(
            ["pulumi", "stack", "export", "--stack", "test", "--cwd", str(self.work_dir)],
            check=True, capture_output=True, text=True, env=env,
        ).stdout

    def requests(self) -> list[dict[str, Any]]:
        """Every API request the emulator saw since the last :meth:`clear_requests`."""
        with EmulatorControl(self.emulator_url) as control:
            return control.requests()

    def writes(self) -> list[dict[str, Any]]:
        """The requests that change something."""
        return [r for r in self.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    def clear_requests(self) -> None:
        with EmulatorControl(self.emulator_url) as control:
            control.clear_requests()


def engine_env(tmp_path: Path) -> dict[str, str]:
    """A local file backend under ``tmp_path/state`` and the passphrase for its secrets."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return {"PULUMI_BACKEND_URL": state.as_uri(), "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def deployment(
    tmp_path: Path, emulator: EmulatorServer, token: str, pulumi_command: auto.PulumiCommand
) -> Iterator[Deployment]:
    """A fresh stack of a copy of the test program, configured for the emulator."""
    work_dir = tmp_path / "program"
    shutil.copytree(PROGRAM, work_dir)
    settings = (work_dir / "Pulumi.yaml").read_text().replace("../../../.venv", sys.prefix)
    (work_dir / "Pulumi.yaml").write_text(settings)
    env = engine_env(tmp_path)
    state_dir = tmp_path / "state"
    stack = stack_for(work_dir, "test", env=env, pulumi_command=pulumi_command, new=True)
    config = {"improvado:apiUrl": auto.ConfigValue(emulator.url),
              "improvado:token": auto.ConfigValue(token, secret=True)}
    yield Deployment(bare_stack=stack, emulator_url=emulator.url, work_dir=work_dir, state_dir=state_dir,
                     pending=config)
