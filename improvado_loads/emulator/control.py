"""The emulator's own test surface: ``/_emulator/`` routes (no auth, loopback use).

- ``GET /_emulator/health``
- ``GET|POST /_emulator/clock``: read or set the emulator clock (setting it queues due timed loads)
- ``POST /_emulator/data_tables/{id}/extract`` ``{"days": 1}``: new source data, then after-extraction runs
- ``GET /_emulator/data_tables/{id}/rows``: the source rows
- ``GET|POST|DELETE /_emulator/faults``, ``DELETE /_emulator/faults/{id}``
- ``GET|DELETE /_emulator/requests``: the request log of the Improvado surface
- ``PUT /_emulator/connections/{id}`` ``{"dsn", "status"}``: break or repair a destination
- ``GET /_emulator/connections/{id}/tables/{table}/rows``: what a destination table holds
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pydantic
from fastapi import APIRouter, Response
from sqlalchemy import select

from improvado_loads import contract
from improvado_loads.emulator.clock import iso_utc
from improvado_loads.emulator.connections import qualified_table
from improvado_loads.emulator.deps import EmulatorDep, JsonBody, PathId
from improvado_loads.emulator.destinations import error_text
from improvado_loads.emulator.faults import FaultSpec
from improvado_loads.emulator.http_errors import ApiError, bad_request, field_errors, not_found
from improvado_loads.emulator.sources import extract
from improvado_loads.emulator.store import ConnectionRow, DataTableRow, LoadRow, SourceRow

__all__ = ["CONTROL_PREFIX", "router"]

CONTROL_PREFIX = "/_emulator"
router = APIRouter(prefix=CONTROL_PREFIX)


class _ClockSet(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    now: datetime


class _Extract(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    days: int = pydantic.Field(default=1, ge=1, le=366)


class _ConnectionChange(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    dsn: str | None = None
    status: str | None = None

    @pydantic.field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is not None and value not in contract.DESTINATION_STATUSES:
            raise ValueError(f"expected one of {', '.join(contract.DESTINATION_STATUSES)}")
        return value


def _parse(model: type[pydantic.BaseModel], raw: Any) -> Any:
    try:
        return model.model_validate({} if raw is None else raw)
    except pydantic.ValidationError as exc:
        raise bad_request(field_errors(exc, set(model.model_fields))) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@router.get("/clock")
def get_clock(emulator: EmulatorDep) -> dict[str, str]:
    """The emulator clock."""
    return {"now": iso_utc(emulator.clock.now())}


@router.post("/clock")
def set_clock(emulator: EmulatorDep, raw: JsonBody) -> dict[str, Any]:
    """Set the emulator clock, then queue every due timed load."""
    body: _ClockSet = _parse(_ClockSet, raw)
    with emulator.store.lock:
        emulator.clock.set(body.now)
        triggered = emulator.scheduler.queue_due()
    return {"now": iso_utc(emulator.clock.now()), "triggered_load_ids": triggered}


@router.post("/data_tables/{table_id:int}/extract")
def extract_data(table_id: PathId, emulator: EmulatorDep, raw: JsonBody) -> dict[str, Any]:
    """Append new source data, then queue the table's after-extraction loads (unless busy or paused)."""
    body: _Extract = _parse(_Extract, raw)
    triggered: list[int] = []
    with emulator.store.session() as session:
        table = session.get(DataTableRow, table_id)
        if table is None:
            raise not_found()
        added, updated = extract(session, table, body.days, emulator.clock.now().date())
        session.flush()
        waiting = session.scalars(
            select(LoadRow)
            .where(LoadRow.data_table_id == table_id, LoadRow.run_policy == "after_extraction",
                   LoadRow.paused.is_(False))
            .order_by(LoadRow.id)
        ).all()
        for load in waiting:
            if load.run_state == "idle":
                emulator.runner.enqueue(load)
                triggered.append(load.id)
    return {"rows_added": added, "rows_updated": updated, "triggered_load_ids": triggered}


@router.get("/data_tables/{table_id:int}/rows")
def source_rows(table_id: PathId, emulator: EmulatorDep) -> list[dict[str, Any]]:
    """Every source row of a data table, in insertion order."""
    with emulator.store.session() as session:
        if session.get(DataTableRow, table_id) is None:
            raise not_found()
        rows = session.scalars(select(SourceRow).where(SourceRow.data_table_id == table_id).order_by(SourceRow.id))
        return [dict(row.values) for row in rows]


@router.get("/faults")
def list_faults(emulator: EmulatorDep) -> list[dict[str, Any]]:
    """The active faults."""
    return emulator.faults.list()


@router.post("/faults", status_code=201)
def add_fault(emulator: EmulatorDep, raw: JsonBody) -> dict[str, int]:
    """Register a fault → 201 ``{"id"}``."""
    return {"id": emulator.faults.add(_parse(FaultSpec, raw))}


@router.delete("/faults", status_code=204)
def clear_faults(emulator: EmulatorDep) -> Response:
    """Remove every fault."""
    emulator.faults.clear()
    return Response(status_code=204)


@router.delete("/faults/{fault_id:int}", status_code=204)
def remove_fault(fault_id: PathId, emulator: EmulatorDep) -> Response:
    """Remove one fault (404 when it is gone)."""
    if not emulator.faults.remove(fault_id):
        raise not_found()
    return Response(status_code=204)


@router.get("/requests")
def list_requests(emulator: EmulatorDep) -> list[dict[str, Any]]:
    """Every ``/api/v3/`` request since the last clear."""
    return emulator.journal.entries()


@router.delete("/requests", status_code=204)
def clear_requests(emulator: EmulatorDep) -> Response:
    """Forget the request log."""
    emulator.journal.clear()
    return Response(status_code=204)


@router.put("/connections/{connection_id:int}")
def change_connection(connection_id: PathId, emulator: EmulatorDep, raw: JsonBody) -> dict[str, Any]:
    """Change a connection's DSN and/or status."""
    body: _ConnectionChange = _parse(_ConnectionChange, raw)
    with emulator.store.session() as session:
        connection = session.get(ConnectionRow, connection_id)
        if connection is None:
            raise not_found()
        if body.dsn is not None:
            connection.dsn = body.dsn
        if body.status is not None:
            connection.status = body.status
        return {"id": connection.id, "title": connection.title,
                "destination_type": connection.destination_type, "status": connection.status}


@router.get("/connections/{connection_id:int}/tables/{table}/rows")
def destination_rows(connection_id: PathId, table: str, emulator: EmulatorDep) -> list[dict[str, Any]]:
    """Every row of a destination table, named as a load names it (404 when the table does not exist)."""
    with emulator.store.session() as session:
        connection = session.get(ConnectionRow, connection_id)
        if connection is None or not connection.dsn:
            raise not_found()
        dsn = connection.dsn
        table = qualified_table(connection, table)
    try:
        rows = emulator.destinations.read(dsn, table)
    except LookupError:
        raise not_found() from None
    except Exception as exc:
        raise ApiError(502, f"destination error: {error_text(exc)}") from None
    return [{k: _jsonable(v) for k, v in row.items()} for row in rows]
