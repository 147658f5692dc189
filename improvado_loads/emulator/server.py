"""Serving the emulator with uvicorn: blocking (:func:`serve`) or in a thread (:class:`EmulatorServer`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import uvicorn
from fastapi import FastAPI

from improvado_loads.emulator.app import create_app
from improvado_loads.emulator.core import Emulator
from improvado_loads.emulator.faults import QuietDrops
from improvado_loads.emulator.listen import bind
from improvado_loads.emulator.settings import EmulatorSettings

__all__ = ["EmulatorServer", "serve"]

_START_TIMEOUT = 30.0


def _quiet_drops() -> None:
    """Keep deliberate connection drops out of uvicorn's error log (idempotent)."""
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietDrops) for f in log.filters):
        log.addFilter(QuietDrops())


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    host = host.strip("[]")  # `--host [::1]` as written in a URL
    return f"[{host}]" if ":" in host else host


def _bound_app(settings: EmulatorSettings) -> tuple[socket.socket, FastAPI]:
    """The listening socket, then the app (which locks the data dir): in that order, nothing before."""
    sock = bind(settings.host, settings.port, allow_remote=settings.allow_remote)
    try:
        return sock, create_app(settings)
    except BaseException:
        sock.close()
        raise


def serve(settings: EmulatorSettings, *, on_listen: Callable[[int], None] | None = None) -> None:
    """Serve the emulator in this thread until interrupted (Ctrl+C or SIGTERM).

    Raises :class:`RuntimeError` (one clear message) when it cannot start: the
    port is busy, the host is not loopback without ``allow_remote``, another
    emulator holds the data dir. ``on_listen`` gets the port once it is bound.
    """
    sock, app = _bound_app(settings)
    emulator: Emulator = app.state.emulator
    config = uvicorn.Config(app, log_level="info", lifespan="on", timeout_graceful_shutdown=5)
    _quiet_drops()
    server = _PromptServer(config, on_exit=emulator.faults.release)
    if on_listen is not None:
        on_listen(sock.getsockname()[1])
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        emulator.stop()
    if not server.started:
        reason = f": {emulator.startup_error}" if emulator.startup_error else " (see the log above)"
        raise RuntimeError(f"the emulator could not start on {settings.host}:{settings.port}{reason}")


class _PromptServer(uvicorn.Server):
    """uvicorn's server that sees :meth:`exit` at once, not at the next tick of its 0.1 s main loop.

    ``on_exit`` runs first in :meth:`exit` and in the handler of Ctrl+C and SIGTERM: what must let
    go for the server to stop promptly (a request held by an injected latency would otherwise be
    cut off after the graceful-shutdown timeout, 5 s later).
    """

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """As uvicorn's: a tick every 0.1 s (date header, ``should_exit``), woken early by :meth:`exit`."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Ctrl+C or SIGTERM: let go (``on_exit``: it only sets an event, safe in a signal handler), then stop."""
        self._on_exit()
        super().handle_exit(sig, frame)

    def exit(self) -> None:
        """Ask the server to stop (from any thread)."""
        self._on_exit()
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(wake.set)


class EmulatorServer:
    """An emulator running in a background thread; a context manager.

    ``url`` (e.g. ``http://127.0.0.1:40123``) is valid once started. Stopping
    and starting again on the same data dir keeps every load, token and the
    clock; with ``port=0`` each start may get a new port.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.url = ""
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r}, data_dir={str(self.settings.data_dir)!r})"

    def start(self) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        sock, app = _bound_app(self.settings)
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        _quiet_drops()
        # An answer held by an injected latency goes at once when the server is asked to stop.
        server = _PromptServer(config, on_exit=app.state.emulator.faults.release)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="improvado-emulator", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=5)
                sock.close()
                emulator: Emulator = app.state.emulator
                emulator.stop()
                reason = f": {emulator.startup_error!r}" if emulator.startup_error else ""
                raise RuntimeError(
                    f"the emulator did not start on {self.settings.host}:{self.settings.port}{reason}"
                ) from emulator.startup_error
            time.sleep(0.01)
        port = sock.getsockname()[1]
        self.url = f"http://{_url_host(self.settings.host)}:{port}"
        self._server, self._thread, self._socket = server, thread, sock
        return self

    def stop(self) -> None:
        """Stop serving and release the data dir (idempotent)."""
        if self._server is None or self._thread is None:
            return
        self._server.exit()
        self._thread.join(timeout=30)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
