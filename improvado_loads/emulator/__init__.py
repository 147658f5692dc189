"""A local emulator of the Improvado Loads API, for demos and tests.

A real HTTP server (FastAPI on uvicorn) with its state in SQLite: two seeded
workspaces with data tables and destination connections, loads that really
move rows into SQLite or PostgreSQL, an emulator clock for schedules, injected
faults, and a request log. ``/api/v3/`` is the Improvado surface;
``/_emulator/`` is the test surface (see :class:`EmulatorControl`).

>>> from improvado_loads.emulator import EmulatorServer, EmulatorSettings
>>> with EmulatorServer(EmulatorSettings(data_dir=tmp, port=0)) as server:  # doctest: +SKIP
...     print(server.url)
"""

from __future__ import annotations

from improvado_loads.emulator.app import create_app
from improvado_loads.emulator.client_control import EmulatorControl
from improvado_loads.emulator.server import EmulatorServer, serve
from improvado_loads.emulator.settings import EmulatorSettings

__all__ = ["EmulatorControl", "EmulatorServer", "EmulatorSettings", "create_app", "serve"]
