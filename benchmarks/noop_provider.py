"""The engine's floor: a dynamic resource shaped like ``Load`` whose provider makes no call at all.

``NoopLoad`` takes the same inputs and returns the same outputs as
:class:`improvado_loads.Load`; its provider is pickled by reference (this
module is importable, the instance pickles to nothing), as ours is, so the
engine does the same work for both and only the provider's own work differs.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

__all__ = ["NoopLoad", "NoopProvider"]

#: Inputs whose change replaces a load, as for ``Load``.
REPLACE_KEYS = ("data_table_id", "destination_connection_id", "destination_table", "load_historical_data")
UPDATE_KEYS = ("run_policy", "paused", "deletion_policy", "allow_shared_table", "adopt_load_id")
OUTPUTS = {"data_table": None, "status": "new", "last_update": None, "error_text": None,
           "uploaded_rows_count": None, "workspace_id": 1}
_ids = itertools.count(1)


class NoopProvider(ResourceProvider):
    """Answers every step from its arguments alone."""

    serialize_as_secret_always = False

    def __reduce__(self) -> tuple[type[NoopProvider], tuple[()]]:
        return (type(self), ())  # by reference, as ours (improvado_loads.provider.base.ClientProvider)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_KEYS if olds.get(k) != news.get(k)]
        updates = [k for k in UPDATE_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{os.getpid()}-{next(_ids)}", {**props, **OUTPUTS})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **OUTPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class NoopLoad(pulumi.dynamic.Resource, module="bench", name="NoopLoad"):
    """A resource with ``Load``'s inputs and outputs on :class:`NoopProvider`."""

    def __init__(self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        defaults = {"load_historical_data": False, "deletion_policy": "delete", "adopt_load_id": None,
                    "allow_shared_table": False, "paused": False}
        super().__init__(NoopProvider(), resource_name, {**defaults, **props, **dict.fromkeys(OUTPUTS)}, opts)
