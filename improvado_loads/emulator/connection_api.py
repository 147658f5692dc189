"""``/api/v3/destinations/{destination_name}/connections`` routes.

Create, reauthorize and recheck test the connection (:mod:`.connection_check`)
between two short transactions, so the store's lock is never held while a
destination is slow to answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from improvado_loads import contract
from improvado_loads.emulator import connections
from improvado_loads.emulator.clock import naive_utc
from improvado_loads.emulator.connection_check import check_connection
from improvado_loads.emulator.deps import EmulatorDep, JsonBody, PathId, WorkspaceId
from improvado_loads.emulator.pagination import paginate
from improvado_loads.emulator.serializers import connection_json
from improvado_loads.emulator.store import ConnectionRow

__all__ = ["router"]

router = APIRouter()

_CONNECTIONS = contract.DESTINATION_CONNECTIONS_PATH
_CONNECTION = f"{_CONNECTIONS}/{{connection_id:int}}"


@router.get(_CONNECTIONS)
def list_connections(
    destination_name: str, request: Request, emulator: EmulatorDep, workspace_id: WorkspaceId
) -> dict[str, Any]:
    """Destination connections of one type in the workspace (deleted ones left out)."""
    with emulator.store.session() as session:
        statement = connections.list_statement(workspace_id, destination_name)
        return paginate(session, request, statement, connection_json)


@router.post(_CONNECTIONS, status_code=201)
def create_connection(
    destination_name: str, emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody
) -> JSONResponse:
    """Create and test a connection → 201, ``active`` or ``error`` with ``status_message``.

    The connection is stored (``initializing``) before its test, so that a client whose
    answer was lost while the destination was slow to answer finds it instead of making
    a second one.
    """
    new = connections.parse_create(destination_name, raw)
    with emulator.store.session() as session:
        connection_id = connections.create_connection(session, workspace_id, new).id
    result = check_connection(destination_name, new.params, emulator.settings.data_dir)
    with emulator.store.session() as session:
        connection = session.get(ConnectionRow, connection_id)
        assert connection is not None  # rows are never removed (a delete is soft)
        if connection.params == new.params:  # not reauthorized meanwhile
            connections.apply_check(connection, result)
        return JSONResponse(connection_json(connection), status_code=201)


@router.get(_CONNECTION)
def get_connection(
    destination_name: str, connection_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId
) -> dict[str, Any]:
    """One connection (404 when of another type or workspace, or deleted)."""
    with emulator.store.session() as session:
        return connection_json(connections.get_connection(session, workspace_id, destination_name, connection_id))


@router.patch(_CONNECTION)
def update_connection(
    destination_name: str, connection_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody
) -> dict[str, Any]:
    """Change the title and/or ``create_load_for_new_tables``."""
    with emulator.store.session() as session:
        connection = connections.get_connection(session, workspace_id, destination_name, connection_id)
        connections.update_connection(connection, raw)
        return connection_json(connection)


@router.put(_CONNECTION)
def reauthorize_connection(
    destination_name: str, connection_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody
) -> dict[str, Any]:
    """Replace the params and test the connection again."""
    with emulator.store.session() as session:
        connections.get_connection(session, workspace_id, destination_name, connection_id)
    params = connections.parse_reauthorize(destination_name, raw)
    result = check_connection(destination_name, params, emulator.settings.data_dir)
    with emulator.store.session() as session:
        connection = connections.get_connection(session, workspace_id, destination_name, connection_id)
        connections.apply_params(connection, params)
        connections.apply_check(connection, result)
        return connection_json(connection)


@router.put(f"{_CONNECTION}/recheck")
def recheck_connection(
    destination_name: str, connection_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId
) -> dict[str, Any]:
    """Test the connection again with its stored params."""
    with emulator.store.session() as session:
        params = connections.get_connection(session, workspace_id, destination_name, connection_id).params
    result = check_connection(destination_name, params, emulator.settings.data_dir)
    with emulator.store.session() as session:
        connection = connections.get_connection(session, workspace_id, destination_name, connection_id)
        if connection.params == params:  # not reauthorized meanwhile
            connections.apply_check(connection, result)
        return connection_json(connection)


@router.delete(_CONNECTION, status_code=204)
def delete_connection(
    destination_name: str, connection_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId
) -> Response:
    """Delete → 204: its loads stay and their next run fails; no destination data is deleted."""
    with emulator.store.session() as session:
        connection = connections.get_connection(session, workspace_id, destination_name, connection_id)
        connections.delete_connection(connection, naive_utc(emulator.clock.now()))
    return Response(status_code=204)
