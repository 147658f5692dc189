"""The emulator's parts, wired together, and their start and stop."""

from __future__ import annotations

from improvado_loads.emulator.auth import LoginThrottle, Tokens
from improvado_loads.emulator.clock import Clock
from improvado_loads.emulator.datadir_lock import DataDirLock
from improvado_loads.emulator.destinations import Destinations
from improvado_loads.emulator.faults import Faults
from improvado_loads.emulator.journal import Journal
from improvado_loads.emulator.runner import Runner
from improvado_loads.emulator.scheduler import Scheduler
from improvado_loads.emulator.seed import apply_postgres_dsn, seed_once
from improvado_loads.emulator.settings import EmulatorSettings
from improvado_loads.emulator.store import Store

__all__ = ["Emulator"]


class Emulator:
    """State, clock, runs, schedules, faults and the request log of one emulator."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        #: Taken first: a second emulator on this data dir refuses before touching its state.
        self.lock = DataDirLock(settings.data_dir)
        self.lock.acquire()
        try:
            self.store = Store(settings.state_path)
        except BaseException:
            self.lock.release()
            raise
        self.clock = Clock(self.store)
        self.login_throttle = LoginThrottle()
        self.tokens = Tokens(static_token=settings.token, username=settings.username, password=settings.password)
        self.destinations = Destinations(settings.data_dir, settings.destination_timeout_seconds)
        self.runner = Runner(self.store, self.clock, self.destinations, settings.run_seconds)
        self.scheduler = Scheduler(self.store, self.clock, self.runner, settings.tick_seconds)
        self.faults = Faults()
        self.journal = Journal()
        #: Why :meth:`start` failed, for whoever started the server.
        self.startup_error: BaseException | None = None

    def start(self) -> None:
        """Seed (first start only), fail interrupted runs, start the workers and the ticker."""
        try:
            seed_once(self.store, self.clock.now().date(), self.settings.postgres_dsn)
            apply_postgres_dsn(self.store, self.settings.postgres_dsn)
            self.runner.recover()
            self.runner.start()
            self.scheduler.start()
        except BaseException as exc:
            self.startup_error = exc
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the ticker and the workers, release every database (safe to call twice)."""
        self.scheduler.stop()
        self.runner.stop()
        self.destinations.close()
        self.store.close()
        self.lock.release()
