"""``client.data_tables``: the read-only catalog of sources (connections: :mod:`.destinations`)."""

from __future__ import annotations

from improvado_loads import contract
from improvado_loads.client._core import HTTPCore
from improvado_loads.client.pagination import PageIterator
from improvado_loads.models import DataTable


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


__all__ = ["DataTables"]
