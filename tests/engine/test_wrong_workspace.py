"""A 404 seen with the credentials of another workspace is not proof that a load is gone (real engine)."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient
from improvado_loads.client import ENV_VARS

from ..conftest import EMULATOR_PASSWORD, EMULATOR_USER
from .conftest import Deployment

LOADS = {
    f"ads{i}": {"data_table_id": 1, "destination_connection_id": 1, "destination_table": f"ads_{i}",
                "run_policy": "daily"}
    for i in range(5)
}


def use_environment(deployment: Deployment, **credentials: str) -> None:
    """Credentials from ``IMPROVADO_*`` variables only (as in CI), none in stack config.

    The engine hands a refresh the provider config recorded at the last ``up``; environment
    variables are read fresh by each provider process, which is how a refresh meets the
    credentials of another workspace.
    """
    for key in ("token", "username", "password", "workspaceId"):
        deployment.stack.remove_config(f"improvado:{key}")
    env = deployment.stack.workspace.env_vars
    for name in ENV_VARS.values():
        if name != "IMPROVADO_API_URL":
            env.pop(name, None)
    env.update({ENV_VARS[k]: v for k, v in credentials.items()})


def test_refresh_and_destroy_with_another_workspace_keep_every_load(
    deployment: Deployment, api: ImprovadoClient, token: str
) -> None:
    use_environment(deployment, token=token)
    deployment.configure(loads=LOADS)
    deployment.up()
    assert len(deployment.resources()) == 5

    use_environment(deployment, username=EMULATOR_USER, password=EMULATOR_PASSWORD, workspace_id="2")
    deployment.clear_requests()
    with pytest.raises(auto.CommandError) as refresh:
        deployment.refresh()
    assert "its data table 1 is not visible to these credentials" in str(refresh.value)
    assert "the stack keeps load" in str(refresh.value)
    assert len(deployment.resources()) == 5

    with pytest.raises(auto.CommandError) as destroy:
        deployment.destroy()
    assert "the deletion stops here" in str(destroy.value)
    assert len(deployment.resources()) == 5
    # The DELETEs reached nothing (404 in workspace 2); every load is still there.
    assert {r["status"] for r in deployment.writes() if not r["path"].endswith("/token")} == {404}
    assert len(api.loads.list().to_list()) == 5

    use_environment(deployment, token=token)
    deployment.clear_requests()
    assert deployment.up().summary.resource_changes == {"same": 6}
    assert deployment.writes() == []
    assert len(deployment.resources()) == 5 and len(api.loads.list().to_list()) == 5


def test_a_connection_seen_404_by_another_workspace_stays_in_the_stack_and_in_improvado(
    deployment: Deployment, api: ImprovadoClient, token: str
) -> None:
    use_environment(deployment, token=token)
    deployment.configure(connections={"wh": {"destination_name": "sqlite", "title": "Kept",
                                             "connection_params": {"database": "kept.sqlite3"}}})
    conn_id = deployment.up().outputs["wh"].value["connection_id"]

    use_environment(deployment, username=EMULATOR_USER, password=EMULATOR_PASSWORD, workspace_id="2")
    with pytest.raises(auto.CommandError) as refresh:
        deployment.refresh()
    assert f"destination connection {conn_id} answers 404" in str(refresh.value)
    assert f"the stack keeps destination connection {conn_id}" in str(refresh.value)
    assert len(deployment.resources(":DestinationConnection")) == 1
    with pytest.raises(auto.CommandError) as destroy:
        deployment.destroy()
    assert f"the stack keeps destination connection {conn_id}" in str(destroy.value)
    assert len(deployment.resources(":DestinationConnection")) == 1
    assert api.destination_connections.get("sqlite", conn_id).title == "Kept"
