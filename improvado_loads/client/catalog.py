"""``client.data_tables`` and ``client.destination_connections``: the read-only catalog."""

from __future__ import annotations

from collections.abc import Iterator

from improvado_loads import contract
from improvado_loads.client._core import HTTPCore
from improvado_loads.client.pagination import PageIterator
from improvado_loads.errors import NotFoundError
from improvado_loads.models import DataTable, DestinationConnection


class DataTables:
    """Data tables of the workspace: the sources of loads."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    def list(self, *, page_size: int = contract.DEFAULT_PAGE_SIZE) -> PageIterator[DataTable]:
        """Every data table, page by page."""
        return PageIterator(self._core, contract.DATA_TABLES_PATH, DataTable, page_size=page_size)

    def get(self, data_table_id: int) -> DataTable:
        """One data table."""
        data = self._core.request("GET", f"{contract.DATA_TABLES_PATH}/{data_table_id}")
        return DataTable.model_validate(data)


class DestinationConnections:
    """Destination connections of the workspace, grouped by destination type."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    @staticmethod
    def _path(destination_name: str) -> str:
        return contract.DESTINATION_CONNECTIONS_PATH.format(destination_name=destination_name)

    def list(
        self, destination_name: str, *, page_size: int = contract.DEFAULT_PAGE_SIZE
    ) -> PageIterator[DestinationConnection]:
        """Connections of one destination type (``postgresql``, ``snowflake``…)."""
        return PageIterator(self._core, self._path(destination_name), DestinationConnection, page_size=page_size)

    def list_all(self) -> Iterator[DestinationConnection]:
        """Connections of every destination type in ``contract.DESTINATION_NAMES``."""
        for name in contract.DESTINATION_NAMES:
            try:
                yield from self.list(name)
            except NotFoundError:
                continue

    def get(self, destination_name: str, connection_id: int) -> DestinationConnection:
        """One connection of a destination type."""
        data = self._core.request("GET", f"{self._path(destination_name)}/{connection_id}")
        return DestinationConnection.model_validate(data)

    def find(self, connection_id: int) -> DestinationConnection:
        """One connection by id, whatever its destination type."""
        for name in contract.DESTINATION_NAMES:
            try:
                return self.get(name, connection_id)
            except NotFoundError:
                continue
        raise NotFoundError(f"no destination connection {connection_id} in this workspace", status_code=404)
