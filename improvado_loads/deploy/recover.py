"""Repair an exported stack after a crash: every pending operation resolved against the API.

When ``pulumi up`` dies (killed, machine lost, a second Ctrl-C) while loads are
being created, the stack keeps *pending operations*: creates that may or may
not have reached the API. Left alone, the next ``up`` sends those creates again
(the API refuses the duplicates and the loads it did create are orphans). Here
each pending operation is settled by looking the load up:

=============  ===========================================================
creating       found by its identity (data table, connection, table), or by
               ``adopt_load_id``: recorded in the state exactly as the
               provider's ``create`` would have returned it; not found: the
               create never happened, the next ``up`` makes it
deleting       the load is gone: the resource leaves the state; else it stays
updating       the resource stays with its last recorded outputs; the next
               ``up`` applies the change again
=============  ===========================================================

A ``DestinationConnection`` whose create was in flight is looked up by its
title: one that exists is named with the ``adopt_connection_id`` that takes it
over (its password cannot be checked from here, so it is not recorded blindly).
Other resource types (no identity to look up) are reported and dropped from
the pending list, so the next ``up`` creates them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from improvado_loads.client import ImprovadoClient
from improvado_loads.errors import NotFoundError
from improvado_loads.models import Load
from improvado_loads.provider.props import PROVIDER_KEY, load_outputs

__all__ = ["CONNECTION_TYPE", "LOAD_TYPE", "Recovery", "recover_state"]

#: The type token of :class:`improvado_loads.Load` resources.
LOAD_TYPE = "pulumi-python:dynamic/improvado:Load"
#: The type token of :class:`improvado_loads.DestinationConnection` resources.
CONNECTION_TYPE = "pulumi-python:dynamic/improvado:DestinationConnection"


@dataclass
class Recovery:
    """The repaired export and one line per pending operation settled."""

    state: dict[str, Any]
    lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything needs importing."""
        return bool(self.lines)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _plain(value: Any) -> Any:
    return None if isinstance(value, dict) else value  # a secret (ciphertext) is no identity


def _find_created(client: ImprovadoClient, inputs: dict[str, Any]) -> Load | None:
    adopt = _plain(inputs.get("adopt_load_id"))
    if adopt:
        try:
            return client.loads.get(int(adopt))
        except NotFoundError:
            return None
    return client.loads.find(
        data_table_id=int(inputs["data_table_id"]),
        destination_connection_id=int(inputs["destination_connection_id"]),
        destination_table=str(inputs["destination_table"]),
    )


def _recorded_ids(resources: list[dict[str, Any]]) -> dict[str, str]:
    return {str(r["id"]): r["urn"] for r in resources if r.get("type") == LOAD_TYPE and r.get("id")}


def _settle_connection_create(client: ImprovadoClient, resource: dict[str, Any]) -> str:
    name, inputs = _name(resource["urn"]), resource.get("inputs") or {}
    kind, title = _plain(inputs.get("destination_name")), _plain(inputs.get("title"))
    found = client.destination_connections.find_by_title(str(kind), str(title)) if kind and title else []
    if not found:
        return f"{name}: its create never reached the API; the next `up` creates it"
    ids = ", ".join(str(conn.id) for conn in found)
    return (
        f"{name}: a {kind} connection titled {title!r} exists (id {ids}) and may be the one this create made: "
        f"set adopt_connection_id={found[0].id} on it for the next `up`, or delete that connection"
    )


def _settle_create(client: ImprovadoClient, resources: list[dict[str, Any]], resource: dict[str, Any]) -> str:
    name = _name(resource["urn"])
    if resource.get("type") == CONNECTION_TYPE:
        return _settle_connection_create(client, resource)
    if resource.get("type") != LOAD_TYPE:
        return f"{name} ({resource.get('type')}): its create was interrupted; the next `up` creates it"
    inputs = resource.get("inputs") or {}
    load = _find_created(client, inputs)
    if load is None:
        return f"{name}: its create never reached the API; the next `up` creates it"
    recorded = _recorded_ids(resources)
    if str(load.id) in recorded:
        return f"{name}: load {load.id} is already recorded as {_name(recorded[str(load.id)])}; nothing to add"
    done = copy.deepcopy(resource)
    done["id"] = str(load.id)
    done["outputs"] = {**inputs, **load_outputs(load)}
    done["outputs"].setdefault(PROVIDER_KEY, inputs.get(PROVIDER_KEY))
    done["custom"] = True
    for existing in resources:  # a create-before-delete replacement: the old one awaits deletion
        if existing["urn"] == done["urn"]:
            existing["delete"] = True
    resources.append(done)
    return f"{name}: load {load.id} was created before the crash; recorded in the stack"


def _settle_delete(client: ImprovadoClient, resources: list[dict[str, Any]], resource: dict[str, Any]) -> str:
    name = _name(resource["urn"])
    if resource.get("type") != LOAD_TYPE or not resource.get("id"):
        return f"{name}: its delete was interrupted; it stays in the stack and the next `up` or `destroy` retries"
    try:
        client.loads.get(int(resource["id"]))
    except NotFoundError:
        resources[:] = [r for r in resources if not (r["urn"] == resource["urn"] and r.get("id") == resource["id"])]
        return f"{name}: load {resource['id']} is gone; removed from the stack"
    return f"{name}: load {resource['id']} still exists; it stays in the stack"


def recover_state(state: dict[str, Any], client: ImprovadoClient) -> Recovery:
    """Settle every pending operation of an exported stack (``pulumi stack export``) against the API.

    ``client`` must hold the stack's own credentials: a load it cannot see is
    taken as never created. It is checked first with one list call, so a wrong
    workspace fails here instead of passing for "not found".
    """
    new = copy.deepcopy(state)
    deployment = new.setdefault("deployment", {})
    pending = deployment.pop("pending_operations", None) or []
    recovery = Recovery(new)
    if not pending:
        return recovery
    next(iter(client.loads.list(page_size=1)), None)  # the credentials work: "not found" below means not there
    resources: list[dict[str, Any]] = deployment.setdefault("resources", [])
    for op in pending:
        kind, resource = op.get("type"), op.get("resource") or {}
        if kind == "creating":
            recovery.lines.append(_settle_create(client, resources, resource))
        elif kind == "deleting":
            recovery.lines.append(_settle_delete(client, resources, resource))
        else:
            recovery.lines.append(
                f"{_name(resource.get('urn', '?'))}: an interrupted {kind or 'operation'} was cleared; "
                "the next `up` applies the program again"
            )
    return recovery
