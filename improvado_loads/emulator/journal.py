"""The request log of the Improvado surface (``GET /_emulator/requests``).

Each ``/api/v3/`` request is recorded on arrival as ``{"method", "path",
"query", "status", "workspace_id", "at"}``; the status is filled in when the answer
starts (None when the connection was dropped before processing), the
workspace once the request is authenticated. ``at`` is when it arrived, in
seconds since the epoch by the machine's clock (not the emulator clock): what
a test reads to check when requests came, never by timing them itself.
Headers are never recorded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from improvado_loads import contract

__all__ = ["DROPPED_KEY", "ENTRY_KEY", "Journal", "JournalMiddleware", "is_api_path", "note_workspace"]

#: Scope key of the request's journal entry (a dict shared with the routes).
ENTRY_KEY = "improvado_emulator.entry"
#: Scope key set by the fault middleware when it drops a connection: the status
#: to record (None when the request was not processed).
DROPPED_KEY = "improvado_emulator.dropped_status"
_MAX_ENTRIES = 10_000


def is_api_path(path: str) -> bool:
    """Whether a path belongs to the Improvado surface."""
    return path == contract.API_PREFIX or path.startswith(contract.API_PREFIX + "/")


def note_workspace(scope: Scope, workspace_id: int) -> None:
    """Record the authenticated workspace of the current request."""
    entry = scope.get(ENTRY_KEY)
    if isinstance(entry, dict):
        entry["workspace_id"] = workspace_id


class Journal:
    """A bounded, thread-safe list of request entries."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=_MAX_ENTRIES)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        """Record an entry (it may still be updated in place)."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Copies of the entries, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class JournalMiddleware:
    """ASGI middleware recording each ``/api/v3/`` request in a :class:`Journal`."""

    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": None,
            "workspace_id": None,
            "at": time.time(),
        }
        scope[ENTRY_KEY] = entry
        self.journal.add(entry)

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            if DROPPED_KEY in scope:
                entry["status"] = scope[DROPPED_KEY]
