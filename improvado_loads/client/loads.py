"""``client.loads``: list, create, get, update, run, wait, pause, unpause, delete."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from improvado_loads import contract
from improvado_loads.client._core import HTTPCore
from improvado_loads.client.pagination import PageIterator
from improvado_loads.client.validation import validated
from improvado_loads.errors import ConflictError, RunFailedError, TableInUseError, WaitTimeoutError
from improvado_loads.models import Load, LoadCreate, LoadUpdate, RunPolicy, RunRequest


class Loads:
    """Load orders of the client's workspace."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    def list(
        self,
        *,
        data_table_id: int | None = None,
        destination_connection_id: int | None = None,
        destination_name: str | None = None,
        page_size: int = contract.DEFAULT_PAGE_SIZE,
    ) -> PageIterator[Load]:
        """Every load matching the filters, fetched page by page as iteration goes."""
        params = {
            "data_table_id": data_table_id,
            "destination_connection_id": destination_connection_id,
            "destination_name": destination_name,
        }
        return PageIterator(self._core, contract.LOADS_PATH, Load, params, page_size)

    def get(self, load_id: int) -> Load:
        """One load; :class:`NotFoundError` when it is not in this workspace."""
        return Load.model_validate(self._core.request("GET", contract.load_path(load_id)))

    def find(self, *, data_table_id: int, destination_connection_id: int, destination_table: str) -> Load | None:
        """The load of this data table into this destination table, if one exists."""
        for load in self.list(data_table_id=data_table_id, destination_connection_id=destination_connection_id):
            if load.destination_table == destination_table:
                return load
        return None

    def create(
        self,
        *,
        data_table_id: int,
        destination_connection_id: int,
        destination_table: str,
        run_policy: RunPolicy | str = RunPolicy.MANUAL,
        load_historical_data: bool = False,
        allow_shared_table: bool = False,
        existing_loads: Iterable[Load] | None = None,
    ) -> Load:
        """Create a load.

        Two loads into one destination table overwrite each other's rows, so a
        create into a (connection, table) that another load of the workspace
        already targets raises :class:`TableInUseError` naming that load, before
        anything is sent, unless ``allow_shared_table=True``. The loads checked
        are the connection's, listed (one call a page), or ``existing_loads``
        when the caller already knows them (a provider process keeps them).

        A create whose answer was lost is never blindly sent again: the load is
        looked up by (data table, connection, table) first and returned if there.
        A 409 raises :class:`ConflictError` naming the existing load.
        """
        body = validated(
            LoadCreate,
            data_table_id=data_table_id,
            destination_connection_id=destination_connection_id,
            destination_table=destination_table,
            run_policy=run_policy,
            load_historical_data=load_historical_data,
            allow_shared_table=allow_shared_table,
        )
        if not body.allow_shared_table:
            self._refuse_shared_table(body, existing_loads)
        payload = body.body()

        def lookup() -> Load | None:
            return self.find(
                data_table_id=body.data_table_id,
                destination_connection_id=body.destination_connection_id,
                destination_table=body.destination_table,
            )

        try:
            data = self._core.request("POST", contract.LOADS_PATH, json=payload, idempotent=False, recover=lookup)
        except ConflictError as exc:
            if exc.existing_load_id is None:
                found = lookup()
                exc.existing_load_id = found.id if found else None
            raise
        return Load.model_validate(data)

    def _refuse_shared_table(self, body: LoadCreate, known: Iterable[Load] | None = None) -> None:
        """Raise when another load of the workspace already targets the body's (connection, table)."""
        connection = body.destination_connection_id
        same_table = [
            load
            for load in (self.list(destination_connection_id=connection) if known is None else known)
            if load.destination_connection_id in (None, connection)
            and contract.same_destination_table(load.destination_table, body.destination_table)
        ]
        if not same_table or any(
            load.data_table.id == body.data_table_id and load.destination_table == body.destination_table
            for load in same_table
        ):
            return  # a free table, or this very load exists (the service's own 409 says so)
        load, path = same_table[0], contract.LOADS_PATH
        also = "" if load.destination_table == body.destination_table else f" (as '{load.destination_table}')"
        raise TableInUseError(
            f"POST {path} refused: load {load.id} (data table {load.data_table.id}) already loads into "
            f"connection {body.destination_connection_id} table '{body.destination_table}'{also}; two loads into "
            f"one table overwrite each other's rows. Choose another table, or pass "
            f"{contract.ALLOW_SHARED_TABLE_FIELD}=True if they must share it",
            method="POST", path=path, existing_load_id=load.id,
        )

    def update(self, load_id: int, *, run_policy: RunPolicy | str) -> Load:
        """Change a load's run policy (the only field the API lets change)."""
        body = validated(LoadUpdate, run_policy=run_policy)
        data = self._core.request("PUT", contract.load_path(load_id), json=body.model_dump(mode="json"))
        return Load.model_validate(data)

    def run(self, load_id: int, *, date_from: date | str | None = None, date_to: date | str | None = None) -> Load:
        """Start a run now, for a date range (both ends) or the load's default range.

        A run whose answer was lost is never sent again blindly: the load is read
        first (before sending, and again after the loss); if a run is queued or
        running, or one has ended since, that is ours and it is returned.
        """
        body = validated(RunRequest, date_from=date_from, date_to=date_to)
        before = self.get(load_id)

        def ours() -> Load | None:
            now = self.get(load_id)
            return now if not now.is_finished or now.last_update != before.last_update else None

        path = contract.load_action_path(load_id, "run")
        data = self._core.request("PUT", path, json=body.body(), idempotent=False, recover=ours)
        return Load.model_validate(data)

    def pause(self, load_id: int) -> Load:
        """Pause a load: no schedule or extraction runs it until unpaused."""
        return Load.model_validate(self._core.request("PUT", contract.load_action_path(load_id, "pause")))

    def unpause(self, load_id: int) -> Load:
        """Resume a paused load."""
        return Load.model_validate(self._core.request("PUT", contract.load_action_path(load_id, "unpause")))

    def delete(self, load_id: int) -> None:
        """Delete a load; :class:`NotFoundError` when it is not in this workspace.

        When an attempt's answer was lost and the next one finds no load, the
        first attempt deleted it: that is success.
        """
        self._core.request("DELETE", contract.load_path(load_id), gone_is_done=True)

    def wait(
        self,
        load_id: int,
        *,
        timeout: float = 600.0,
        poll_interval: float = 1.0,
        on_poll: Callable[[Load], Any] | None = None,
        raise_on_failure: bool = False,
    ) -> Load:
        """Poll until no run is queued or running; return the final load.

        A failed run is returned (read ``status`` and ``error_text``), or with
        ``raise_on_failure=True`` raised as :class:`RunFailedError`.
        ``on_poll`` sees each polled state (for progress display).
        """
        deadline = time.monotonic() + timeout
        while True:
            load = self.get(load_id)
            if on_poll is not None:
                on_poll(load)
            if load.is_finished:
                if raise_on_failure and str(load.status) == "failed":
                    raise RunFailedError(
                        f"the run of load {load_id} failed: {load.error_text or 'no error text given'}",
                        load_id=load_id,
                        error_text=load.error_text,
                        method="GET",
                        path=contract.load_path(load_id),
                    )
                return load
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    f"load {load_id} still {load.status} after {timeout:g}s",
                    method="GET",
                    path=contract.load_path(load_id),
                )
            time.sleep(min(poll_interval, max(0.0, deadline - time.monotonic())))


__all__ = ["Loads"]
