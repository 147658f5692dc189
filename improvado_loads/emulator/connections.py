"""What the destination connection endpoints do, on the state DB (HTTP-free, raising :class:`ApiError`).

Parsing the bodies, reading and writing :class:`ConnectionRow`. The connection
test itself is :mod:`improvado_loads.emulator.connection_check`; the routes run
it between two transactions. Params are stored in the row and never serialized.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.connection_check import CheckResult, connection_dsn, emulator_file
from improvado_loads.emulator.http_errors import NON_FIELD, bad_request, field_errors, not_found
from improvado_loads.emulator.store import ConnectionRow
from improvado_loads.models import (
    DestinationConnectionCreate,
    DestinationConnectionUpdate,
    params_body,
    params_model,
)

__all__ = [
    "NewConnection",
    "apply_check",
    "apply_params",
    "create_connection",
    "delete_connection",
    "get_connection",
    "list_statement",
    "parse_create",
    "parse_reauthorize",
    "qualified_table",
    "update_connection",
]


@dataclass(frozen=True)
class NewConnection:
    """A validated create body."""

    title: str
    destination_name: str
    create_load_for_new_tables: bool
    params: dict[str, Any]


def _connectable(destination_name: str) -> None:
    if destination_name not in contract.CONNECTABLE_DESTINATIONS:
        known = ", ".join(contract.CONNECTABLE_DESTINATIONS)
        raise bad_request(
            {"destination_name": [f"The emulator cannot connect to '{destination_name}' destinations (only {known})."]}
        )


def _object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad_request({NON_FIELD: ["Expected a JSON object."]})
    return raw


def _pop_params(body: dict[str, Any], destination_name: str) -> dict[str, Any]:
    """Take the params out of ``body`` under either spelling, validated (400 naming ``<key>.<field>``)."""
    given = [key for key in contract.CONNECTION_PARAMS_KEYS if key in body]
    if not given:
        raise bad_request({contract.CONNECTION_PARAMS_KEY: ["This field is required."]})
    if len(given) > 1:
        raise bad_request({given[1]: [f"Give the connection params once: '{given[0]}' is already there."]})
    key = given[0]
    raw = body.pop(key)
    if not isinstance(raw, dict):
        raise bad_request({key: ["Expected a JSON object of connection params."]})
    model = params_model(destination_name)
    try:
        params = model.model_validate(raw)
    except pydantic.ValidationError as exc:
        errors = field_errors(exc, set(model.model_fields))
        raise bad_request({f"{key}.{field}": messages for field, messages in errors.items()}) from None
    database = getattr(params, "database", "")
    if destination_name == "sqlite" and emulator_file(database):
        raise bad_request({f"{key}.database": [f"'{database}' is one of the emulator's own files: name another file."]})
    return params_body(params)


def parse_create(destination_name: str, raw: Any) -> NewConnection:
    """The create body (400 naming each bad field); ``destination_name`` in the body must match the path."""
    _connectable(destination_name)
    body = dict(_object(raw))
    params = _pop_params(body, destination_name)
    body.setdefault("destination_name", destination_name)
    try:
        parsed = DestinationConnectionCreate.model_validate(body)
    except pydantic.ValidationError as exc:
        raise bad_request(field_errors(exc, set(DestinationConnectionCreate.model_fields))) from None
    if parsed.destination_name != destination_name:
        raise bad_request(
            {"destination_name": [f"'{parsed.destination_name}' does not match the path's '{destination_name}'."]}
        )
    return NewConnection(parsed.title, destination_name, parsed.create_load_for_new_tables, params)


def parse_reauthorize(destination_name: str, raw: Any) -> dict[str, Any]:
    """The reauthorize body: exactly the connection params (400 naming any other key)."""
    _connectable(destination_name)
    body = dict(_object(raw))
    params = _pop_params(body, destination_name)
    if body:
        raise bad_request({key: ["Only the connection params can be given here."] for key in body})
    return params


def list_statement(workspace_id: int, destination_name: str) -> Select[ConnectionRow]:
    """The live connections of one type in the workspace, by id."""
    return (
        select(ConnectionRow)
        .where(
            ConnectionRow.workspace_id == workspace_id,
            ConnectionRow.destination_type == destination_name,
            ConnectionRow.deleted_at.is_(None),
        )
        .order_by(ConnectionRow.id)
    )


def get_connection(session: Session, workspace_id: int, destination_name: str, connection_id: int) -> ConnectionRow:
    """A live connection of this type in the workspace, or 404 (also when deleted)."""
    connection = session.get(ConnectionRow, connection_id)
    if (
        connection is None
        or connection.workspace_id != workspace_id
        or connection.destination_type != destination_name
        or connection.deleted_at is not None
    ):
        raise not_found()
    return connection


def apply_params(connection: ConnectionRow, params: dict[str, Any]) -> None:
    """Store new params, and the DSN the loads write through."""
    connection.params = params
    connection.dsn = connection_dsn(connection.destination_type, params)


def apply_check(connection: ConnectionRow, result: CheckResult) -> None:
    """Record a connection test's outcome."""
    connection.status = result.status
    connection.status_message = result.message


def create_connection(session: Session, workspace_id: int, new: NewConnection) -> ConnectionRow:
    """Insert a connection, ``initializing`` until its test ends (a failed test leaves it in ``error``)."""
    connection = ConnectionRow(
        workspace_id=workspace_id,
        title=new.title,
        destination_type=new.destination_name,
        create_load_for_new_tables=new.create_load_for_new_tables,
        status=contract.CONNECTION_INITIALIZING,
        status_message=None,
        seed_key="",
    )
    apply_params(connection, new.params)
    session.add(connection)
    session.flush()
    return connection


def update_connection(connection: ConnectionRow, raw: Any) -> None:
    """``PATCH``: title and/or ``create_load_for_new_tables``; any other key, or a null, is a 400 naming it."""
    body = dict(_object(raw))
    errors: dict[str, list[str]] = {}
    for key in list(body):
        if key in contract.CONNECTION_PARAMS_KEYS:
            errors[key] = ["Connection params change with PUT (reauthorize), not PATCH."]
        elif key not in contract.CONNECTION_UPDATABLE_FIELDS:
            errors[key] = [f"This field cannot be updated (only {', '.join(contract.CONNECTION_UPDATABLE_FIELDS)})."]
        elif body[key] is None:
            errors[key] = ["This field may not be null (leave it out to keep its value)."]
        else:
            continue
        del body[key]
    try:
        update = DestinationConnectionUpdate.model_validate(body)
    except pydantic.ValidationError as exc:
        errors.update(field_errors(exc, set(DestinationConnectionUpdate.model_fields)))
    if errors:
        raise bad_request(errors)
    if update.title is not None:
        connection.title = update.title
    if update.create_load_for_new_tables is not None:
        connection.create_load_for_new_tables = update.create_load_for_new_tables


def delete_connection(connection: ConnectionRow, now: datetime) -> None:
    """Soft-delete: the row stays for its loads (whose runs then fail); no destination data is touched."""
    connection.deleted_at = now


def qualified_table(connection: ConnectionRow, table: str) -> str:
    """A load's destination table on this connection: a bare name goes into the params' ``schema``."""
    schema = (connection.params or {}).get("schema") if connection.destination_type == "postgresql" else None
    if "." in table or not schema or schema == contract.POSTGRES_DEFAULT_SCHEMA:
        return table
    return f"{schema}.{table}"
