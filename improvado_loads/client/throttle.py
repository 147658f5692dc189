"""One pause for every request of a client after a 429 with ``Retry-After``.

When the service says "retry after N seconds", it says so for the workspace,
not for the one request that heard it. Without a shared pause, the other
requests in flight (a provider process runs many resources at once) keep
sending, each meets its own 429, and the storm grows. :class:`RateGate` holds
the moment before which no request of the client is sent; every request passes
it first, and every 429 with ``Retry-After`` moves it later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateGate"]


class RateGate:
    """The moment (monotonic clock) before which no request of a client is sent."""

    #: A gate moved later while waiting is waited for again, this many times at most.
    MAX_ROUNDS = 10

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_pause: float = 60.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_pause = max_pause
        self._until = 0.0
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        """The service asked to wait ``seconds``: no request goes before then (at most ``max_pause``)."""
        with self._lock:
            self._until = max(self._until, self._clock() + min(max(seconds, 0.0), self._max_pause))

    def pass_(self) -> float:
        """Wait until the gate is open (or ``MAX_ROUNDS`` pauses were taken); returns the time waited."""
        waited = 0.0
        for _ in range(self.MAX_ROUNDS):
            with self._lock:
                left = self._until - self._clock()
            if left <= 0:
                break
            self._sleep(left)
            waited += left
        return waited
