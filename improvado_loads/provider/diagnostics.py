"""Warnings on the engine's output, from inside the dynamic provider host.

A provider plugin is started with the address of the engine's host service as
its first argument; that service's ``Log`` call is how the engine's own
providers print ``warning:`` lines. :func:`warn` uses it when the process is the
dynamic provider host, and falls back to a plain stderr line (which the engine
also shows) when it cannot.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

__all__ = ["warn"]

HOST_MODULE = "pulumi.dynamic.__main__"
_ADDRESS = re.compile(r"^[\w.\-\[\]:]+:\d+$")
TIMEOUT_SECONDS = 5.0


def _engine_address() -> str | None:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is None or spec.name != HOST_MODULE:
        return None
    found = [arg for arg in sys.argv[1:] if _ADDRESS.match(arg)]
    return found[0] if found else None


def warn(message: str) -> None:
    """Show ``message`` as a warning of the deployment (never raises)."""
    address = _engine_address()
    if address is not None:
        try:
            from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

            grpc: Any = importlib.import_module("grpc")  # the SDK's own dependency (no type stubs)

            with grpc.insecure_channel(address) as channel:
                request = engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message)
                engine_pb2_grpc.EngineStub(channel).Log(request, timeout=TIMEOUT_SECONDS)
            return
        except Exception:  # a warning must never fail the step: stderr below instead
            pass
    sys.stderr.write(f"improvado: warning: {message}\n")
    sys.stderr.flush()
