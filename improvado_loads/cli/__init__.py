"""The ``improvado-loads`` command line: loads, the catalog, export to Pulumi, the emulator.

Every API command takes ``--api-url``, ``--token`` and ``--workspace-id``, or
reads ``IMPROVADO_API_URL``, ``IMPROVADO_API_TOKEN``, ``IMPROVADO_USERNAME``,
``IMPROVADO_PASSWORD`` and ``IMPROVADO_WORKSPACE_ID``. A failure prints one
``error: ...`` line on stderr and exits 2 (bad input) or 1 (anything else).

The command line needs the ``[cli]`` extra (Typer, Rich); without it,
:func:`main` says so in one line. The app itself lives in
:mod:`improvado_loads.cli.root` and is importable here as ``app``.
"""

from __future__ import annotations

import atexit
import gc
import sys
from typing import TYPE_CHECKING, Any

from improvado_loads.cli import startup

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]

CLI_EXTRA_HINT = "pip install 'improvado-loads[cli]'"


def _app() -> typer.Typer:
    from improvado_loads.cli.root import app

    return app


def main() -> None:
    """Run the command line (the ``improvado-loads`` console script); exits with its status."""
    startup.pause()  # the collector, until the command's work begins (improvado_loads.cli.startup)
    try:
        _run()
    finally:
        startup.resume()  # an in-process caller (one that catches SystemExit) gets its collector back


def _run() -> None:
    try:
        app = _app()
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("typer", "rich", "click"):
            raise
        print(
            f"error: the improvado-loads command line needs its optional dependencies ({exc.name} is missing): "
            f"{CLI_EXTRA_HINT}",
            file=sys.stderr,
        )
        sys.exit(1)
    # The process ends with this command. The interpreter's last garbage collections would then
    # walk every object that Typer, pydantic and Rich made (about 50 ms for ``loads list``, more
    # than the command's own work) only to free memory the OS takes back anyway. Frozen at exit,
    # those objects are freed by reference counting as modules are torn down; only cycles are left
    # to the OS. Every command closes its files and connections itself (with blocks), and Python
    # does not promise finalizers of objects alive at exit. Registered for the exit only, so an
    # in-process caller of main() that catches SystemExit keeps a collectable heap.
    atexit.register(gc.freeze)
    app(prog_name="improvado-loads")


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(f"module 'improvado_loads.cli' has no attribute {name!r}")
