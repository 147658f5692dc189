"""The ``DestinationConnection`` Pulumi resource: the warehouse connection beside its loads.

.. code-block:: python

    config = pulumi.Config()
    warehouse = DestinationConnection("warehouse", DestinationConnectionArgs(
        destination_name="postgresql",
        title="Analytics warehouse",
        connection_params={"host": "db.internal", "database": "analytics", "user": "improvado",
                           "password": config.require_secret("warehousePassword")},
    ))
    Load("ads", LoadArgs(data_table_id=..., destination_connection_id=warehouse, ...))

Secret params (the password) are kept apart from the others and made a Pulumi
secret whatever the program gave, so the state holds them encrypted and the
engine never prints them; the other params stay readable in previews.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pydantic import BaseModel, SecretStr

from improvado_loads import contract
from improvado_loads.output_types import evaluated_outputs
from improvado_loads.provider.connection import ConnectionProvider

__all__ = ["DestinationConnection", "DestinationConnectionArgs", "is_secret_param"]

#: Param names kept secret whatever the destination type (besides contract.SECRET_PARAM_FIELDS).
SECRET_NAME_PARTS = ("password", "secret", "token", "private_key")


def is_secret_param(name: str) -> bool:
    """Whether a connection param is kept as a Pulumi secret."""
    known = {field for fields in contract.SECRET_PARAM_FIELDS.values() for field in fields}
    return name in known or any(part in name.lower() for part in SECRET_NAME_PARTS)


@dataclass
class DestinationConnectionArgs:
    """Inputs of a :class:`DestinationConnection`.

    :param destination_name: the destination type (``postgresql``, ``sqlite``…). Changing it
        replaces the connection.
    :param title: the connection's name in Improvado; changes in place.
    :param connection_params: what the destination needs: for ``postgresql`` host, port (5432),
        database, user, password, schema (``public``); for ``sqlite`` database (a file name). A
        mapping (values may be Outputs, e.g. ``config.require_secret(...)``) or a params model
        (``PostgresqlParams``). Any change is an in-place reauthorize (the API tests the connection
        again): a password rotation is an update, never a replacement. The password is a Pulumi
        secret in the state, whether or not the program made it one. The API never returns the
        params, so ``pulumi refresh`` keeps the program's values: drift in a password (or a host)
        made outside Pulumi cannot be detected.
    :param create_load_for_new_tables: let Improvado create loads for new data tables; in place.
    :param deletion_policy: what removing the resource does: ``delete`` (default; its loads stop,
        no data is deleted) or ``retain`` (leave it in Improvado).
    :param adopt_connection_id: take over this existing connection instead of creating one. A
        one-time handover, as ``adopt_load_id``: only the first create reads it, aligning the title
        and flag; the params are not sent (the API cannot show them to compare) until one changes,
        or the connection fails its test (the next ``up`` then sends the program's params).
    """

    destination_name: pulumi.Input[str]
    title: pulumi.Input[str]
    connection_params: pulumi.Input[Mapping[str, Any]] | BaseModel
    create_load_for_new_tables: pulumi.Input[bool] = False
    deletion_policy: pulumi.Input[str] = "delete"
    adopt_connection_id: pulumi.Input[int] | None = None


@evaluated_outputs
class DestinationConnection(pulumi.dynamic.Resource, module="improvado", name="DestinationConnection"):
    """An Improvado destination connection (type ``pulumi-python:dynamic/improvado:DestinationConnection``).

    The API tests the connection when it is created, reauthorized or rechecked.
    One that fails is still recorded in the stack, with ``status`` ``error`` and
    the driver's words in ``status_message``, and the deployment shows a warning
    naming it (nothing is left orphaned); loads into it are refused until it
    passes. The next ``pulumi up`` tests it again.
    """

    connection_id: pulumi.Output[int]
    """The connection's id in Improvado: the resource id, so it stays known while a preview plans an update."""
    destination_name: pulumi.Output[str]
    title: pulumi.Output[str]
    connection_params: pulumi.Output[dict[str, Any]]
    """The params that are not secret, as the program gave them."""
    secret_params: pulumi.Output[dict[str, Any]]
    """The secret params (the password): a Pulumi secret."""
    create_load_for_new_tables: pulumi.Output[bool]
    deletion_policy: pulumi.Output[str]
    adopt_connection_id: pulumi.Output[int | None]
    status: pulumi.Output[str]
    """``active``, or ``error`` when the last connection test failed (``initializing``: never tested)."""
    status_message: pulumi.Output[str | None]
    """The destination driver's own message when the last test failed."""

    def __init__(
        self,
        resource_name: str,
        args: DestinationConnectionArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if args is None:
            args = DestinationConnectionArgs(**kwargs)
        elif kwargs:
            raise TypeError("give a DestinationConnectionArgs or keyword arguments, not both")
        public, secret = _split_params(args.connection_params)
        props: dict[str, Any] = {
            **vars(args),
            "connection_params": public,
            "secret_params": pulumi.Output.secret(secret),
            "status": None,
            "status_message": None,
            "workspace_id": None,
            "probe_data_table_id": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["secret_params"])
        super().__init__(ConnectionProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret_opts))
        # Not an output of the provider: it stays known while a preview plans an update.
        self.connection_id = self.id.apply(int)


def _reveal(params: BaseModel) -> dict[str, Any]:
    data = params.model_dump(mode="python")
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in data.items()}


def _split_params(params: Any) -> tuple[Any, Any]:
    """(plain params, secret params): by key where the mapping is given, else inside an apply."""
    if isinstance(params, BaseModel):
        params = _reveal(params)
    if isinstance(params, Mapping):
        public = {k: v for k, v in params.items() if not is_secret_param(str(k))}
        secret = {k: v for k, v in params.items() if is_secret_param(str(k))}
        return public, secret
    whole = pulumi.Output.from_input(params)
    public_out = whole.apply(lambda p: {k: v for k, v in dict(p).items() if not is_secret_param(str(k))})
    secret_out = whole.apply(lambda p: {k: v for k, v in dict(p).items() if is_secret_param(str(k))})
    return public_out, secret_out
