"""What the command line's own process skips (improvado_loads.cli.startup), seen from inside real runs.

Each run is a fresh interpreter calling ``improvado_loads.cli.main`` (what the console
script does) against an emulator on loopback. A probe records, inside the command's
work (when it makes its client), whether the garbage collector runs and what
``PYDANTIC_DISABLE_PLUGINS`` says; it counts the collections made while ``main`` runs and
watches ``importlib.metadata.entry_points`` for pydantic's plugin scan.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from improvado_loads import ImprovadoClient
from improvado_loads.cli import startup
from improvado_loads.emulator import EmulatorServer

PROBE = textwrap.dedent(
    """
    import gc, importlib.metadata, json, os, sys

    scans = []
    _entry_points = importlib.metadata.entry_points

    def entry_points(**params):
        scans.append(params.get("group"))
        return _entry_points(**params)

    importlib.metadata.entry_points = entry_points  # before pydantic's plugin loader binds it

    from improvado_loads.client.client import ImprovadoClient

    seen = {}
    _from_env = ImprovadoClient.from_env.__func__

    def from_env(cls, **overrides):
        seen.update(collecting=gc.isenabled(), plugins=os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
        return _from_env(cls, **overrides)

    ImprovadoClient.from_env = classmethod(from_env)
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
    sys.argv = ["improvado-loads", *json.loads(sys.argv[1])]
    from improvado_loads.cli import main

    try:
        main()
    except SystemExit as exc:
        code = exc.code
    gc.callbacks.clear()
    print("PROBE=" + json.dumps({
        "code": code, "seen": seen, "collections": len(collections), "pydantic_scans": scans.count("pydantic"),
        "collecting_after": gc.isenabled(), "frozen_after": gc.get_freeze_count(),
        "plugins_after": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
    }))
    """
)


def probe(emulator: EmulatorServer, args: list[str], **env: str) -> dict[str, Any]:
    """Run ``improvado-loads ARGS`` through ``main`` in a fresh interpreter; what the probe saw."""
    environ = {k: v for k, v in os.environ.items() if k != startup.PLUGINS_ENV}
    environ.update(IMPROVADO_API_URL=emulator.url, IMPROVADO_API_TOKEN=str(emulator.settings.token), **env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=120, env=environ
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("PROBE="))
    found: dict[str, Any] = json.loads(line.removeprefix("PROBE="))
    assert found["code"] == 0, done.stderr
    return found


@pytest.fixture
def load_id(client: ImprovadoClient) -> int:
    return client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="startup_t").id


def test_a_short_lived_command_runs_without_collections_or_plugin_scan(emulator: EmulatorServer, load_id: int) -> None:
    for args in (["loads", "list"], ["loads", "get", str(load_id)], ["data-tables", "list"]):
        found = probe(emulator, args)
        assert found["seen"] == {"collecting": False, "plugins": "__all__"}, args
        assert found["collections"] == 0, args
        assert found["pydantic_scans"] == 0, args
        # main's caller gets its process back as it was: collecting, nothing frozen, no variable left
        assert found["collecting_after"] is True and found["frozen_after"] == 0, args
        assert found["plugins_after"] is None, args


def test_any_other_command_collects_and_scans_as_usual_once_its_work_begins(
    emulator: EmulatorServer, load_id: int
) -> None:
    found = probe(emulator, ["loads", "pause", str(load_id)])
    assert found["seen"] == {"collecting": True, "plugins": None}
    assert found["pydantic_scans"] == 1  # its first model validator looked for plugins
    assert found["collecting_after"] is True and found["frozen_after"] == 0


def test_the_users_own_plugin_setting_is_kept(emulator: EmulatorServer) -> None:
    found = probe(emulator, ["loads", "list"], PYDANTIC_DISABLE_PLUGINS="some_plugin")
    assert found["seen"] == {"collecting": False, "plugins": "some_plugin"}
    assert found["plugins_after"] == "some_plugin"
    assert found["pydantic_scans"] == 1  # only the named plugin is off: the scan runs


def test_an_in_process_caller_keeps_its_collector_and_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without main (the Typer app called in-process, as the tests do), nothing is paused or set."""
    monkeypatch.delenv(startup.PLUGINS_ENV, raising=False)

    @startup.short_lived
    def command() -> tuple[bool, str | None]:
        return gc.isenabled(), os.environ.get(startup.PLUGINS_ENV)

    assert gc.isenabled()
    with startup.work(command):
        assert command() == (True, None)
    assert gc.isenabled()
