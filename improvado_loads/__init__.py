"""Improvado load orders as code.

- :class:`ImprovadoClient`: the typed Loads API client (``client.loads.create(...)``).
- :class:`Load`, :class:`LoadArgs`, :class:`LoadRun`, :func:`get_load`, :func:`get_loads`:
  the Pulumi resources and look-ups (imported lazily, so the client works without
  loading the Pulumi SDK).
- ``improvado-loads``: the command line; ``improvado-loads emulator serve``: the
  local emulator of the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from improvado_loads.client import ImprovadoClient, RetryPolicy
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
from improvado_loads.models import (
    DataTable,
    DestinationConnection,
    LoadStatus,
    PostgresqlParams,
    RunPolicy,
    SqliteParams,
)
from improvado_loads.models import Load as LoadModel

if TYPE_CHECKING:
    from improvado_loads.resources import Load, LoadArgs, LoadRun, get_load, get_loads

__version__ = "0.1.0"

_PULUMI_NAMES = {"Load", "LoadArgs", "LoadRun", "LoadRunArgs", "get_load", "get_loads", "LoadInfo"}

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DataTable",
    "DestinationConnection",
    "ImprovadoClient",
    "ImprovadoError",
    "InvalidRequestError",
    "Load",
    "LoadArgs",
    "LoadModel",
    "LoadRun",
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
    "get_load",
    "get_loads",
]


def __getattr__(name: str) -> Any:
    if name in _PULUMI_NAMES:
        from improvado_loads import resources

        return getattr(resources, name)
    raise AttributeError(f"module 'improvado_loads' has no attribute {name!r}")
