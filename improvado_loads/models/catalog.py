"""The catalog's bodies: data tables, the sources of loads."""

from __future__ import annotations

from pydantic import Field

from improvado_loads.models.base import ResponseBody

__all__ = ["Column", "DataTable"]


class Column(ResponseBody):
    """A column of a data table."""

    name: str
    type: str


class DataTable(ResponseBody):
    """An Improvado data table, the source of loads."""

    id: int
    title: str
    data_class: str | None = None
    by_accounts: bool = False
    columns: list[Column] = Field(default_factory=list)
    date_column: str | None = None
