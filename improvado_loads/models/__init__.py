"""Typed bodies of the Improvado Loads API, one module per concern.

- :mod:`.loads`: :class:`Load`, :class:`RunPolicy`, :class:`LoadStatus` and the create, update and
  run requests;
- :mod:`.catalog`: :class:`DataTable` and its :class:`Column`;
- :mod:`.connections`: :class:`DestinationConnection`, its requests and each destination type's
  typed params (:class:`PostgresqlParams`, :class:`SqliteParams`);
- :mod:`.auth`: :class:`Token` and :class:`TokenRequest`;
- :mod:`.base`: :data:`Id` and :class:`Page`, shared by all.

Requests validate strictly, before any network call; responses parse
forward-compatibly (unknown enum values kept as plain strings, extra fields kept).
Every name here is imported on first use, so a command that reads loads never
defines the connection or catalog models (each model class costs about 0.2 ms to
define): ``from improvado_loads.models import Load`` imports :mod:`.loads` alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from improvado_loads.models.auth import Token, TokenRequest
    from improvado_loads.models.base import Id, Page
    from improvado_loads.models.catalog import Column, DataTable
    from improvado_loads.models.connections import (
        ConnectionParams,
        DestinationConnection,
        DestinationConnectionCreate,
        DestinationConnectionUpdate,
        PostgresqlParams,
        SqliteParams,
        params_body,
        params_model,
        params_of,
    )
    from improvado_loads.models.loads import (
        DataTableRef,
        Load,
        LoadCreate,
        LoadStatus,
        LoadUpdate,
        RunPolicy,
        RunRequest,
    )

__all__ = [
    "Column",
    "ConnectionParams",
    "DataTable",
    "DataTableRef",
    "DestinationConnection",
    "DestinationConnectionCreate",
    "DestinationConnectionUpdate",
    "Id",
    "Load",
    "LoadCreate",
    "LoadStatus",
    "LoadUpdate",
    "Page",
    "PostgresqlParams",
    "RunPolicy",
    "RunRequest",
    "SqliteParams",
    "Token",
    "TokenRequest",
    "params_body",
    "params_model",
    "params_of",
]

#: The module of each name, under ``improvado_loads.models``.
_HOMES = {
    **dict.fromkeys(("Token", "TokenRequest"), "auth"),
    **dict.fromkeys(("Id", "Page"), "base"),
    **dict.fromkeys(("Column", "DataTable"), "catalog"),
    **dict.fromkeys(
        (
            "ConnectionParams", "DestinationConnection", "DestinationConnectionCreate", "DestinationConnectionUpdate",
            "PostgresqlParams", "SqliteParams", "params_body", "params_model", "params_of",
        ),
        "connections",
    ),
    **dict.fromkeys(
        ("DataTableRef", "Load", "LoadCreate", "LoadStatus", "LoadUpdate", "RunPolicy", "RunRequest"), "loads"
    ),
}
assert sorted(_HOMES) == sorted(__all__)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
