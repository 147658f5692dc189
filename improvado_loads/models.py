"""Typed bodies of the Improvado Loads API.

Requests validate strictly, before any network call: unknown keys, bad enum
values, malformed dates and half date ranges are refused; ids are integers from 1
to ``contract.MAX_ID`` (``true`` is not an id) and booleans are booleans (``"yes"``
is not one), whether the body comes from Python or from JSON. Responses parse
forward-compatibly: an unknown ``status`` or ``run_policy`` value is kept as a
plain string, and extra fields are kept on the model.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    Strict,
    StrictBool,
    field_validator,
    model_validator,
)

from improvado_loads import contract

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


class RunPolicy(str, Enum):
    """When a load runs (values assumed; see :mod:`improvado_loads.contract`)."""

    MANUAL = "manual"
    AFTER_EXTRACTION = "after_extraction"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"

    def __str__(self) -> str:
        return self.value


class LoadStatus(str, Enum):
    """State of a load's last run (values assumed)."""

    NEW = "new"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    PAUSED = "paused"

    def __str__(self) -> str:
        return self.value


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

#: An id in a request: a JSON integer from 1 to ``contract.MAX_ID`` (``true``,
#: ``1.0`` and ``"1"`` are not ids).
Id = Annotated[int, Strict(), Field(gt=0, le=contract.MAX_ID)]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class DataTableRef(_Response):
    """The data table nested in a load (fields assumed)."""

    id: int
    title: str | None = None
    data_class: str | None = None
    by_accounts: bool | None = None


class Load(_Response):
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


class Column(_Response):
    """A column of a data table."""

    name: str
    type: str


class DataTable(_Response):
    """An Improvado data table, the source of loads."""

    id: int
    title: str
    data_class: str | None = None
    by_accounts: bool = False
    columns: list[Column] = Field(default_factory=list)
    date_column: str | None = None


class DestinationConnection(_Response):
    """A connection to a destination database (warehouse).

    ``status`` is ``active``, ``initializing`` or ``error`` (kept as a plain
    string: an unknown value is read, never refused); ``status_message`` is the
    destination's own words when the last connection test failed. The API never
    returns the connection params.
    """

    id: int
    title: str
    destination_name: str = Field(validation_alias=AliasChoices("destination_name", "destination_type"))
    status: str
    status_message: str | None = None
    create_load_for_new_tables: bool = False

    @property
    def destination_type(self) -> str:
        """Old name of :attr:`destination_name` (read-only)."""
        return self.destination_name

    @property
    def is_active(self) -> bool:
        """Whether loads can be created into this connection."""
        return self.status == contract.CONNECTION_ACTIVE


_SQLITE_DATABASE_RE = re.compile(contract.SQLITE_DATABASE_PATTERN)


class _Params(_Request):
    """Connection params: strict, kept as given (no stripping), and secrets never shown."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, hide_input_in_errors=True)


with warnings.catch_warnings():
    # ``schema`` is the API's name for the param; it shadows the deprecated BaseModel.schema().
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class PostgresqlParams(_Params):
        """Params of a ``postgresql`` connection; ``password`` is a :class:`~pydantic.SecretStr`.

        Tables whose ``destination_table`` has no schema go into ``schema``.
        """

        host: str = Field(min_length=1, max_length=255)
        port: int = Field(default=contract.POSTGRES_DEFAULT_PORT, ge=1, le=65535)
        database: str = Field(min_length=1, max_length=63)
        user: str = Field(min_length=1, max_length=63)
        password: SecretStr
        schema: str = Field(  # type: ignore[assignment]
            default=contract.POSTGRES_DEFAULT_SCHEMA, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
        )


class SqliteParams(_Params):
    """Params of a ``sqlite`` connection: a database file name inside the emulator's data dir."""

    database: str

    @field_validator("database")
    @classmethod
    def _file_name_only(cls, value: str) -> str:
        if not _SQLITE_DATABASE_RE.match(value):
            raise ValueError(
                "must be a file name inside the data dir (no '/', no '\\', not '.' or '..', 1-255 characters)"
            )
        return value


ConnectionParams = PostgresqlParams | SqliteParams

_PARAMS_MODELS: dict[str, type[_Params]] = {"postgresql": PostgresqlParams, "sqlite": SqliteParams}
assert tuple(_PARAMS_MODELS) == contract.CONNECTABLE_DESTINATIONS
assert all(
    set(fields) <= set(_PARAMS_MODELS[name].model_fields) for name, fields in contract.SECRET_PARAM_FIELDS.items()
)


def params_model(destination_name: str) -> type[_Params]:
    """The params model of a destination type; :class:`KeyError` naming the known ones."""
    try:
        return _PARAMS_MODELS[destination_name]
    except KeyError:
        known = ", ".join(_PARAMS_MODELS)
        message = f"no connection params are known for destination {destination_name!r} (known: {known})"
        raise KeyError(message) from None


class DestinationConnectionCreate(_Request):
    """Body of ``POST /destinations/{destination_name}/connections`` (params checked separately)."""

    title: str = Field(min_length=1, max_length=contract.CONNECTION_TITLE_MAX)
    destination_name: str = Field(min_length=1)
    create_load_for_new_tables: StrictBool = False


class DestinationConnectionUpdate(_Request):
    """Body of ``PATCH .../connections/{id}``: title and/or the automated-load flag."""

    title: str | None = Field(default=None, min_length=1, max_length=contract.CONNECTION_TITLE_MAX)
    create_load_for_new_tables: StrictBool | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body: only the fields given."""
        return self.model_dump(exclude_none=True)


def params_body(params: BaseModel) -> dict[str, Any]:
    """The JSON object of connection params, secrets revealed: for the one request (or row) that carries them."""
    data = params.model_dump(mode="python")
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in data.items()}


def params_of(destination_name: str, params: BaseModel | Mapping[str, Any]) -> _Params:
    """Typed params of a destination type from a model or a mapping (:class:`pydantic.ValidationError`)."""
    model = params_model(destination_name)
    if isinstance(params, model):
        return params
    if isinstance(params, BaseModel):
        raise TypeError(f"{type(params).__name__} are not params of destination {destination_name!r}")
    return model.model_validate(dict(params))


T = TypeVar("T")


class Page(_Response, Generic[T]):
    """One page of a list response."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]


class Token(_Response):
    """A workspace-scoped access token."""

    token: str = Field(repr=False)
    expires_at: datetime | None = None


class TokenRequest(_Request):
    """Body of ``POST /token`` (sent with Basic credentials)."""

    workspace_id: Id


class LoadCreate(_Request):
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


class LoadUpdate(_Request):
    """Body of ``PUT /loads/{id}``: only the run policy may change."""

    run_policy: RunPolicy


class RunRequest(_Request):
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
