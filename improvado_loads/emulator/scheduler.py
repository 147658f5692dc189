"""Timed run policies (hourly, daily, weekly) on the emulator clock.

A timed load's slots are ``created_at + k * period``; its ``next_run_at`` starts
at ``created_at + period``. When the clock reaches it, one run is queued and
``next_run_at`` moves to the first slot after now: moving the clock a month
ahead queues one run, not thirty. Paused loads never run (unpausing moves
their next slot past now). A background ticker checks every ``tick_seconds``;
setting the clock checks at once.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from improvado_loads.emulator.clock import Clock, naive_utc
from improvado_loads.emulator.runner import Runner
from improvado_loads.emulator.store import LoadRow, Store

__all__ = ["PERIODS", "Scheduler", "next_slot"]

PERIODS: dict[str, timedelta] = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
}


def next_slot(run_policy: str, anchor: datetime, now: datetime) -> datetime | None:
    """The first slot of a timed policy strictly after ``now`` (None for untimed policies)."""
    period = PERIODS.get(run_policy)
    if period is None:
        return None
    if now < anchor + period:
        return anchor + period
    periods = int((now - anchor) / period) + 1
    return anchor + periods * period


class Scheduler:
    """Queues the timed loads that are due, on a ticker thread and on demand."""

    def __init__(self, store: Store, clock: Clock, runner: Runner, tick_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self._runner = runner
        self._tick = max(tick_seconds, 0.01)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the ticker."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="emulator-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the ticker."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self._tick):
            self.queue_due()

    def queue_due(self) -> list[int]:
        """Queue one run of every due, unpaused timed load; returns their ids."""
        triggered: list[int] = []
        with self._store.session() as session:
            now = naive_utc(self._clock.now())
            due = session.scalars(
                select(LoadRow)
                .where(LoadRow.run_policy.in_(PERIODS), LoadRow.next_run_at <= now, LoadRow.paused.is_(False))
                .order_by(LoadRow.id)
            ).all()
            for load in due:
                if load.run_state == "idle":
                    self._runner.enqueue(load)
                    triggered.append(load.id)
                load.next_run_at = next_slot(load.run_policy, load.created_at, now)
        return triggered
