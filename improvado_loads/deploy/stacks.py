"""The stacks of a program directory, through the ``pulumi`` CLI: list, create, config, export, import, locks.

Every call runs ``pulumi`` itself, so the backend (``PULUMI_BACKEND_URL`` or the
login), the passphrase and the project are exactly those ``pulumi`` uses. A
failure raises :class:`PulumiFailed` carrying the engine's own error lines.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

__all__ = ["PulumiFailed", "StackLock", "Stacks", "project_name"]


def project_name(work_dir: Path) -> str:
    """The project name from ``Pulumi.yaml``."""
    settings = yaml.safe_load((work_dir / "Pulumi.yaml").read_text()) or {}
    return str(settings.get("name", ""))


class PulumiFailed(Exception):
    """A ``pulumi`` command failed; the message is its own ``error:`` output."""


@dataclass(frozen=True)
class StackLock:
    """A lock a file backend holds for an update in progress (or one that crashed)."""

    path: Path
    pid: int | None
    hostname: str | None

    def on_this_host(self) -> bool:
        """Whether the lock was taken on this machine."""
        return self.hostname == socket.gethostname()

    def holder_alive(self) -> bool:
        """Whether the process that took the lock still runs on this machine."""
        if self.pid is None or not self.on_this_host():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(self.pid)


def _is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped yet (Linux ``/proc``; elsewhere: no).

    A process killed with ``kill -9`` whose parent is gone lingers as a zombie until something
    reaps it (in a container, often nothing does): it still answers ``kill(pid, 0)``.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # "pid (comm) S ...": the state follows the last ")" (comm may itself hold parentheses).
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


@dataclass
class Stacks:
    """The stacks of the program in ``work_dir``."""

    work_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)

    def run(self, args: Sequence[str], *, stdin: str | None = None) -> str:
        """``pulumi <args>``; its stdout, or :class:`PulumiFailed` with its error output."""
        env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "1", **self.env}
        proc = subprocess.run(
            ["pulumi", *args, "--cwd", str(self.work_dir), "--non-interactive"],
            input=stdin, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise PulumiFailed(_error_text(proc.stderr) or f"pulumi {args[0]} exited with status {proc.returncode}")
        return proc.stdout

    def names(self) -> list[str]:
        """The project's stack names, as ``pulumi stack ls`` shows them."""
        return [str(entry["name"]) for entry in json.loads(self.run(["stack", "ls", "--json"]) or "[]")]

    def exists(self, stack: str) -> bool:
        """Whether ``stack`` is one of :meth:`names` (a name matches its org/project-qualified form)."""
        return any(name == stack or name.rsplit("/", 1)[-1] == stack for name in self.names())

    def init(self, stack: str) -> None:
        """``pulumi stack init``."""
        self.run(["stack", "init", stack])

    def set_config(self, stack: str, key: str, value: str, *, secret: bool = False) -> None:
        """``pulumi config set`` (the value through stdin, so it never shows in a process list)."""
        self.run(["config", "set", "--stack", stack, "--secret" if secret else "--plaintext", key], stdin=value)

    def config(self, stack: str) -> dict[str, str]:
        """The stack's config, secrets decrypted (``ns:key`` → value as a string)."""
        raw = json.loads(self.run(["config", "--show-secrets", "--json", "--stack", stack]) or "{}")
        return {key: str(entry.get("value", "")) for key, entry in raw.items()}

    def export(self, stack: str) -> dict[str, Any]:
        """``pulumi stack export`` (secrets stay encrypted)."""
        return dict(json.loads(self.run(["stack", "export", "--stack", stack])))

    def import_(self, stack: str, state: Mapping[str, Any]) -> None:
        """``pulumi stack import`` of a whole exported state."""
        with tempfile.TemporaryDirectory(prefix="improvado-loads-state-") as tmp:
            path = Path(tmp) / "state.json"
            path.write_text(json.dumps(state))
            self.run(["stack", "import", "--stack", stack, "--file", str(path)])

    def cancel(self, stack: str) -> None:
        """``pulumi cancel``: release the stack's update lock."""
        self.run(["cancel", "--yes", "--stack", stack])

    def backend_url(self) -> str:
        """The backend ``pulumi`` uses (``pulumi whoami``)."""
        return str(json.loads(self.run(["whoami", "--verbose", "--json"])).get("url", ""))

    def file_locks(self, stack: str, project: str) -> list[StackLock] | None:
        """The locks a file backend holds on the stack; ``None`` for other backends."""
        url = urlparse(self.backend_url())
        if url.scheme != "file":
            return None
        org, _, name = stack.rpartition("/")
        lock_dir = Path(unquote(url.path)) / ".pulumi" / "locks" / (org or "organization") / project / name
        locks = []
        for path in sorted(lock_dir.glob("*.json")):
            try:
                info = json.loads(path.read_text())
            except (OSError, ValueError):
                info = {}
            pid = info.get("pid")
            locks.append(StackLock(path, pid if isinstance(pid, int) else None, info.get("hostname")))
        return locks


def _error_text(stderr: str) -> str:
    """The ``error:`` part of ``pulumi``'s stderr (the whole of it when there is no such line)."""
    text = stderr.strip()
    start = text.find("error:")
    return (text[start + len("error:") :] if start >= 0 else text).strip()
