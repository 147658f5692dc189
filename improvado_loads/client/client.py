"""``ImprovadoClient``: the typed Improvado Loads API client (re-exported by :mod:`improvado_loads.client`)."""

from __future__ import annotations

import os
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from improvado_loads import contract
from improvado_loads.client._core import DEFAULT_TIMEOUT, HTTPCore
from improvado_loads.client.auth import WorkspaceAuth
from improvado_loads.client.loads import Loads
from improvado_loads.client.retry import RetryPolicy
from improvado_loads.client.secrets import refuse_userinfo
from improvado_loads.client.validation import checked_base_url
from improvado_loads.contract import ENV_VARS
from improvado_loads.errors import ConfigurationError

if TYPE_CHECKING:
    from improvado_loads.client.catalog import DataTables
    from improvado_loads.client.destinations import DestinationConnections

__all__ = ["ImprovadoClient", "parse_workspace_id"]


def parse_workspace_id(value: str | int | None) -> int | None:
    """A workspace id from config or environment text; a clear error when it is not a number."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"the workspace id must be a whole number, got {value!r}") from None
    if not 1 <= number <= contract.MAX_ID:
        raise ConfigurationError(f"the workspace id must be from 1 to {contract.MAX_ID}, got {number}")
    return number


class ImprovadoClient:
    """Client of the Improvado Loads API (Embedded API v3).

    >>> client = ImprovadoClient(base_url="http://127.0.0.1:8765", token="...")
    >>> load = client.loads.create(data_table_id=1, destination_connection_id=1,
    ...                            destination_table="ads_daily", run_policy="daily")
    >>> client.loads.wait(client.loads.run(load.id).id).status

    Give a ``token``, or ``username``, ``password`` and ``workspace_id`` (exchanged
    for a workspace token, again whenever it expires). One connection pool per
    client; close it with :meth:`close` or a ``with`` block.
    """

    def __init__(
        self,
        *,
        base_url: str = contract.DEFAULT_BASE_URL,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        workspace_id: int | str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base_url = checked_base_url(refuse_userinfo(base_url))
        self.workspace_id = parse_workspace_id(workspace_id)
        #: Whether the credentials are certainly of ``workspace_id``: true when a username and
        #: password are exchanged for a token of that workspace, false for a static token.
        self.workspace_proven = bool(token is None and username and password and self.workspace_id is not None)
        auth = WorkspaceAuth(token=token, username=username, password=password, workspace_id=self.workspace_id)
        self._core = HTTPCore(base_url=base_url, auth=auth, timeout=timeout, retry=retry, transport=transport)
        self.loads = Loads(self._core)

    # The catalog and the connections (and their models) are imported when first used: a command
    # that reads loads never defines them.
    @cached_property
    def data_tables(self) -> DataTables:
        """The workspace's data tables (the sources of loads)."""
        from improvado_loads.client.catalog import DataTables

        return DataTables(self._core)

    @cached_property
    def destination_connections(self) -> DestinationConnections:
        """The workspace's destination connections."""
        from improvado_loads.client.destinations import DestinationConnections

        return DestinationConnections(self._core)

    @classmethod
    def from_env(cls, **overrides: object) -> ImprovadoClient:
        """A client configured from ``IMPROVADO_*`` variables; keyword arguments win."""
        values: dict[str, object] = {k: os.environ.get(v) or None for k, v in ENV_VARS.items()}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["base_url"] is None:
            values["base_url"] = contract.DEFAULT_BASE_URL
        return cls(**values)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._core.base_url

    def __repr__(self) -> str:
        return f"ImprovadoClient(base_url={self.base_url!r}, workspace_id={self.workspace_id!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._core.close()

    def __enter__(self) -> ImprovadoClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
