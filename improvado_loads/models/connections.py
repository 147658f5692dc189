"""Destination connections' bodies, and the typed params of each destination type.

Params are strict and kept as given (no stripping), and secrets never show
(``password`` is a :class:`~pydantic.SecretStr`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, StrictBool, field_validator

from improvado_loads import contract
from improvado_loads.models.base import RequestBody, ResponseBody

__all__ = [
    "ConnectionParams",
    "DestinationConnection",
    "DestinationConnectionCreate",
    "DestinationConnectionUpdate",
    "PostgresqlParams",
    "SqliteParams",
    "params_body",
    "params_model",
    "params_of",
]


class DestinationConnection(ResponseBody):
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


class _Params(RequestBody):
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


class DestinationConnectionCreate(RequestBody):
    """Body of ``POST /destinations/{destination_name}/connections`` (params checked separately)."""

    title: str = Field(min_length=1, max_length=contract.CONNECTION_TITLE_MAX)
    destination_name: str = Field(min_length=1)
    create_load_for_new_tables: StrictBool = False


class DestinationConnectionUpdate(RequestBody):
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
