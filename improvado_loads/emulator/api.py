"""The Improvado surface: ``/api/v3/`` routes (token, loads, data tables; connections: :mod:`.connection_api`).

Routes are thin: they authenticate, open one state transaction, call
:mod:`improvado_loads.emulator.loads` and serialize.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from improvado_loads import contract
from improvado_loads.emulator import loads
from improvado_loads.emulator.deps import EmulatorDep, JsonBody, PathId, WorkspaceId
from improvado_loads.emulator.http_errors import ApiError, bad_request, field_errors, not_found
from improvado_loads.emulator.journal import note_workspace
from improvado_loads.emulator.pagination import paginate
from improvado_loads.emulator.serializers import data_table_json, load_json
from improvado_loads.emulator.store import DataTableRow, WorkspaceRow
from improvado_loads.models import TokenRequest

__all__ = ["router"]

router = APIRouter()

_LOAD = f"{contract.LOADS_PATH}/{{load_id:int}}"


@router.post(contract.TOKEN_PATH)
def exchange_token(request: Request, emulator: EmulatorDep, raw: JsonBody) -> dict[str, Any]:
    """Basic credentials + ``{"workspace_id"}`` → ``{"token", "expires_at"}`` (401, 403)."""
    client = request.client.host if request.client else "unknown"
    wait = emulator.login_throttle.retry_after(client)
    if wait is not None:
        raise ApiError(
            429, f"Too many failed token requests: try again in {wait} s.", headers={"Retry-After": str(wait)}
        )
    if not emulator.tokens.credentials_ok(request.headers.get("authorization")):
        emulator.login_throttle.failed(client)
        raise ApiError(401, "Invalid username or password.", headers={"WWW-Authenticate": 'Basic realm="api"'})
    emulator.login_throttle.succeeded(client)
    try:
        body = TokenRequest.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise bad_request(field_errors(exc, {"workspace_id"})) from None
    with emulator.store.session() as session:
        if session.get(WorkspaceRow, body.workspace_id) is None:
            raise ApiError(403, f"You do not have access to workspace {body.workspace_id}.")
        token, expires_at = emulator.tokens.issue(session, body.workspace_id)
    note_workspace(request.scope, body.workspace_id)
    return {"token": token, "expires_at": expires_at}


@router.get(contract.LOADS_PATH)
def list_loads(request: Request, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """Loads of the workspace; filters ``data_table_id``, ``destination_connection_id``, ``destination_name``."""
    statement = loads.list_statement(workspace_id, dict(request.query_params))
    with emulator.store.session() as session:
        return paginate(session, request, statement, lambda load: load_json(session, load))


@router.post(contract.LOADS_PATH, status_code=201)
def create_load(emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody) -> dict[str, Any]:
    """Create a load → 201."""
    with emulator.store.session() as session:
        load = loads.create_load(emulator, session, workspace_id, raw)
        return load_json(session, load)


@router.get(_LOAD)
def get_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """One load."""
    with emulator.store.session() as session:
        return load_json(session, loads.get_load(session, workspace_id, load_id))


@router.put(_LOAD)
def update_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody) -> dict[str, Any]:
    """Change a load's run policy."""
    with emulator.store.session() as session:
        load = loads.get_load(session, workspace_id, load_id)
        loads.update_load(emulator, session, load, raw)
        return load_json(session, load)


@router.delete(_LOAD, status_code=204)
def delete_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId) -> Response:
    """Delete a load → 204."""
    with emulator.store.session() as session:
        loads.delete_load(session, loads.get_load(session, workspace_id, load_id))
    return Response(status_code=204)


@router.put(f"{_LOAD}/run")
def run_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId, raw: JsonBody) -> JSONResponse:
    """Queue a run, optionally of a date range → 202 with the queued load."""
    with emulator.store.session() as session:
        load = loads.get_load(session, workspace_id, load_id)
        loads.run_load(emulator, load, raw)
        return JSONResponse(load_json(session, load), status_code=202)


@router.put(f"{_LOAD}/pause")
def pause_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """Pause a load."""
    with emulator.store.session() as session:
        load = loads.get_load(session, workspace_id, load_id)
        loads.pause_load(load)
        return load_json(session, load)


@router.put(f"{_LOAD}/unpause")
def unpause_load(load_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """Unpause a load."""
    with emulator.store.session() as session:
        load = loads.get_load(session, workspace_id, load_id)
        loads.unpause_load(emulator, load)
        return load_json(session, load)


@router.get(contract.DATA_TABLES_PATH)
def list_data_tables(request: Request, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """Data tables of the workspace."""
    statement = select(DataTableRow).where(DataTableRow.workspace_id == workspace_id).order_by(DataTableRow.id)
    with emulator.store.session() as session:
        return paginate(session, request, statement, data_table_json)


@router.get(f"{contract.DATA_TABLES_PATH}/{{table_id:int}}")
def get_data_table(table_id: PathId, emulator: EmulatorDep, workspace_id: WorkspaceId) -> dict[str, Any]:
    """One data table."""
    with emulator.store.session() as session:
        table = session.get(DataTableRow, table_id)
        if table is None or table.workspace_id != workspace_id:
            raise not_found()
        return data_table_json(table)
