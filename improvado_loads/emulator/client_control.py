"""``EmulatorControl``: a small client of the ``/_emulator/`` test surface."""

from __future__ import annotations

from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import httpx

from improvado_loads.client.tls import DeferredCAContext

__all__ = ["EmulatorControl"]


class EmulatorControl:
    """Drives an emulator's clock, data, faults and destinations; reads its request log.

    >>> control = EmulatorControl("http://127.0.0.1:8765")  # doctest: +SKIP
    >>> control.add_fault(method="GET", path="/api/v3/loads*", status=503, times=1)  # doctest: +SKIP
    """

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        # The CA certificates load only if a TLS connection is ever made (never, on loopback).
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/_emulator", timeout=timeout, verify=DeferredCAContext()
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, path, json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    def health(self) -> bool:
        """Whether the emulator answers."""
        try:
            return bool(self._call("GET", "/health")["status"] == "ok")
        except httpx.HTTPError:
            return False

    def now(self) -> datetime:
        """The emulator clock."""
        return datetime.fromisoformat(self._call("GET", "/clock")["now"].replace("Z", "+00:00"))

    def set_clock(self, moment: datetime) -> list[int]:
        """Set the emulator clock (naive means UTC); returns the ids of the timed loads it queued."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return list(self._call("POST", "/clock", {"now": moment.isoformat()})["triggered_load_ids"])

    def extract(self, data_table_id: int, days: int = 1) -> dict[str, Any]:
        """Simulate new data; returns ``{"rows_added", "rows_updated", "triggered_load_ids"}``."""
        return dict(self._call("POST", f"/data_tables/{data_table_id}/extract", {"days": days}))

    def source_rows(self, data_table_id: int) -> list[dict[str, Any]]:
        """The source rows of a data table."""
        return list(self._call("GET", f"/data_tables/{data_table_id}/rows"))

    def add_fault(self, **spec: Any) -> int:
        """Register a fault (``path`` required; see :mod:`improvado_loads.emulator.faults`); returns its id."""
        return int(self._call("POST", "/faults", spec)["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The active faults."""
        return list(self._call("GET", "/faults"))

    def remove_fault(self, fault_id: int) -> None:
        """Remove one fault."""
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._call("DELETE", "/faults")

    def requests(self) -> list[dict[str, Any]]:
        """The ``/api/v3/`` requests since the last :meth:`clear_requests`."""
        return list(self._call("GET", "/requests"))

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._call("DELETE", "/requests")

    def set_connection(self, connection_id: int, dsn: str | None = None, status: str | None = None) -> None:
        """Change a destination connection's DSN and/or status (break or repair it)."""
        body = {k: v for k, v in {"dsn": dsn, "status": status}.items() if v is not None}
        self._call("PUT", f"/connections/{connection_id}", body)

    def destination_rows(self, connection_id: int, table: str) -> list[dict[str, Any]]:
        """Every row of a destination table (dates ISO, numerics as strings)."""
        return list(self._call("GET", f"/connections/{connection_id}/tables/{table}/rows"))
