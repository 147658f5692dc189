"""Pulumi resources and look-ups for Improvado loads.

.. code-block:: python

    from improvado_loads import Load, LoadArgs, LoadRun

    ads = Load("google-ads", LoadArgs(
        data_table_id=1, destination_connection_id=2,
        destination_table="google_ads_daily", run_policy="daily"))
    LoadRun("backfill", load_id=ads.load_id, date_from="2026-10-01",
            date_to="2026-10-31", triggers=["october-v1"])

Credentials come from stack config (``improvado:apiUrl``, ``improvado:token``
as a secret, or ``improvado:username``/``improvado:password``/
``improvado:workspaceId``) or the ``IMPROVADO_*`` environment variables. They
are read where they are used and never enter the stack state.

**Adopting existing loads.** Pulumi's ``import`` resource option and
``pulumi import`` cannot serve dynamic resources (pulumi/pulumi#16175), so a
:class:`Load` takes ``adopt_load_id``: on create it reads that load, checks that
it is the same load (data table, connection, destination table, historical
flag), sets the run policy if it differs, and takes it over without creating
anything. It is a one-time handover: once the Load is in the stack, a replacement
creates a new load, and removing ``adopt_load_id`` afterwards changes nothing.

**Replacing a load.** A :class:`Load` is replaced delete-first (its
``delete_before_replace`` option defaults to ``True``): the API allows one load per
(connection, table), and a forced ``pulumi up --replace`` keeps the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from improvado_loads import contract
from improvado_loads.lookups import (
    ConnectionInfo,
    DataTableInfo,
    get_data_table,
    get_destination_connection,
    program_client,
)
from improvado_loads.models import Load as LoadModel
from improvado_loads.models import RunPolicy
from improvado_loads.output_types import evaluated_outputs
from improvado_loads.provider import LoadProvider, LoadRunProvider
from improvado_loads.provider.props import load_outputs
from improvado_loads.provider.run import DEFAULT_TIMEOUT_SECONDS

__all__ = [
    "ConnectionInfo",
    "DataTableInfo",
    "Load",
    "LoadArgs",
    "LoadInfo",
    "LoadRun",
    "LoadRunArgs",
    "get_data_table",
    "get_destination_connection",
    "get_load",
    "get_loads",
]

#: What ``LoadArgs.data_table_id`` takes: an id, or what :func:`get_data_table` returns.
DataTableRef = pulumi.Input[int] | pulumi.Input[DataTableInfo]
#: What ``LoadArgs.destination_connection_id`` takes: an id, what
#: :func:`get_destination_connection` returns, or a ``DestinationConnection`` resource.
ConnectionRef = pulumi.Input[int] | pulumi.Input[ConnectionInfo] | pulumi.Resource


@dataclass
class LoadArgs:
    """Inputs of a :class:`Load`.

    :param data_table_id: the Improvado data table to push: its id, or
        ``get_data_table(title=...)``.
    :param destination_connection_id: the destination connection (warehouse) to push into: its
        id, ``get_destination_connection(title=..., destination_name=...)``, or a
        ``DestinationConnection`` resource.
    :param destination_table: the table there (``table`` or ``schema.table``).
    :param run_policy: ``manual``, ``after_extraction``, ``hourly``, ``daily`` or ``weekly``.
        Changes in place; so does ``paused``. Every other identity input replaces the load.
    :param load_historical_data: on its first run, load the data table's whole history.
    :param deletion_policy: what removing the resource does: ``delete`` (default), ``pause``
        (keep it in Improvado, paused) or ``retain`` (leave it running). Changes nothing remote.
    :param adopt_load_id: take over this existing load instead of creating one (see module docs).
        A one-time handover: only the first create reads it. Once the Load is in the stack,
        a change that replaces it (another destination table…) creates a new load, and
        changing or removing ``adopt_load_id`` changes nothing.
    :param allow_shared_table: allow this load into a table another load already targets (refused
        otherwise: two loads into one table overwrite each other's rows). Read on create only.
    :param paused: keep the load paused (nothing runs it); ``False`` unpauses it. Changes in
        place (one pause/unpause), never replaces; ``pulumi refresh`` reads it back.
    """

    data_table_id: DataTableRef
    destination_connection_id: ConnectionRef
    destination_table: pulumi.Input[str]
    run_policy: pulumi.Input[str | RunPolicy]
    load_historical_data: pulumi.Input[bool] = False
    deletion_policy: pulumi.Input[str] = contract.DEFAULT_DELETION_POLICY
    adopt_load_id: pulumi.Input[int] | None = None
    allow_shared_table: pulumi.Input[bool] = False
    paused: pulumi.Input[bool] = False


@evaluated_outputs
class Load(pulumi.dynamic.Resource, module="improvado", name="Load"):
    """An Improvado load order, managed by Pulumi (type ``pulumi-python:dynamic/improvado:Load``)."""

    load_id: pulumi.Output[int]
    """The load's id in Improvado: the resource id, so it stays known while a preview plans an update."""
    data_table_id: pulumi.Output[int]
    data_table: pulumi.Output[dict[str, Any]]
    """The data table as Improvado describes it: id, title, data_class, by_accounts."""
    destination_connection_id: pulumi.Output[int]
    destination_table: pulumi.Output[str]
    run_policy: pulumi.Output[str]
    load_historical_data: pulumi.Output[bool]
    deletion_policy: pulumi.Output[str]
    adopt_load_id: pulumi.Output[int | None]
    allow_shared_table: pulumi.Output[bool]
    paused: pulumi.Output[bool]
    """Whether the load is paused (read back from its status on refresh)."""
    status: pulumi.Output[str]
    """State of the last run: new, queued, running, success, failed, paused."""
    last_update: pulumi.Output[str | None]
    """When the last run ended (RFC 3339 in UTC, ``2026-10-01T12:00:00.123000Z``)."""
    error_text: pulumi.Output[str | None]
    """The destination's own error when the last run failed."""
    uploaded_rows_count: pulumi.Output[int | None]
    """Rows written by the last run."""
    workspace_id: pulumi.Output[int | None]
    """The workspace of the load, when the credentials named it (a 404 with another workspace's
    credentials never drops the load from the stack)."""

    def __init__(
        self,
        resource_name: str,
        args: LoadArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if args is None:
            args = LoadArgs(**kwargs)
        elif kwargs:
            raise TypeError("give a LoadArgs or keyword arguments, not both")
        props: dict[str, Any] = {
            **vars(args),
            "run_policy": _enum_value(args.run_policy),
            "data_table_id": _id_of(args.data_table_id),
            "destination_connection_id": _id_of(args.destination_connection_id),
            "data_table": None,
            "status": None,
            "last_update": None,
            "error_text": None,
            "uploaded_rows_count": None,
            "workspace_id": None,
        }
        super().__init__(LoadProvider(), resource_name, props, _delete_first(opts))
        # Not an output of the provider: a dynamic provider cannot preview an update, so the
        # engine shows every output as unknown then, and whatever depends on it (a LoadRun)
        # would look replaced. The id of a resource under update stays known.
        self.load_id = self.id.apply(int)


def _delete_first(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """A Load is replaced delete-first unless its options say otherwise.

    The API allows one load per (connection, table), and a replacement the engine forces
    (``pulumi up --replace <urn>``) never asks the provider's diff, so only this option can
    keep it from creating a twin the API refuses.
    """
    opts = opts or pulumi.ResourceOptions()
    if opts.delete_before_replace is None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
    return opts


@dataclass
class LoadRunArgs:
    """Inputs of a :class:`LoadRun`.

    :param load_id: the load to run.
    :param date_from: first day of the range (``YYYY-MM-DD``); with ``date_to``, or neither.
    :param date_to: last day of the range.
    :param triggers: any values; the load runs again whenever they change.
    :param wait: end only when the run ends, failing the deployment if the run fails.
    :param timeout_seconds: how long to wait.
    """

    load_id: pulumi.Input[int]
    date_from: pulumi.Input[str] | None = None
    date_to: pulumi.Input[str] | None = None
    triggers: pulumi.Input[Sequence[Any]] | None = None
    wait: pulumi.Input[bool] = True
    timeout_seconds: pulumi.Input[int] = DEFAULT_TIMEOUT_SECONDS


@evaluated_outputs
class LoadRun(pulumi.dynamic.Resource, module="improvado", name="LoadRun"):
    """Runs a load when created and whenever ``triggers`` (or the load, or the range) change."""

    load_id: pulumi.Output[int]
    date_from: pulumi.Output[str | None]
    date_to: pulumi.Output[str | None]
    triggers: pulumi.Output[list[Any]]
    wait: pulumi.Output[bool]
    timeout_seconds: pulumi.Output[int]
    status: pulumi.Output[str]
    """The load's status when the run ended (or started, without ``wait``)."""
    uploaded_rows_count: pulumi.Output[int | None]
    error_text: pulumi.Output[str | None]
    last_update: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: LoadRunArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if args is None:
            args = LoadRunArgs(**kwargs)
        elif kwargs:
            raise TypeError("give a LoadRunArgs or keyword arguments, not both")
        props: dict[str, Any] = {
            **vars(args),
            "triggers": args.triggers if args.triggers is not None else [],
            "status": None,
            "uploaded_rows_count": None,
            "error_text": None,
            "last_update": None,
        }
        super().__init__(LoadRunProvider(), resource_name, props, opts)


@dataclass(frozen=True)
class LoadInfo:
    """A load as the look-ups return it."""

    load_id: int
    data_table_id: int
    data_table: dict[str, Any]
    destination_connection_id: int | None
    destination_table: str
    run_policy: str
    load_historical_data: bool
    paused: bool
    status: str
    last_update: str | None
    error_text: str | None
    uploaded_rows_count: int | None

    @classmethod
    def from_model(cls, load: LoadModel) -> LoadInfo:
        """Build from the client's model."""
        return cls(**load_outputs(load))


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, RunPolicy) else value


def _plain_id(value: Any) -> Any:
    return value.id if isinstance(value, (DataTableInfo, ConnectionInfo)) else value


def _id_of(value: Any) -> Any:
    """The id in an id, a look-up's result, or a ``DestinationConnection`` resource."""
    if isinstance(value, pulumi.Resource) and hasattr(value, "connection_id"):
        return value.connection_id
    if isinstance(value, pulumi.Output):
        return value.apply(_plain_id)
    return _plain_id(value)


def get_load(load_id: pulumi.Input[int]) -> pulumi.Output[LoadInfo]:
    """Look up one load by id (it is read, not managed)."""

    client = program_client()

    def fetch(value: int) -> LoadInfo:
        with client:
            return LoadInfo.from_model(client.loads.get(int(value)))

    return pulumi.Output.from_input(load_id).apply(fetch)


def get_loads(
    *,
    data_table_id: int | None = None,
    destination_connection_id: int | None = None,
    destination_name: str | None = None,
) -> pulumi.Output[list[LoadInfo]]:
    """Look up every load matching the filters (all pages)."""

    client = program_client()

    def fetch(_: Any) -> list[LoadInfo]:
        with client:
            found = client.loads.list(
                data_table_id=data_table_id,
                destination_connection_id=destination_connection_id,
                destination_name=destination_name,
            )
            return [LoadInfo.from_model(load) for load in found]

    return pulumi.Output.from_input(0).apply(fetch)
