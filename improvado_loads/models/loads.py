"""Loads' bodies: a load, its run policy and status, and the create, update and run requests.

Requests validate strictly, before any network call: unknown keys, bad enum
values, malformed dates and half date ranges are refused; ids are integers from 1
to ``contract.MAX_ID`` (``true`` is not an id) and booleans are booleans (``"yes"``
is not one), whether the body comes from Python or from JSON. Responses parse
forward-compatibly: an unknown ``status`` or ``run_policy`` value is kept as a
plain string, and extra fields are kept on the model.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool, model_validator

from improvado_loads import contract
from improvado_loads.models.base import Id, RequestBody, ResponseBody

__all__ = [
    "DataTableRef",
    "Load",
    "LoadCreate",
    "LoadStatus",
    "LoadUpdate",
    "RunPolicy",
    "RunRequest",
    "StrictDate",
]


class _ValueEnum(str, Enum):
    """A string enum that prints as its value (``str(RunPolicy.DAILY) == "daily"``)."""

    def __str__(self) -> str:
        return str(self.value)


class RunPolicy(_ValueEnum):
    """When a load runs (values assumed; see :mod:`improvado_loads.contract`)."""

    MANUAL = "manual"
    AFTER_EXTRACTION = "after_extraction"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


class LoadStatus(_ValueEnum):
    """State of a load's last run (values assumed)."""

    NEW = "new"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    PAUSED = "paused"


assert tuple(p.value for p in RunPolicy) == contract.RUN_POLICIES
assert tuple(s.value for s in LoadStatus) == contract.LOAD_STATUSES

# Responses keep values the enums lack rather than failing.
_OpenRunPolicy = Annotated[RunPolicy | str, Field(union_mode="left_to_right")]
_OpenStatus = Annotated[LoadStatus | str, Field(union_mode="left_to_right")]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _strict_date(value: Any) -> Any:
    """Accept a ``date`` or a ``YYYY-MM-DD`` string, nothing looser."""
    if isinstance(value, datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value):
        return value
    raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")


StrictDate = Annotated[date, BeforeValidator(_strict_date)]


class DataTableRef(ResponseBody):
    """The data table nested in a load (fields assumed)."""

    id: int
    title: str | None = None
    data_class: str | None = None
    by_accounts: bool | None = None


class Load(ResponseBody):
    """A load order: one data table into one destination table, on a run policy."""

    id: int
    data_table: DataTableRef
    destination_connection_id: int | None = None
    destination_table: str
    run_policy: _OpenRunPolicy
    status: _OpenStatus = LoadStatus.NEW
    last_update: datetime | None = None
    error_text: str | None = None
    uploaded_rows_count: int | None = None
    load_historical_data: bool | None = None

    @property
    def is_finished(self) -> bool:
        """Whether no run is queued or running."""
        return str(self.status) in contract.FINAL_STATUSES or str(self.status) not in contract.LOAD_STATUSES


class LoadCreate(RequestBody):
    """Body of ``POST /loads``."""

    data_table_id: Id
    destination_connection_id: Id
    destination_table: str = Field(min_length=1, pattern=contract.DESTINATION_TABLE_PATTERN)
    run_policy: RunPolicy = RunPolicy.MANUAL
    load_historical_data: StrictBool = False
    #: Allow this load into a table that another load already targets (assumed field:
    #: ``contract.ALLOW_SHARED_TABLE_FIELD``); sent only when true.
    allow_shared_table: StrictBool = False

    def body(self) -> dict[str, Any]:
        """The JSON body: ``allow_shared_table`` only when it is true."""
        data = self.model_dump(mode="json")
        if not self.allow_shared_table:
            data.pop(contract.ALLOW_SHARED_TABLE_FIELD)
        return data


class LoadUpdate(RequestBody):
    """Body of ``PUT /loads/{id}``: only the run policy may change."""

    run_policy: RunPolicy


class RunRequest(RequestBody):
    """Body of ``PUT /loads/{id}/run``: a date range, both ends or neither."""

    date_from: StrictDate | None = None
    date_to: StrictDate | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> RunRequest:
        if (self.date_from is None) != (self.date_to is None):
            missing = "date_to" if self.date_to is None else "date_from"
            raise ValueError(f"{missing} is missing: date_from and date_to go together")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self

    def body(self) -> dict[str, str]:
        """The JSON body, dates as ``YYYY-MM-DD``; empty when no range."""
        return self.model_dump(mode="json", exclude_none=True)
