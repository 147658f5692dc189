"""``client.destination_connections``: create, read, update, reauthorize, recheck, delete.

Connection params go out typed (:class:`~improvado_loads.models.PostgresqlParams`,
:class:`~improvado_loads.models.SqliteParams`) and never come back: the API does
not return them. A password is a :class:`~pydantic.SecretStr`; it is revealed
only in the body of the one request that carries it, and any error raised
while that request is handled has it blanked out of its message and body.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
from pydantic import BaseModel, SecretStr

from improvado_loads import contract
from improvado_loads.client._core import HTTPCore
from improvado_loads.client.pagination import PageIterator
from improvado_loads.client.secrets import scrub, secret_forms
from improvado_loads.client.validation import field_errors, validated
from improvado_loads.errors import ImprovadoError, InvalidRequestError, NotFoundError
from improvado_loads.models import (
    DestinationConnection,
    DestinationConnectionCreate,
    DestinationConnectionUpdate,
    params_body,
    params_model,
    params_of,
)

__all__ = ["DestinationConnections", "typed_params"]

def typed_params(destination_name: str, params: BaseModel | Mapping[str, Any]) -> BaseModel:
    """Params of a destination type, validated; :class:`InvalidRequestError` naming ``connection_params.<field>``.

    Params of a destination type this package does not model (e.g. ``bigquery``)
    must be given as a model of the caller's own.
    """
    prefix = contract.CONNECTION_PARAMS_KEY
    try:
        return params_of(destination_name, params)
    except KeyError as exc:
        if isinstance(params, BaseModel):
            return params
        message = str(exc.args[0])
        errors = {"destination_name": [message]}
        raise InvalidRequestError(f"invalid destination_name: {message}", errors=errors) from None
    except TypeError as exc:
        raise InvalidRequestError(str(exc), errors={prefix: [str(exc)]}) from None
    except pydantic.ValidationError as exc:
        errors = {f"{prefix}.{k}": v for k, v in field_errors(exc, params_model(destination_name)).items()}
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        message = f"invalid connection params for {destination_name}: {summary}"
        raise InvalidRequestError(message, errors=errors) from None


def _secrets(params: BaseModel) -> list[str]:
    """Every form of every secret value of the params (as is, escaped), longest first."""
    found = [v.get_secret_value() for v in params.__dict__.values() if isinstance(v, SecretStr)]
    as_json = [json.dumps(s)[1:-1] for s in found if s]  # a JSON body echoing it
    return sorted({*secret_forms(*found), *(s for s in found if s), *as_json}, key=len, reverse=True)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def _scrubbed(exc: ImprovadoError, secrets: list[str]) -> ImprovadoError:
    """The same error with every secret blanked out (a service may echo what it was sent)."""
    if secrets:
        exc.message = _scrub(exc.message, secrets)
        exc.args = (exc.message,)
        exc.body = _scrub(exc.body, secrets)
        if isinstance(exc, InvalidRequestError):
            exc.errors = _scrub(exc.errors, secrets)
    return exc


class DestinationConnections:
    """Destination connections of the workspace, grouped by destination type (``destination_name``)."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    # --- reading ---------------------------------------------------------------
    def list(
        self, destination_name: str, *, page_size: int = contract.DEFAULT_PAGE_SIZE
    ) -> PageIterator[DestinationConnection]:
        """Connections of one destination type (``postgresql``, ``sqlite``…), page by page."""
        path = contract.destination_connections_path(destination_name)
        return PageIterator(self._core, path, DestinationConnection, page_size=page_size)

    def list_all(self) -> Iterator[DestinationConnection]:
        """Connections of every destination type in ``contract.DESTINATION_NAMES``."""
        for name in contract.DESTINATION_NAMES:
            try:
                yield from self.list(name)
            except NotFoundError:
                continue

    def get(self, destination_name: str, connection_id: int) -> DestinationConnection:
        """One connection of a destination type; :class:`NotFoundError` when absent (or deleted)."""
        data = self._core.request("GET", contract.destination_connection_path(destination_name, connection_id))
        return DestinationConnection.model_validate(data)

    def find(self, connection_id: int) -> DestinationConnection:
        """One connection by id, whatever its destination type."""
        for name in contract.DESTINATION_NAMES:
            try:
                return self.get(name, connection_id)
            except NotFoundError:
                continue
        raise NotFoundError(
            f"destination connection {connection_id} does not exist in this workspace", status_code=404
        )

    def find_by_title(self, destination_name: str, title: str) -> builtins.list[DestinationConnection]:
        """Every connection of a destination type with exactly this title, by id."""
        return [c for c in self.list(destination_name) if c.title == title]

    # --- writing ---------------------------------------------------------------
    def create(
        self,
        *,
        destination_name: str,
        title: str,
        connection_params: BaseModel | Mapping[str, Any],
        create_load_for_new_tables: bool = False,
    ) -> DestinationConnection:
        """Create a connection; the API tests it before answering.

        The answer is a connection whose ``status`` is ``active``, or ``error``
        with the destination's message in ``status_message`` (a failed test
        still creates the connection). A create whose answer was lost is never
        blindly sent again: the connections with this title that were not there
        before are looked up first, and the newest is returned if there is one.
        """
        body = validated(
            DestinationConnectionCreate,
            title=title,
            destination_name=destination_name,
            create_load_for_new_tables=create_load_for_new_tables,
        )
        params = typed_params(destination_name, connection_params)
        secrets = _secrets(params)
        payload = {**body.model_dump(), contract.CONNECTION_PARAMS_KEY: params_body(params)}
        path = contract.destination_connections_path(destination_name)
        before = {c.id for c in self.find_by_title(destination_name, body.title)}

        def arrived() -> DestinationConnection | None:
            fresh = [c for c in self.find_by_title(destination_name, body.title) if c.id not in before]
            return fresh[-1] if fresh else None

        try:
            data = self._core.request("POST", path, json=payload, idempotent=False, recover=arrived)
        except ImprovadoError as exc:
            raise _scrubbed(exc, secrets) from None
        return DestinationConnection.model_validate(data)

    def update(
        self,
        destination_name: str,
        connection_id: int,
        *,
        title: str | None = None,
        create_load_for_new_tables: bool | None = None,
    ) -> DestinationConnection:
        """Change the title and/or the automated-load flag (``PATCH``); params change with :meth:`reauthorize`."""
        body = validated(
            DestinationConnectionUpdate, title=title, create_load_for_new_tables=create_load_for_new_tables
        )
        path = contract.destination_connection_path(destination_name, connection_id)
        return DestinationConnection.model_validate(self._core.request("PATCH", path, json=body.body()))

    def reauthorize(
        self, destination_name: str, connection_id: int, connection_params: BaseModel | Mapping[str, Any]
    ) -> DestinationConnection:
        """Replace the connection params (``PUT``); the API tests the connection again.

        The answer carries the new ``status`` (``active`` or ``error`` with
        ``status_message``). Sending the same params twice is harmless, so a
        lost answer is retried like any ``PUT``.
        """
        params = typed_params(destination_name, connection_params)
        path = contract.destination_connection_path(destination_name, connection_id)
        try:
            data = self._core.request("PUT", path, json={contract.CONNECTION_PARAMS_KEY: params_body(params)})
        except ImprovadoError as exc:
            raise _scrubbed(exc, _secrets(params)) from None
        return DestinationConnection.model_validate(data)

    def recheck(self, destination_name: str, connection_id: int) -> DestinationConnection:
        """Test the connection again with its stored params; the answer carries the new status."""
        path = contract.destination_connection_recheck_path(destination_name, connection_id)
        return DestinationConnection.model_validate(self._core.request("PUT", path))

    def delete(self, destination_name: str, connection_id: int) -> None:
        """Delete a connection: its loads stop (their next run fails), no data is deleted."""
        self._core.request("DELETE", contract.destination_connection_path(destination_name, connection_id))
