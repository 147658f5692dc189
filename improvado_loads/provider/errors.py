"""Provider errors that reach the user as one line, not a Python traceback.

The dynamic provider host (``python -m pulumi.dynamic``) answers every exception
raised in a provider method with ``traceback.format_exc()`` as the gRPC error
detail, and the engine prints that detail under the resource: twelve lines of
frames before the one line that says what went wrong. :func:`install` gives the
host's ``__main__`` module a ``traceback`` whose ``format_exc`` returns just the
message when the exception is one of ours (:class:`ProviderError`, or a client
:class:`~improvado_loads.errors.ImprovadoError`, whose messages are built to be
read and never carry a credential). Any other exception, ours by mistake or
another dynamic provider's, keeps its full traceback. The engine already names
the resource (``Load (ads): error: <message>``), so the message says the cause.

It changes nothing outside the provider host: :func:`install` only acts when the
running ``__main__`` is ``pulumi.dynamic.__main__``.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Any

from improvado_loads.errors import ImprovadoError

__all__ = ["ProviderError", "install", "one_line"]

HOST_MODULE = "pulumi.dynamic.__main__"
_LOCK = threading.Lock()


class ProviderError(Exception):
    """A lifecycle step failed for a reason the user can act on; its message is the whole report."""


def one_line(exc: BaseException) -> str | None:
    """The message the engine should show for ``exc``, or None to keep the traceback."""
    if isinstance(exc, (ProviderError, ImprovadoError)):
        return " ".join(str(exc).split("\n")).strip() or type(exc).__name__
    return None


class _Traceback:
    """The ``traceback`` module, except that :func:`format_exc` is short for our errors."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def format_exc(self, *args: Any, **kwargs: Any) -> str:
        exc = sys.exc_info()[1]
        short = one_line(exc) if exc is not None else None
        if short is not None:
            return short
        return str(self._real.format_exc(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def install() -> None:
    """In the provider host process, report our errors as one line (idempotent)."""
    host = sys.modules.get("__main__")
    spec = getattr(host, "__spec__", None)
    if host is None or spec is None or spec.name != HOST_MODULE:
        return
    with _LOCK:
        current = getattr(host, "traceback", None)
        if isinstance(current, ModuleType):
            host.traceback = _Traceback(current)  # type: ignore[attr-defined]
