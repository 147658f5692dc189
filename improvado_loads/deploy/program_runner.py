"""Pulumi's program runner, as :class:`~improvado_loads.deploy.langhost.ProgramHost` runs it.

``python program_runner.py <pulumi-language-python-exec> <its arguments>`` runs Pulumi's own
runner unchanged, with one exception. When the engine cancels (Ctrl-C) or bails, it shuts the
program's resource monitor down, and every call the program still has open fails. The SDK
reports a monitor that is gone (gRPC ``UNAVAILABLE``) as the quiet "Resource monitor has
terminated, shutting down"; but a registration that was still waiting for its provider is
answered ``CANCELLED`` ("context canceled"), and the runner then shows "Program failed with an
unhandled exception" and a traceback, as if the program had failed. Here a program failure whose
cause is such a refused call, once the monitor is gone, is reported in the SDK's words for it. A
failure of the program's own (the monitor still serving) keeps its traceback, as under ``pulumi up``.

This file runs in the project's own Python: it imports only the standard library, ``grpc`` and
``pulumi`` (programs depend on nothing of ``improvado-loads deploy``; plain ``pulumi up`` is untouched).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["MONITOR_GONE", "caused_by_refused_call", "main", "monitor_gone"]

#: The SDK's own message for a call refused by a monitor that is shutting down.
MONITOR_GONE = "Resource monitor has terminated, shutting down"
#: How long a refused call's monitor may still take to stop listening (its shutdown is under way).
_SHUTDOWN_GRACE_S = 2.0


def caused_by_refused_call(exc: BaseException) -> bool:
    """Whether ``exc`` or one of its causes is a gRPC call refused as ``CANCELLED`` or ``UNAVAILABLE``."""
    import grpc  # type: ignore[import-untyped]

    refused = {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE}
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "code", None)
        if isinstance(current, grpc.RpcError) and callable(code) and code() in refused:
            return True
        current = current.__cause__ or current.__context__
    return False


def monitor_gone(address: str, grace_s: float = _SHUTDOWN_GRACE_S) -> bool:
    """Whether the resource monitor at ``address`` (``host:port``) refuses connections within ``grace_s``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return False
    deadline = time.monotonic() + grace_s
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _monitor_address(args: list[str]) -> str:
    for i, arg in enumerate(args):
        if arg == "--monitor" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--monitor="):
            return arg.split("=", 1)[1]
    return ""


def _engine_shutdowns_reported_as_such(monitor: str) -> None:
    """Wrap ``pulumi.runtime.run_in_stack`` (what the runner runs the program with)."""
    import pulumi
    import pulumi.runtime

    original: Callable[[Any], Awaitable[None]] | None = getattr(pulumi.runtime, "run_in_stack", None)
    if original is None:  # another SDK: its runner as it is
        return
    run = original

    async def run_in_stack(func: Any) -> None:
        try:
            await run(func)
        except Exception as exc:
            if isinstance(exc, pulumi.RunError) or not caused_by_refused_call(exc) or not monitor_gone(monitor):
                raise
            raise pulumi.RunError(MONITOR_GONE) from None

    pulumi.runtime.run_in_stack = run_in_stack


def main(argv: list[str]) -> None:
    """Run ``argv[0]`` (Pulumi's runner) with the arguments ``argv[1:]``."""
    runner, *args = argv
    sys.argv = [runner, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(runner))  # as `python <runner>` has it (not this directory)
    with contextlib.suppress(ImportError):  # no pulumi in the project's Python: the runner says so itself
        _engine_shutdowns_reported_as_such(_monitor_address(args))
    runpy.run_path(runner, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
