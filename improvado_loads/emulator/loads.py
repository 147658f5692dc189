"""What the loads endpoints do, on the state DB (HTTP-free, raising :class:`ApiError`)."""

from __future__ import annotations

from typing import Any

import pydantic
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.clock import naive_utc
from improvado_loads.emulator.core import Emulator
from improvado_loads.emulator.http_errors import ApiError, bad_request, field_errors, not_found
from improvado_loads.emulator.inputs import parse_id
from improvado_loads.emulator.scheduler import next_slot
from improvado_loads.emulator.store import ConnectionRow, DataTableRow, LoadRow
from improvado_loads.models import LoadCreate, LoadUpdate, RunRequest

__all__ = [
    "create_load",
    "delete_load",
    "get_load",
    "list_statement",
    "pause_load",
    "run_load",
    "unpause_load",
    "update_load",
]

_FILTERS = ("data_table_id", "destination_connection_id")


def _validated(model: type[pydantic.BaseModel], raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise bad_request(field_errors(exc, set(model.model_fields))) from None


def get_load(session: Session, workspace_id: int, load_id: int) -> LoadRow:
    """A load of the workspace, or 404."""
    load = session.get(LoadRow, load_id)
    if load is None or load.workspace_id != workspace_id:
        raise not_found()
    return load


def list_statement(workspace_id: int, params: dict[str, str]) -> Select[LoadRow]:
    """The loads of the workspace matching the list filters, by id."""
    statement = select(LoadRow).where(LoadRow.workspace_id == workspace_id).order_by(LoadRow.id)
    for name in _FILTERS:
        if params.get(name) is not None:
            statement = statement.where(getattr(LoadRow, name) == parse_id(name, params[name]))
    destination_name = params.get("destination_name")
    if destination_name is not None:
        statement = statement.join(ConnectionRow, ConnectionRow.id == LoadRow.destination_connection_id).where(
            ConnectionRow.destination_type == destination_name
        )
    return statement


def create_load(emulator: Emulator, session: Session, workspace_id: int, raw: Any) -> LoadRow:
    """Validate and create a load (400, 409)."""
    body: LoadCreate = _validated(LoadCreate, raw)
    errors: dict[str, list[str]] = {}
    table = session.get(DataTableRow, body.data_table_id)
    if table is None or table.workspace_id != workspace_id:
        errors["data_table_id"] = [f"Data table {body.data_table_id} does not exist in this workspace."]
    connection = session.get(ConnectionRow, body.destination_connection_id)
    if connection is None or connection.workspace_id != workspace_id or connection.deleted_at is not None:
        errors["destination_connection_id"] = [
            f"Destination connection {body.destination_connection_id} does not exist in this workspace."
        ]
    elif connection.status != "active":
        reason = f": {connection.status_message}" if connection.status_message else ""
        errors["destination_connection_id"] = [
            f"Destination connection {connection.id} is not active (its status is '{connection.status}'{reason}); "
            "loads can only be created on an active connection."
        ]
    if errors:
        raise bad_request(errors)
    existing = session.scalar(
        select(LoadRow).where(
            LoadRow.workspace_id == workspace_id,
            LoadRow.data_table_id == body.data_table_id,
            LoadRow.destination_connection_id == body.destination_connection_id,
            LoadRow.destination_table == body.destination_table,
        )
    )
    if existing is not None:
        raise ApiError(
            409,
            f"A load of data table {body.data_table_id} into connection {body.destination_connection_id} "
            f"table '{body.destination_table}' already exists (load {existing.id}).",
            extra={contract.CONFLICT_LOAD_ID_KEY: existing.id},
        )
    if not body.allow_shared_table:
        assert connection is not None  # refused above otherwise
        flat = connection.destination_type in contract.FLAT_SCHEMA_DESTINATIONS
        _refuse_shared_table(session, workspace_id, body, flat_schemas=flat)
    now = naive_utc(emulator.clock.now())
    load = LoadRow(
        workspace_id=workspace_id,
        data_table_id=body.data_table_id,
        destination_connection_id=body.destination_connection_id,
        destination_table=body.destination_table,
        run_policy=body.run_policy.value,
        load_historical_data=body.load_historical_data,
        created_at=now,
        next_run_at=next_slot(body.run_policy.value, now, now),
        paused=False,
        run_state="idle",
        result_status="new",
        run_seq=0,
        successful_runs=0,
    )
    session.add(load)
    session.flush()
    return load


def _refuse_shared_table(session: Session, workspace_id: int, body: LoadCreate, *, flat_schemas: bool) -> None:
    """409 naming the load that already targets the body's (connection, table), whatever its spelling.

    ``flat_schemas``: the connection's destination has no schemas (``s.t`` is stored as ``s__t``).
    """
    # Three columns, not whole rows: this runs at every create and reads every load of the connection.
    same_connection = session.execute(
        select(LoadRow.id, LoadRow.data_table_id, LoadRow.destination_table)
        .where(
            LoadRow.workspace_id == workspace_id,
            LoadRow.destination_connection_id == body.destination_connection_id,
        )
        .order_by(LoadRow.id)
    )
    sharing = next(
        (load for load in same_connection
         if contract.same_destination_table(load.destination_table, body.destination_table, flat_schemas=flat_schemas)),
        None,
    )
    if sharing is not None:
        raise ApiError(
            409,
            f"Load {sharing.id} (data table {sharing.data_table_id}) already loads into connection "
            f"{body.destination_connection_id} table '{body.destination_table}'"
            f"{'' if sharing.destination_table == body.destination_table else f' (as {sharing.destination_table!r})'}"
            ": two loads into one table "
            f"overwrite each other's rows. Send \"{contract.ALLOW_SHARED_TABLE_FIELD}\": true to allow it.",
            extra={contract.CONFLICT_LOAD_ID_KEY: sharing.id, contract.CONFLICT_CODE_KEY: contract.TABLE_IN_USE_CODE},
        )


def update_load(emulator: Emulator, session: Session, load: LoadRow, raw: Any) -> None:
    """Change the run policy; any other field is a 400 naming it."""
    errors: dict[str, list[str]] = {}
    if isinstance(raw, dict):
        for key in raw:
            if key not in contract.UPDATABLE_FIELDS:
                errors[key] = [
                    f"This field cannot be updated: only {', '.join(contract.UPDATABLE_FIELDS)} can change "
                    "(create a new load instead)."
                ]
        raw = {k: v for k, v in raw.items() if k in contract.UPDATABLE_FIELDS}
    try:
        body = LoadUpdate.model_validate(raw)
    except pydantic.ValidationError as exc:
        errors.update(field_errors(exc, set(LoadUpdate.model_fields)))
    if errors:
        raise bad_request(errors)
    if body.run_policy.value != load.run_policy:
        load.run_policy = body.run_policy.value
        load.next_run_at = next_slot(load.run_policy, load.created_at, naive_utc(emulator.clock.now()))


def run_load(emulator: Emulator, load: LoadRow, raw: Any) -> None:
    """Queue a run (400 when paused or for a bad range, 409 when one is queued or running)."""
    body: RunRequest = _validated(RunRequest, {} if raw is None else raw)
    if load.paused:
        raise ApiError(400, f"Load {load.id} is paused: unpause it before running it.")
    if load.run_state != "idle":
        raise ApiError(409, f"Load {load.id} is already queued or running.")
    emulator.runner.enqueue(load, body.date_from, body.date_to)


def pause_load(load: LoadRow) -> None:
    """Pause: a queued run is dropped, a running one ends; nothing more runs."""
    load.paused = True
    if load.run_state == "queued":
        load.run_state = "idle"
        load.pending_from = load.pending_to = None


def unpause_load(emulator: Emulator, load: LoadRow) -> None:
    """Unpause: the status is again the last run's (or ``new``); the next slot is after now."""
    if load.paused:
        load.paused = False
        load.next_run_at = next_slot(load.run_policy, load.created_at, naive_utc(emulator.clock.now()))


def delete_load(session: Session, load: LoadRow) -> None:
    """Delete a load (a run in progress ends without effect on the load)."""
    session.delete(load)
