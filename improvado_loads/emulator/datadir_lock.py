"""One emulator per data dir: an exclusive ``flock`` on ``<data_dir>/emulator.lock``.

The lock is taken before anything in the data dir is read or written, and the
file names the process that holds it, so a second emulator on the same data
dir refuses at once and says which process to look at. The kernel releases the
lock when its holder exits, even on ``kill -9``: a stale file never blocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

__all__ = ["LOCK_NAME", "DataDirBusy", "DataDirLock"]

LOCK_NAME = "emulator.lock"


class DataDirBusy(RuntimeError):
    """Another process holds the data dir; the message names its pid."""


class DataDirLock:
    """The exclusive lock of one data dir (:meth:`acquire`, :meth:`release`)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`DataDirBusy` naming the holder; touches nothing else."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirBusy(
                f"the data dir {self.path.parent} is in use by another emulator (pid {holder}); "
                "stop it, or give another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
