"""Adoption (``adopt_load_id``, ``adopt_connection_id``) is a one-time handover.

Only the first create of a resource may adopt. But a replacement's ``create``
cannot see that the resource was already in the stack: the engine checks the
inputs again without the old ones and calls ``create`` with the program's
inputs, the adopt id included. It always calls ``diff`` first, in the same
provider process (one process serves a whole deployment), and only for a
resource that is in the stack. So :class:`InStack` remembers what ``diff`` saw,
and a ``create`` whose inputs were diffed in this process is a replacement:
it creates anew instead of adopting.

A replacement the engine forces (``pulumi up --replace <urn>``, or a tainted
resource) skips ``diff`` and checks the inputs without the old ones, so two more
facts of the process decide there: an id this process deleted is never adopted
(a delete-first replacement creates anew), and a delete of an id this process
adopted leaves it alone (a create-first replacement took that very object over;
deleting it would leave the stack pointing at nothing).
"""

from __future__ import annotations

import threading
from typing import Any

from improvado_loads.provider.props import as_int

__all__ = ["InStack"]


class InStack:
    """Resources this provider process has diffed (so already in the stack), by the given input keys."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._seen: set[tuple[str, ...]] = set()
        self._deleted: set[int] = set()
        self._adopted: set[int] = set()

    def _key(self, inputs: dict[str, Any]) -> tuple[str, ...]:
        return tuple(repr(as_int(inputs.get(k))) for k in self._keys)

    def remember(self, inputs: dict[str, Any]) -> None:
        """Called by ``diff``: a resource with these inputs is in the stack."""
        with self._lock:
            self._seen.add(self._key(inputs))

    def __contains__(self, inputs: object) -> bool:
        with self._lock:
            return isinstance(inputs, dict) and self._key(inputs) in self._seen

    def may_adopt(self, inputs: dict[str, Any], object_id: int) -> bool:
        """Whether a ``create`` with these inputs may adopt ``object_id``: a first create only."""
        with self._lock:
            return self._key(inputs) not in self._seen and object_id not in self._deleted

    def deleted(self, object_id: int) -> None:
        """Called by ``delete`` once the object is gone: it is never adopted again in this process."""
        with self._lock:
            self._deleted.add(object_id)

    def adopted(self, object_id: int) -> None:
        """Called by ``create`` after adopting ``object_id``."""
        with self._lock:
            self._adopted.add(object_id)

    def taken_over(self, object_id: int) -> bool:
        """Whether a ``create`` of this process adopted ``object_id`` (so its delete must not remove it)."""
        with self._lock:
            return object_id in self._adopted
