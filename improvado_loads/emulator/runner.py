"""Background runs of loads, and the load modes.

A run is queued by the API (``PUT /loads/{id}/run``), by a schedule or by an
extraction, and executed by a pool of two workers: ``queued`` → ``running``
(for at least ``run_seconds``) → ``success`` or ``failed``. On its end the load
gets ``last_update`` (emulator clock), ``uploaded_rows_count`` (rows written by
this run; 0 on failure) and ``error_text`` (None, or the destination's own
error message).

Load modes (assumed; ``improvado_loads.contract`` and the shared API notes):

- **full refresh** when the data table is ``lifetime`` (or has no date
  column) or ``by_accounts``, or on the first successful run of a load with
  ``load_historical_data``: every row of the destination table is deleted and
  every source row inserted; a date range is ignored.
- **by date range** otherwise: the rows of the range are deleted and the
  source rows of the range inserted, so a rerun never duplicates rows. Without
  a range a run goes from the load's watermark (the newest date it has
  loaded, inclusive) to the newest source date; a first run without history
  loads the last ``contract.FIRST_RUN_WINDOW_DAYS`` days of data.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.clock import Clock, naive_utc
from improvado_loads.emulator.connections import qualified_table
from improvado_loads.emulator.destinations import Destinations, WriteRequest, error_text
from improvado_loads.emulator.ownership import Owner
from improvado_loads.emulator.sources import latest_day, source_values
from improvado_loads.emulator.store import ConnectionRow, DataTableRow, LoadRow, MetaRow, Store

__all__ = ["RunPlan", "Runner", "plan_run"]

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted by emulator restart"
#: Meta key of this emulator's identity in the destination tables it owns.
EMULATOR_ID_KEY = "emulator_id"


@dataclass(frozen=True)
class RunPlan:
    """What a run will do; ``failure`` set means it fails without writing."""

    write: WriteRequest | None
    watermark: date | None
    failure: str | None = None


def _range(load: LoadRow, newest: date | None) -> tuple[date, date] | None:
    if load.pending_from is not None and load.pending_to is not None:
        return load.pending_from, load.pending_to
    if newest is None:
        return None
    if load.watermark is not None:
        return load.watermark, newest
    return newest - timedelta(days=contract.FIRST_RUN_WINDOW_DAYS - 1), newest


def _owner(session: Session, load: LoadRow) -> Owner:
    """The load as a destination table owner; the emulator instance id is made on first use."""
    emulator_id = session.get(MetaRow, EMULATOR_ID_KEY)
    if emulator_id is None:
        emulator_id = MetaRow(key=EMULATOR_ID_KEY, value=uuid.uuid4().hex)
        session.add(emulator_id)
    connection = session.get(ConnectionRow, load.destination_connection_id)
    predecessors: tuple[int, ...] = ()
    if connection is not None:
        predecessors = tuple(session.scalars(select(ConnectionRow.id).where(
            ConnectionRow.workspace_id == connection.workspace_id,
            ConnectionRow.destination_type == connection.destination_type,
            ConnectionRow.deleted_at.is_not(None),
            ConnectionRow.id != connection.id,
        )))
    return Owner(emulator_id.value, load.destination_connection_id, load.id, predecessors)


def plan_run(session: Session, load: LoadRow) -> RunPlan:
    """Decide the mode and the rows of the run the load has queued."""
    table = session.get(DataTableRow, load.data_table_id)
    connection = session.get(ConnectionRow, load.destination_connection_id)
    if table is None or connection is None:
        return RunPlan(None, load.watermark, failure="the data table or the destination connection is gone")
    if connection.deleted_at is not None:
        failure = contract.DELETED_CONNECTION_ERROR.format(connection_id=connection.id, title=connection.title)
        return RunPlan(None, load.watermark, failure=failure)
    if connection.status != "active" or not connection.dsn:
        reason = f": {connection.status_message}" if connection.status_message else ""
        return RunPlan(
            None, load.watermark,
            failure=f"destination connection {connection.id} ({connection.title}) is {connection.status}{reason}",
        )
    destination_table = qualified_table(connection, load.destination_table)
    full = (
        table.date_column is None
        or table.data_class == "lifetime"
        or table.by_accounts
        or (load.load_historical_data and load.successful_runs == 0)
    )
    replace: tuple[date, date] | None = None
    if not full:
        replace = _range(load, latest_day(session, table.id))
        if replace is None:
            return RunPlan(
                WriteRequest(connection.dsn, destination_table, _owner(session, load), table.columns, []),
                load.watermark,
            )
    rows, newest = source_values(session, table, replace)
    watermark = max([day for day in (newest, load.watermark) if day is not None], default=None)
    write = WriteRequest(
        dsn=connection.dsn,
        table=destination_table,
        owner=_owner(session, load),
        columns=table.columns,
        rows=rows,
        replace_range=replace,
        date_column=table.date_column,
    )
    return RunPlan(write, watermark)


class Runner:
    """Queues runs and executes them on two worker threads."""

    def __init__(self, store: Store, clock: Clock, destinations: Destinations, run_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self._destinations = destinations
        self._run_seconds = run_seconds
        self._stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start the workers."""
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="emulator-run")

    def stop(self) -> None:
        """Stop: queued runs are dropped, running ones abandoned (a restart marks them failed)."""
        self._stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def recover(self) -> list[int]:
        """Mark the runs a previous process left queued or running as failed; returns their loads."""
        with self._store.session() as session:
            stuck = session.scalars(select(LoadRow).where(LoadRow.run_state != "idle")).all()
            for load in stuck:
                self._finish(load, "failed", 0, INTERRUPTED, load.watermark)
            return [load.id for load in stuck]

    def enqueue(self, load: LoadRow, date_from: date | None = None, date_to: date | None = None) -> None:
        """Queue a run of ``load`` (inside the caller's transaction); the caller checks it may run."""
        load.run_state = "queued"
        load.run_seq += 1
        load.pending_from, load.pending_to = date_from, date_to
        if self._pool is not None and not self._stopping.is_set():
            # The worker blocks on the store lock until the caller's transaction ends.
            self._pool.submit(self._run, load.id, load.run_seq)

    def _finish(self, load: LoadRow, result: str, rows: int, error: str | None, watermark: date | None) -> None:
        load.run_state = "idle"
        load.result_status = result
        load.pending_from = load.pending_to = None
        load.last_update = naive_utc(self._clock.now())
        load.uploaded_rows_count = rows
        load.error_text = error
        if result == "success":
            load.successful_runs += 1
            load.watermark = watermark

    def _run(self, load_id: int, seq: int) -> None:
        try:
            self._execute(load_id, seq)
        except Exception as exc:  # never leave a load stuck in "running"
            logger.exception("run of load %s crashed", load_id)
            with self._store.session() as session:
                load = session.get(LoadRow, load_id)
                if load is not None and load.run_seq == seq and load.run_state != "idle":
                    self._finish(load, "failed", 0, f"internal emulator error: {type(exc).__name__}", None)

    def _execute(self, load_id: int, seq: int) -> None:
        with self._store.session() as session:
            load = session.get(LoadRow, load_id)
            if load is None or load.run_seq != seq or load.run_state != "queued":
                return  # deleted, paused or superseded meanwhile
            load.run_state = "running"
            plan = plan_run(session, load)
        if self._stopping.wait(self._run_seconds):
            return  # the emulator stops: the next start marks this run interrupted
        rows, error = 0, plan.failure
        if plan.write is not None and error is None:
            try:
                rows = self._destinations.write(plan.write)
            except Exception as exc:
                rows, error = 0, error_text(exc)
        with self._store.session() as session:
            load = session.get(LoadRow, load_id)
            if load is None or load.run_seq != seq:
                return
            self._finish(load, "failed" if error else "success", rows, error, plan.watermark)
