"""Improvado load orders as code.

- :class:`ImprovadoClient`: the typed Loads API client (``client.loads.create(...)``).
- :class:`Load`, :class:`LoadArgs`, :class:`LoadRun`, :class:`DestinationConnection`,
  :func:`get_data_table`, :func:`get_destination_connection`, :func:`get_load`,
  :func:`get_loads`: the Pulumi resources and look-ups (extra ``improvado-loads[pulumi]``).
  The API's connection model is :class:`DestinationConnectionModel`.
- ``improvado-loads``: the command line (extra ``[cli]``); ``improvado-loads emulator
  serve``: the local emulator of the API (extra ``[emulator]``).

Every name is imported on first use, so ``import improvado_loads`` costs almost
nothing and the client never loads the Pulumi SDK, the CLI or the web server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from improvado_loads.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ImprovadoError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RunFailedError,
    ServerError,
    TableInUseError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from improvado_loads.client import ImprovadoClient, RetryPolicy
    from improvado_loads.connections import DestinationConnection, DestinationConnectionArgs
    from improvado_loads.models import (
        DataTable,
        LoadStatus,
        PostgresqlParams,
        RunPolicy,
        SqliteParams,
    )
    from improvado_loads.models import DestinationConnection as DestinationConnectionModel
    from improvado_loads.models import Load as LoadModel
    from improvado_loads.resources import (
        ConnectionInfo,
        DataTableInfo,
        Load,
        LoadArgs,
        LoadInfo,
        LoadRun,
        LoadRunArgs,
        get_data_table,
        get_destination_connection,
        get_load,
        get_loads,
    )

__version__ = "0.1.0"

#: Where each lazily imported name lives: (module, attribute).
_LAZY = {
    "ImprovadoClient": ("improvado_loads.client", "ImprovadoClient"),
    "RetryPolicy": ("improvado_loads.client", "RetryPolicy"),
    "DataTable": ("improvado_loads.models", "DataTable"),
    "DestinationConnectionModel": ("improvado_loads.models", "DestinationConnection"),
    "DestinationConnection": ("improvado_loads.connections", "DestinationConnection"),
    "DestinationConnectionArgs": ("improvado_loads.connections", "DestinationConnectionArgs"),
    "LoadStatus": ("improvado_loads.models", "LoadStatus"),
    "RunPolicy": ("improvado_loads.models", "RunPolicy"),
    "PostgresqlParams": ("improvado_loads.models", "PostgresqlParams"),
    "SqliteParams": ("improvado_loads.models", "SqliteParams"),
    "LoadModel": ("improvado_loads.models", "Load"),
    **{
        name: ("improvado_loads.resources", name)
        for name in (
            "Load", "LoadArgs", "LoadRun", "LoadRunArgs", "get_load", "get_loads", "LoadInfo",
            "DataTableInfo", "ConnectionInfo", "get_data_table", "get_destination_connection",
        )
    },
}

#: The extra that brings the Pulumi SDK, named when it is missing.
PULUMI_EXTRA_HINT = "pip install 'improvado-loads[pulumi]'"

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionInfo",
    "DataTable",
    "DataTableInfo",
    "DestinationConnection",
    "DestinationConnectionArgs",
    "DestinationConnectionModel",
    "ImprovadoClient",
    "ImprovadoError",
    "InvalidRequestError",
    "Load",
    "LoadArgs",
    "LoadInfo",
    "LoadModel",
    "LoadRun",
    "LoadRunArgs",
    "LoadStatus",
    "NotFoundError",
    "PermissionDeniedError",
    "PostgresqlParams",
    "RateLimitedError",
    "RetryPolicy",
    "RunFailedError",
    "RunPolicy",
    "ServerError",
    "SqliteParams",
    "TableInUseError",
    "WaitTimeoutError",
    "get_data_table",
    "get_destination_connection",
    "get_load",
    "get_loads",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (the Pulumi names need the ``[pulumi]`` extra)."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'improvado_loads' has no attribute {name!r}")
    module_name, attribute = where
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "pulumi":
            raise ModuleNotFoundError(
                f"improvado_loads.{name} needs the Pulumi SDK, which is not installed: {PULUMI_EXTRA_HINT}",
                name=exc.name,
            ) from exc
        raise
    value = getattr(module, attribute)
    globals()[name] = value
    return value
