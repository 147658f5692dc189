"""Profiling the provider process on demand: ``IMPROVADO_PROVIDER_PROFILE=DIR``.

With the variable set (in the environment of ``pulumi``, which passes it to the
provider process), the process that runs the dynamic providers is profiled with
:mod:`cProfile` from the first ``configure`` of one of this package's providers:
the thread that configures it and every thread started after. When the process
ends it writes ``DIR/provider-<pid>.prof`` (pstats: ``python -m pstats FILE``).
Imports are measured apart, with Python's own ``PYTHONPROFILEIMPORTTIME=1``
(written to the provider's stderr). Unset, nothing happens.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["PROFILE_ENV", "start_if_asked"]

PROFILE_ENV = "IMPROVADO_PROVIDER_PROFILE"
_LOCK = threading.Lock()
_profiles: list[cProfile.Profile] = []
_started = False


def _profile_this_thread() -> None:
    profile = cProfile.Profile()
    with _LOCK:
        _profiles.append(profile)
    profile.enable()


def _on_new_thread(*_args: Any) -> None:
    """Installed by ``threading.setprofile``: runs first in each new thread, hands it to cProfile."""
    sys.setprofile(None)
    _profile_this_thread()


def dump() -> Path | None:
    """Write what was profiled so far (every thread together); returns the file, or None when off."""
    with _LOCK:
        profiles, _profiles[:] = list(_profiles), []
    if not profiles:
        return None
    for profile in profiles:
        profile.create_stats()
    directory = Path(os.environ[PROFILE_ENV])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"provider-{os.getpid()}.prof"
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    stats.dump_stats(str(path))
    return path


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    dump()
    sys.exit(128 + signum)


def start_if_asked() -> None:
    """Start profiling this process when ``IMPROVADO_PROVIDER_PROFILE`` names a directory (once)."""
    global _started
    if not os.environ.get(PROFILE_ENV):
        return
    with _LOCK:
        if _started:
            return
        _started = True
    threading.setprofile(_on_new_thread)
    _profile_this_thread()
    atexit.register(dump)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _on_signal)
