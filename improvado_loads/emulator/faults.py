"""Injected faults on the Improvado surface (``/_emulator/faults``).

A fault matches a method (or any) and an ``fnmatch`` glob of the path, and
applies to the next ``times`` matching requests (then disappears) or, when
``times`` is null, to a ``share`` of them. It may add latency (the request is
processed at once and its answer held back, like a slow network), answer an
error status instead of processing the request (429 carries ``Retry-After``), or drop
the connection: ``before`` processing (nothing happens) or ``after`` it (the
change is made, the answer is lost). A drop sends the response head and then
aborts, so the server closes the connection mid-answer and the client sees a
transport error; the deliberate abort is kept out of the server's error log.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import logging
import random
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from improvado_loads.emulator.journal import DROPPED_KEY, is_api_path

__all__ = ["DeliberateDrop", "FaultMiddleware", "FaultSpec", "Faults", "QuietDrops"]

_REASONS = {
    429: "Too many requests (injected fault).",
    500: "Internal server error (injected fault).",
    502: "Bad gateway (injected fault).",
    503: "Service unavailable (injected fault).",
    504: "Gateway timeout (injected fault).",
}


class FaultSpec(BaseModel):
    """Body of ``POST /_emulator/faults``."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    path: str = Field(min_length=1)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    status: Literal[429, 500, 502, 503, 504] | None = None
    retry_after: int = Field(default=1, ge=0)
    times: int | None = Field(default=None, ge=1)
    share: float = Field(default=1.0, ge=0.0, le=1.0)
    drop: Literal["before", "after"] | None = None


class DeliberateDrop(Exception):
    """Raised after the response head to make the server drop the connection."""


class QuietDrops(logging.Filter):
    """Keeps deliberate drops out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the log record of a deliberate drop."""
        return not (record.exc_info and isinstance(record.exc_info[1], DeliberateDrop))


class Faults:
    """The registered faults; thread-safe."""

    def __init__(self) -> None:
        self._faults: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release(self) -> None:
        """End every injected latency now, and any to come (the emulator is stopping)."""
        self._released.set()

    async def pause(self, seconds: float) -> None:
        """An injected latency: ``seconds``, or less once :meth:`release` is called (looked at every 50 ms)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self._released.is_set() and (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, 0.05))

    def add(self, spec: FaultSpec) -> int:
        """Register a fault; returns its id."""
        with self._lock:
            fault_id = next(self._ids)
            self._faults[fault_id] = {"id": fault_id, **spec.model_dump()}
            return fault_id

    def list(self) -> list[dict[str, Any]]:
        """The faults still active."""
        with self._lock:
            return [dict(f) for f in self._faults.values()]

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> bool:
        """Remove one fault; False when there is no such fault (any more)."""
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """The first fault that applies to this request (consuming one of its ``times``)."""
        with self._lock:
            for fault in self._faults.values():
                if fault["method"] and fault["method"].upper() != method.upper():
                    continue
                if not fnmatch.fnmatchcase(path, fault["path"]):
                    continue
                if fault["times"] is None:
                    if random.random() >= fault["share"]:
                        continue
                else:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        del self._faults[fault["id"]]
                return dict(fault)
        return None


class FaultMiddleware:
    """ASGI middleware applying :class:`Faults` to ``/api/v3/`` requests."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        delay = fault["latency_ms"] / 1000
        if fault["drop"] == "before":
            await self.faults.pause(delay)
            scope[DROPPED_KEY] = None
            await send(_truncated_head(200, []))
            raise DeliberateDrop("connection dropped before processing (injected fault)")
        if fault["status"] is not None:
            await self.faults.pause(delay)
            headers = {"Retry-After": str(fault["retry_after"])} if fault["status"] == 429 else None
            response = JSONResponse({"detail": _REASONS[fault["status"]]}, fault["status"], headers=headers)
            await response(scope, receive, send)
            return
        if fault["drop"] == "after":
            await self._process_then_drop(scope, receive, send, delay)
            return
        await self.app(scope, receive, _delayed(send, delay, self.faults))

    async def _process_then_drop(self, scope: Scope, receive: Receive, send: Send, delay: float) -> None:
        head: list[Message] = []

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                head.append(message)

        await self.app(scope, receive, hold)
        await self.faults.pause(delay)
        status = int(head[0]["status"]) if head else 500
        scope[DROPPED_KEY] = status
        await send(_truncated_head(status, list(head[0].get("headers", [])) if head else []))
        raise DeliberateDrop("connection dropped after processing (injected fault)")


def _delayed(send: Send, delay: float, faults: Faults) -> Send:
    """``send``, holding the response head back for ``delay`` seconds (:meth:`Faults.pause`)."""

    async def delayed(message: Message) -> None:
        if message["type"] == "http.response.start" and delay > 0:
            await faults.pause(delay)
        await send(message)

    return delayed


def _truncated_head(status: int, headers: list[tuple[bytes, bytes]]) -> Message:
    """A response head announcing a body that never comes (a bodiless status becomes 200)."""
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    wire_status = 200 if status in (204, 304) or status < 200 else status
    return {"type": "http.response.start", "status": wire_status, "headers": [*kept, (b"content-length", b"1048576")]}
