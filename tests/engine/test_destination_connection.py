"""DestinationConnection through the real Pulumi engine, the emulator and a real PostgreSQL (issue 9)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient, NotFoundError

from .conftest import Deployment


@pytest.fixture
def role(postgres_dsn: str, postgres_params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A PostgreSQL login of its own (with its own schema), so its password can be rotated."""
    name = f"pulumi_{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_hex(12)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        db.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
    yield {"name": name, "password": password, "params": {
        "host": postgres_params["host"], "port": postgres_params["port"], "database": postgres_params["database"],
        "user": name, "schema": name}}
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {name} CASCADE")
        db.execute(f"DROP ROLE {name}")


def set_password(postgres_dsn: str, role: str, password: str) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"ALTER ROLE {role} PASSWORD '{password}'")


def rows_in(postgres_dsn: str, table: str) -> int:
    with psycopg.connect(postgres_dsn) as db:
        found = db.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(found[0]) if found else 0


def connection_state(deployment: Deployment) -> dict[str, Any]:
    [state] = deployment.resources(":DestinationConnection")
    return state


def test_postgres_connection_from_failed_test_to_rows_rotation_and_title(
    deployment: Deployment, api: ImprovadoClient, role: dict[str, Any], postgres_dsn: str
) -> None:
    warehouse = {"destination_name": "postgresql", "title": "Pulumi warehouse", "connection_params": role["params"],
                 "secret_password": True}
    load = {"data_table_id": 1, "connection": "wh", "destination_table": "ads", "run_policy": "manual"}
    wrong, right, rotated = f"wrong-{secrets.token_hex(8)}", role["password"], f"pw-{secrets.token_hex(12)}"

    # 1. A wrong password: the connection is recorded with status error (no orphan), a warning
    #    names it, and the load into it is refused with the reason.
    deployment.configure(connections={"wh": warehouse}, passwords={"wh": wrong}, loads={"ads": load})
    with pytest.raises(auto.CommandError) as refused:
        deployment.up()
    [conn] = api.destination_connections.find_by_title("postgresql", "Pulumi warehouse")
    assert conn.status == "error" and conn.status_message
    state = connection_state(deployment)
    assert state["id"] == str(conn.id) and state["outputs"]["status"] == "error"
    assert state["outputs"]["status_message"] == conn.status_message
    assert (f"Improvado refused the load: Destination connection {conn.id} is not active (its status is "
            f"'error': {conn.status_message}") in str(refused.value)
    # A real engine warning (counted as one), naming the destination and the driver's message.
    assert any(line.strip().startswith("warning: destination connection 'Pulumi warehouse' (postgresql")
               and f"status is error: {conn.status_message}" in line for line in deployment.output)
    assert any("1 warning" in line for line in deployment.output)
    assert api.loads.list().to_list() == []
    assert len([c for c in api.destination_connections.list_all() if c.title == "Pulumi warehouse"]) == 1

    # 2. The password fixed: up tests it again (an update, the same connection), the load is created
    #    and its run moves rows into that PostgreSQL.
    deployment.configure(passwords={"wh": right},
                         runs={"fill": {"load": "ads", "date_from": "2000-01-01", "date_to": "2100-01-01"}})
    assert deployment.preview().change_summary == {"same": 1, "update": 1, "create": 2}
    result = deployment.up()
    assert result.summary.resource_changes == {"same": 1, "update": 1, "create": 2}
    assert result.outputs["wh"].value["status"] == "active" and result.outputs["wh"].value["connection_id"] == conn.id
    assert result.outputs["ads"].value["destination_connection_id"] == conn.id
    assert result.outputs["fill"].value["status"] == "success"
    assert rows_in(postgres_dsn, f"{role['name']}.ads") == result.outputs["fill"].value["rows"] > 0
    deployment.clear_requests()
    assert deployment.preview().change_summary == {"same": 4}  # no perpetual diff
    deployment.refresh()
    assert deployment.preview().change_summary == {"same": 4}  # nor after a refresh
    assert deployment.writes() == []

    # 3. Password rotation: an in-place reauthorize of the same connection, never a replacement.
    set_password(postgres_dsn, role["name"], rotated)
    deployment.configure(passwords={"wh": rotated})
    seen = len(deployment.output)
    assert deployment.preview().change_summary == {"same": 3, "update": 1}  # the load and its run stay
    assert re.search(r"secret_params\s*: \[secret\]", "\n".join(deployment.output[seen:]))
    deployment.clear_requests()
    result = deployment.up()
    assert result.summary.resource_changes == {"same": 3, "update": 1}
    base = f"/api/v3/destinations/postgresql/connections/{conn.id}"
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PUT", base)]
    assert api.destination_connections.get("postgresql", conn.id).status == "active"

    # 4. A title change: one PATCH, the same connection.
    deployment.configure(connections={"wh": {**warehouse, "title": "Pulumi warehouse v2"}})
    deployment.clear_requests()
    assert deployment.up().summary.resource_changes == {"same": 3, "update": 1}
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PATCH", base)]
    assert api.destination_connections.get("postgresql", conn.id).title == "Pulumi warehouse v2"

    # 5. No password anywhere: state, `pulumi stack export`, files on disk, engine output, emulator log.
    exported = deployment.export_without_secrets()
    on_disk = [p.read_text(errors="replace") for p in deployment.state_dir.rglob("*") if p.is_file()]
    stack_config = (deployment.work_dir / "Pulumi.test.yaml").read_text()
    requests = str(deployment.requests())
    for password in (wrong, right, rotated):
        assert password not in exported and password not in stack_config and password not in requests
        assert all(password not in text for text in on_disk)
        assert all(password not in line for line in deployment.output)
    [exported_conn] = [r for r in json.loads(exported)["deployment"]["resources"]
                       if r["type"].endswith(":DestinationConnection")]
    for where in ("inputs", "outputs"):
        assert "ciphertext" in exported_conn[where]["secret_params"]  # a Pulumi secret
        assert exported_conn[where]["connection_params"]["user"] == role["name"]  # the rest stays readable

    # 6. Deleted out of band: refresh drops it from the stack (the load stays), and up makes a new one.
    api.destination_connections.delete("postgresql", conn.id)
    deployment.refresh()
    assert deployment.resources(":DestinationConnection") == []
    assert len(deployment.resources(":Load")) == 1
    result = deployment.up()
    new_id = result.outputs["wh"].value["connection_id"]
    assert new_id != conn.id and result.outputs["wh"].value["status"] == "active"
    assert result.outputs["ads"].value["destination_connection_id"] == new_id
    # The new connection's load writes on into the table the deleted one created (replaced, not doubled).
    assert result.outputs["fill"].value["status"] == "success"
    assert rows_in(postgres_dsn, f"{role['name']}.ads") == result.outputs["fill"].value["rows"] > 0
    assert deployment.preview().change_summary == {"same": 4}


def test_adopted_connection_then_destination_change_replaces_then_recheck(
    deployment: Deployment, api: ImprovadoClient, role: dict[str, Any], postgres_dsn: str
) -> None:
    scratch = api.destination_connections.create(destination_name="sqlite", title="Scratch",
                                                 connection_params={"database": "scratch.sqlite3"})
    sqlite = {"destination_name": "sqlite", "title": "Scratch", "connection_params": {"database": "scratch.sqlite3"},
              "adopt_connection_id": scratch.id}
    deployment.configure(connections={"wh": sqlite})
    deployment.clear_requests()

    result = deployment.up()

    assert result.summary.resource_changes == {"create": 2}
    assert deployment.writes() == []  # taken over as it is
    assert result.outputs["wh"].value["connection_id"] == scratch.id
    assert deployment.preview().change_summary == {"same": 2}  # no perpetual diff after adoption

    # destination_name changes: a new connection replaces it (the adopt id is spent). The database
    # refuses the password for now: the new connection is recorded in error, the up goes on.
    set_password(postgres_dsn, role["name"], f"other-{secrets.token_hex(8)}")
    postgres = {"destination_name": "postgresql", "title": "Scratch", "connection_params": role["params"],
                "secret_password": True, "adopt_connection_id": scratch.id}
    deployment.configure(connections={"wh": postgres}, passwords={"wh": role["password"]})
    assert deployment.preview().change_summary == {"same": 1, "replace": 1}
    result = deployment.up()

    assert result.summary.resource_changes == {"same": 1, "replace": 1}
    new_id = result.outputs["wh"].value["connection_id"]
    assert new_id != scratch.id and result.outputs["wh"].value["status"] == "error"
    with pytest.raises(NotFoundError):
        api.destination_connections.get("sqlite", scratch.id)

    # The database fixed, the program unchanged: the next up tests the connection again.
    set_password(postgres_dsn, role["name"], role["password"])
    assert deployment.preview().change_summary == {"same": 1, "update": 1}
    deployment.clear_requests()
    result = deployment.up()
    base = f"/api/v3/destinations/postgresql/connections/{new_id}"
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PUT", f"{base}/recheck")]
    assert result.outputs["wh"].value["status"] == "active"
    assert deployment.preview().change_summary == {"same": 2}


def test_deletion_policy_retain_leaves_the_connection_and_delete_deletes_it(
    deployment: Deployment, api: ImprovadoClient
) -> None:
    def sqlite(title: str, policy: str) -> dict[str, Any]:
        return {"destination_name": "sqlite", "title": title, "deletion_policy": policy,
                "connection_params": {"database": f"{title.lower()}.sqlite3"}}

    deployment.configure(connections={"kept": sqlite("Kept", "delete"), "gone": sqlite("Gone", "delete")})
    outputs = deployment.up().outputs
    kept, gone = outputs["kept"].value["connection_id"], outputs["gone"].value["connection_id"]
    deployment.configure(connections={"kept": sqlite("Kept", "retain"), "gone": sqlite("Gone", "delete")})
    deployment.clear_requests()
    assert deployment.up().summary.resource_changes == {"same": 2, "update": 1}
    assert deployment.writes() == []  # the policy is the provider's own: nothing sent

    deployment.configure(connections={})
    deployment.output.clear()
    assert deployment.up().summary.resource_changes == {"same": 1, "delete": 2}
    assert api.destination_connections.get("sqlite", kept).title == "Kept"
    with pytest.raises(NotFoundError):
        api.destination_connections.get("sqlite", gone)
    said = "\n".join(deployment.output)
    assert f"left destination connection {kept} ('Kept') in Improvado (deletion_policy=retain)" in said
    assert f"deleted destination connection {gone} ('Gone')" in said


def test_an_adopted_connection_whose_stored_password_is_stale_gets_the_programs_params(
    deployment: Deployment, api: ImprovadoClient, role: dict[str, Any]
) -> None:
    stale = api.destination_connections.create(
        destination_name="postgresql", title="Made by hand",
        connection_params={**role["params"], "password": f"stale-{secrets.token_hex(8)}"})
    assert stale.status == "error"
    adopted = {"destination_name": "postgresql", "title": "Made by hand", "connection_params": role["params"],
               "secret_password": True, "adopt_connection_id": stale.id}
    deployment.configure(connections={"wh": adopted}, passwords={"wh": role["password"]})
    result = deployment.up()
    assert result.outputs["wh"].value["status"] == "error"  # taken over as it is: the params are not sent

    # The next up tests it again; the stored params still fail, so it sends the program's (which pass).
    deployment.clear_requests()
    result = deployment.up()
    base = f"/api/v3/destinations/postgresql/connections/{stale.id}"
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PUT", f"{base}/recheck"), ("PUT", base)]
    assert result.outputs["wh"].value == {"connection_id": stale.id, "status": "active", "status_message": None,
                                          "title": "Made by hand"}
    assert deployment.preview().change_summary == {"same": 2}
