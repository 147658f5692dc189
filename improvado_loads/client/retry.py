"""When and how long to retry: one tenacity policy for every request of the client.

Reads, updates and deletes (idempotent) are retried after 429, 5xx and any
transport error but a refused connection (nothing listens) or a rejected TLS
certificate (no retry makes it trusted): those are said at once.
A request that is not idempotent (a create, a run) is resent blindly only when
it surely never took effect (429, a failed connect, a failed token exchange);
after a 5xx or a lost answer it is resent only if the caller can look first whether
it took effect (``recoverable``): see :meth:`HTTPCore.request`.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

logger = logging.getLogger("improvado_loads")

#: Statuses worth another try: rate limited, and the 5xx (whose outcome is unknown).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Transport failures after which the request certainly never reached the service.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_E = TypeVar("_E", bound=BaseException)


def _caused_by(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` down ``exc``'s chain of causes, if any."""
    seen: BaseException | None = exc
    for _ in range(10):  # bounded walk down the chain of causes
        if seen is None:
            return None
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def refused(exc: BaseException) -> bool:
    """Whether a transport error is a refused connection: nothing listens there, so no retry helps.

    A service that is down, restarting or overloaded answers 5xx, 429 or drops an
    answer (all retried); a refused connect means a wrong URL or no server at all.
    """
    return _caused_by(exc, ConnectionRefusedError) is not None


def certificate_rejected(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The verification error when the server's TLS certificate was not trusted: no retry changes that."""
    return _caused_by(exc, ssl.SSLCertVerificationError)


def final(exc: BaseException) -> bool:
    """Whether a transport error is one that no retry helps: a refused connection or a rejected certificate."""
    return refused(exc) or certificate_rejected(exc) is not None


class RetryableResponse(Exception):
    """Raised inside the retry loop for an answer that deserves another try."""

    def __init__(self, response: httpx.Response, *, sent: bool = True) -> None:
        super().__init__(f"{response.status_code}")
        self.response = response
        #: False when the answer is to a step before the request (the token exchange):
        #: the request itself never left, so it may be sent again whatever it is.
        self.sent = sent

    @property
    def retry_after(self) -> float | None:
        """The service's ``Retry-After`` hint, in seconds."""
        value = self.response.headers.get("Retry-After")
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how patiently to retry."""

    #: 9 attempts, waits capped at 4 s: under a third of requests failing (5xx, 429, lost
    #: answers) an ``up`` of 30 loads converges in one run (tests/engine/test_faults_converge.py),
    #: and an API that keeps failing is given up after about 15 s of waits between attempts (a
    #: refused connection at once).
    max_retries: int = 8
    backoff_base: float = 0.5
    backoff_max: float = 4.0
    retry_after_max: float = 60.0
    #: Connect timeouts in a row after which the host is taken as unreachable (a wrong address, or
    #: a firewall dropping the connection) and the request given up: each costs the client's connect
    #: timeout (10 s by default), so about 30 s, where the whole budget would take about 100 s.
    #: 0: no limit of its own (``max_retries`` still applies).
    connect_timeouts: int = 3

    def retrying(self, *, idempotent: bool, recoverable: bool = False) -> Retrying:
        """A tenacity loop.

        A non-idempotent call retries what was never processed, and, when
        ``recoverable`` (the caller looks before sending again), any other failure too.
        """

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, RetryableResponse):
                if not exc.sent:
                    return True
                return idempotent or recoverable or exc.response.status_code == 429
            if isinstance(exc, httpx.TransportError):
                if final(exc):
                    return False
                return idempotent or recoverable or isinstance(exc, NOT_SENT_ERRORS)
            return False

        jitter = wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_max)

        def hinted(exc: BaseException | None) -> float | None:
            if isinstance(exc, RetryableResponse) and exc.retry_after is not None:
                return min(exc.retry_after, self.retry_after_max)
            return None

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hint = hinted(exc)
            if hint is None:
                return float(jitter(state))
            if isinstance(exc, RetryableResponse) and exc.response.status_code == 429:
                return 0.0  # the client's RateGate holds this request, and every other, until Retry-After
            return hint

        def log(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            what = f"HTTP {exc.response.status_code}" if isinstance(exc, RetryableResponse) else type(exc).__name__
            sleep = state.next_action.sleep if state.next_action else 0.0
            sleep = max(sleep, hinted(exc) or 0.0)
            logger.warning("retrying after %s (attempt %d, in %.2fs)", what, state.attempt_number, sleep)

        budget = stop_after_attempt(self.max_retries + 1)
        timeouts_in_a_row = 0

        def stop(state: RetryCallState) -> bool:  # called once after each failed attempt
            nonlocal timeouts_in_a_row
            exc = state.outcome.exception() if state.outcome else None
            timeouts_in_a_row = timeouts_in_a_row + 1 if isinstance(exc, httpx.ConnectTimeout) else 0
            unreachable = 0 < self.connect_timeouts <= timeouts_in_a_row
            return unreachable or bool(budget(state))

        return Retrying(
            retry=retry_if_exception(should_retry),
            wait=wait,
            stop=stop,
            before_sleep=log,
            reraise=True,
        )
