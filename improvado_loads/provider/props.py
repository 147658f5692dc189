"""Property plumbing between Pulumi's wire values and the API's models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckFailure

from improvado_loads.models import Load

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient

#: Where the engine keeps the pickled provider, in inputs and outputs.
PROVIDER_KEY = "__provider"
#: Inputs whose change needs a new load: the API updates only the run policy.
REPLACE_KEYS = ("data_table_id", "destination_connection_id", "destination_table", "load_historical_data")
#: Inputs updated in place: one PUT each (the run policy; pause or unpause).
UPDATE_KEYS = ("run_policy", "paused")
#: Inputs that only steer the provider: no call to the API when they change.
LOCAL_KEYS = ("deletion_policy",)
#: Inputs read on create only; changing or removing them later changes nothing.
CREATE_ONLY_KEYS = ("adopt_load_id", "allow_shared_table")
LOAD_INPUT_KEYS = REPLACE_KEYS + UPDATE_KEYS + LOCAL_KEYS + CREATE_ONLY_KEYS
INTEGER_KEYS = ("data_table_id", "destination_connection_id", "adopt_load_id", "load_id", "timeout_seconds")


def is_unknown(value: Any) -> bool:
    """Whether a value is not known yet (a preview of a value computed elsewhere)."""
    return bool(pulumi.contains_unknowns(value))


def as_int(value: Any) -> Any:
    """Pulumi sends numbers as floats; whole ones become ints, anything else is kept."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain(props: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The given keys of ``props``, numbers made whole where they are ids."""
    return {k: as_int(props.get(k)) if k in INTEGER_KEYS else props.get(k) for k in keys}


def proven_workspace(client: ImprovadoClient, recorded: Any) -> Any:
    """The workspace to record in state: the client's when its credentials prove it, else what was recorded.

    A token is bound to a workspace the client cannot see: with ``improvado:workspaceId`` beside a token
    of another workspace, recording the configured id would later let that workspace's own credentials
    take a 404 (the load lives elsewhere) for proof that the load is gone.
    """
    return client.workspace_id if client.workspace_proven else recorded


def load_outputs(load: Load) -> dict[str, Any]:
    """The live fields of a load, as resource outputs."""
    return {
        "load_id": load.id,
        "data_table_id": load.data_table.id,
        "data_table": load.data_table.model_dump(mode="json"),
        "destination_connection_id": load.destination_connection_id,
        "destination_table": load.destination_table,
        "run_policy": str(load.run_policy),
        "load_historical_data": bool(load.load_historical_data),
        "paused": str(load.status) == "paused",
        "status": str(load.status),
        # RFC 3339 in UTC with `Z`, as the CLI's JSON output says it (one timestamp format everywhere)
        "last_update": load.model_dump(mode="json", include={"last_update"})["last_update"],
        "error_text": load.error_text,
        "uploaded_rows_count": load.uploaded_rows_count,
    }


def known_inputs(
    news: dict[str, Any], allowed: tuple[str, ...], kind: str, defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[CheckFailure]]:
    """The allowed inputs (ids made whole, defaults filled) and a failure per unknown key."""
    given = {k: v for k, v in news.items() if k != PROVIDER_KEY}
    failures = [
        CheckFailure(key, f"unknown property {key!r}; a {kind} takes {', '.join(allowed)}")
        for key in sorted(set(given) - set(allowed))
    ]
    inputs = {k: as_int(v) if k in INTEGER_KEYS else v for k, v in given.items() if k in allowed}
    return {**defaults, **inputs}, failures
