"""``recover_state``: each kind of pending operation settled against the emulator.

The engine test (tests/engine/test_deploy_cli.py) kills a real ``deploy up``; here
each case is built by hand so that every branch is seen once.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from improvado_loads import ImprovadoClient
from improvado_loads.deploy.recover import LOAD_TYPE, recover_state
from improvado_loads.deploy.stacks import StackLock
from improvado_loads.emulator import EmulatorServer
from improvado_loads.errors import ImprovadoError

from .conftest import EMULATOR_TOKEN

STACK = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN) as client:
        yield client


def resource(name: str, table: str, id_: str | None = None, type_: str = LOAD_TYPE) -> dict[str, Any]:
    inputs = {"__provider": "pickled", "data_table_id": 1, "destination_connection_id": 1,
              "destination_table": table, "run_policy": "manual", "load_historical_data": False,
              "adopt_load_id": None, "deletion_policy": "delete"}  # fmt: skip
    res: dict[str, Any] = {"urn": f"urn:pulumi:dev::p::{type_}::{name}", "custom": True, "type": type_,
                           "inputs": inputs, "parent": STACK}  # fmt: skip
    if id_ is not None:
        res["id"] = id_
        res["outputs"] = {**inputs, "load_id": int(id_)}
    return res


def test_every_pending_operation_is_settled(api: ImprovadoClient) -> None:
    made = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="made")
    kept = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="kept")
    state = {
        "version": 3,
        "deployment": {
            "resources": [resource("kept", "kept", str(kept.id)), resource("gone", "gone", "999")],
            "pending_operations": [
                {"type": "creating", "resource": resource("made", "made")},
                {"type": "creating", "resource": resource("never", "never")},
                {"type": "creating", "resource": resource("run", "x", type_="pulumi-python:dynamic/improvado:LoadRun")},
                {"type": "deleting", "resource": resource("gone", "gone", "999")},
                {"type": "deleting", "resource": resource("kept", "kept", str(kept.id))},
                {"type": "updating", "resource": resource("kept", "kept", str(kept.id))},
            ],
        },
    }
    recovery = recover_state(state, api)
    deployment = recovery.state["deployment"]
    assert "pending_operations" not in deployment and "pending_operations" in state["deployment"]  # a copy
    by_name = {r["urn"].rsplit("::", 1)[-1]: r for r in deployment["resources"]}
    assert set(by_name) == {"kept", "made"}
    assert by_name["made"]["id"] == str(made.id)
    outputs = by_name["made"]["outputs"]
    assert outputs["load_id"] == made.id and outputs["status"] == str(made.status)
    assert outputs["__provider"] == "pickled" and outputs["destination_table"] == "made"
    lines = "\n".join(recovery.lines)
    assert f"made: load {made.id} was created before the crash; recorded in the stack" in lines
    assert "never: its create never reached the API; the next `up` creates it" in lines
    assert "run (pulumi-python:dynamic/improvado:LoadRun): its create was interrupted" in lines
    assert "gone: load 999 is gone; removed from the stack" in lines
    assert f"kept: load {kept.id} still exists; it stays in the stack" in lines
    assert "kept: an interrupted updating was cleared" in lines

    again = recover_state(recovery.state, api)
    assert not again.changed and again.state == recovery.state


def test_a_load_already_recorded_is_not_recorded_twice(api: ImprovadoClient) -> None:
    load = api.loads.create(data_table_id=1, destination_connection_id=1, destination_table="t")
    state = {"deployment": {"resources": [resource("a", "t", str(load.id))],
                            "pending_operations": [{"type": "creating", "resource": resource("b", "t")}]}}  # fmt: skip
    recovery = recover_state(state, api)
    assert [r["urn"].rsplit("::", 1)[-1] for r in recovery.state["deployment"]["resources"]] == ["a"]
    assert recovery.lines == [f"b: load {load.id} is already recorded as a; nothing to add"]


def test_wrong_credentials_fail_instead_of_passing_for_not_found(emulator: EmulatorServer) -> None:
    pending = [{"type": "creating", "resource": resource("a", "t")}]
    state = {"deployment": {"resources": [], "pending_operations": pending}}
    with ImprovadoClient(base_url=emulator.url, token="not-the-token") as wrong:
        with pytest.raises(ImprovadoError) as caught:
            recover_state(state, wrong)
    assert "not-the-token" not in str(caught.value)


def test_a_connection_create_names_the_adoption_that_takes_it_over(api: ImprovadoClient) -> None:
    made = api.destination_connections.create(
        destination_name="sqlite", title="Warehouse", connection_params={"database": "wh"}
    )
    connection = "pulumi-python:dynamic/improvado:DestinationConnection"
    pending = [
        {"type": "creating", "resource": {"urn": f"urn:pulumi:dev::p::{connection}::wh", "type": connection,
                                          "inputs": {"destination_name": "sqlite", "title": "Warehouse"}}},
        {"type": "creating", "resource": {"urn": f"urn:pulumi:dev::p::{connection}::other", "type": connection,
                                          "inputs": {"destination_name": "sqlite", "title": "Not there"}}},
    ]  # fmt: skip
    recovery = recover_state({"deployment": {"resources": [], "pending_operations": pending}}, api)
    assert recovery.state["deployment"]["resources"] == []  # nothing recorded blindly
    assert recovery.lines == [
        f"wh: a sqlite connection titled 'Warehouse' exists (id {made.id}) and may be the one this create made: "
        f"set adopt_connection_id={made.id} on it for the next `up`, or delete that connection",
        "other: its create never reached the API; the next `up` creates it",
    ]


def test_a_lock_holder_that_exited_unreaped_is_not_alive(tmp_path: Path) -> None:
    """kill -9 leaves a zombie until something reaps it; it must not count as an update still running."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    lock = StackLock(tmp_path / "lock.json", pid=holder.pid, hostname=socket.gethostname())
    try:
        assert lock.holder_alive()
        holder.kill()
        deadline = time.monotonic() + 10  # the zombie appears once the kernel has delivered the signal
        while lock.holder_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not lock.holder_alive()
        assert Path(f"/proc/{holder.pid}").exists()  # still unreaped: a zombie, not gone
    finally:
        holder.kill()
        holder.wait()
