"""The ASGI application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from improvado_loads.emulator import api, connection_api, control
from improvado_loads.emulator.core import Emulator
from improvado_loads.emulator.faults import FaultMiddleware
from improvado_loads.emulator.http_errors import install_handlers
from improvado_loads.emulator.journal import JournalMiddleware
from improvado_loads.emulator.settings import EmulatorSettings

__all__ = ["create_app"]


def create_app(settings: EmulatorSettings) -> FastAPI:
    """An emulator application; its lifespan seeds, starts and stops the background work.

    The emulator object is ``app.state.emulator``.
    """
    emulator = Emulator(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        emulator.start()
        try:
            yield
        finally:
            emulator.stop()

    app = FastAPI(
        title="Improvado Loads API emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    install_handlers(app)
    app.include_router(api.router)
    app.include_router(connection_api.router)
    app.include_router(control.router)
    # Added last = outermost: the journal sees the status a fault answers.
    app.add_middleware(FaultMiddleware, faults=emulator.faults)
    app.add_middleware(JournalMiddleware, journal=emulator.journal)
    return app
