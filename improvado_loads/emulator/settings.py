"""Settings of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["STATE_FILE_NAME", "EmulatorSettings"]

#: The emulator's own state DB in its data dir (no connection may name it).
STATE_FILE_NAME = "emulator.sqlite3"


@dataclass
class EmulatorSettings:
    """How an emulator listens, authenticates and paces its runs.

    ``data_dir`` holds the state (``emulator.sqlite3``) and the SQLite
    warehouses (``warehouse-ws<N>.sqlite3``). ``port=0`` picks a free port.
    ``token`` is a static bearer token of workspace 1 that never expires.
    ``postgres_dsn`` (a libpq URL) backs the "Analytics Postgres" connections;
    without it they stay ``initializing``. ``host`` must be a loopback address
    unless ``allow_remote`` (the ``/_emulator`` surface has no authentication).
    A run waits at most ``destination_timeout_seconds`` on its destination.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = "emulator-token"
    username: str = "demo"
    password: str = "demo"
    postgres_dsn: str | None = None
    run_seconds: float = 0.2
    tick_seconds: float = 0.5
    allow_remote: bool = False
    #: Longest wait on a destination (connect, lock, statement) before its run fails.
    destination_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    def __repr__(self) -> str:
        return (
            f"EmulatorSettings(data_dir={str(self.data_dir)!r}, host={self.host!r}, port={self.port}, "
            f"token=***, username={self.username!r}, password=***, "
            f"postgres_dsn={'set' if self.postgres_dsn else None!r}, run_seconds={self.run_seconds}, "
            f"tick_seconds={self.tick_seconds}, allow_remote={self.allow_remote})"
        )

    @property
    def state_path(self) -> Path:
        """The SQLite file of the emulator's own state."""
        return self.data_dir / STATE_FILE_NAME
