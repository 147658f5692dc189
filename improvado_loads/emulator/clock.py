"""The emulator clock: wall clock plus a persisted offset.

Runs stamp ``last_update`` with it, schedules fire by it, and the seed dates its
source rows by it. Tokens expire by the wall clock instead.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from improvado_loads.emulator.store import Store

__all__ = ["Clock", "iso_utc", "naive_utc"]

_OFFSET_KEY = "clock_offset_seconds"


def naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without tzinfo (how the state DB stores times); naive input is taken as UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with a ``Z``, to the millisecond."""
    return naive_utc(moment).isoformat(timespec="milliseconds") + "Z"


class Clock:
    """Emulator time; setting it persists the offset in the state DB."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        with store.session() as session:
            self._offset = float(store.get_meta(session, _OFFSET_KEY) or 0.0)

    def now(self) -> datetime:
        """The emulator's current time (aware, UTC)."""
        with self._lock:
            offset = self._offset
        return datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() + offset, timezone.utc)

    def set(self, moment: datetime) -> None:
        """Make ``now()`` read ``moment`` (naive means UTC); time then runs on from there."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        offset = moment.timestamp() - datetime.now(timezone.utc).timestamp()
        with self._store.session() as session:
            self._store.set_meta(session, _OFFSET_KEY, repr(offset))
        with self._lock:
            self._offset = offset
