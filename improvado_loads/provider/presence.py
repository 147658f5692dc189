"""Whether a load that answers 404 is really gone, or merely invisible to these credentials.

A 404 with the credentials of another workspace looks exactly like a deleted
load. Dropping a load from the stack on such a 404 (``refresh``) or calling its
deletion done (``destroy``) would lose track of a load that still runs. So a 404
counts as "gone" only when the provider can tell it sees the load's workspace:

- the credentials were exchanged for a workspace (username, password and
  workspace id) and it is the workspace recorded in the load's state; or
- the load's data table, recorded in its state, is visible to these
  credentials (data tables, like loads, belong to one workspace).

A workspace recorded in state that differs from the one configured is refused
outright. Anything uncertain raises :class:`UncertainAbsenceError`, so that the
engine fails the step loudly and changes no state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from improvado_loads.errors import NotFoundError
from improvado_loads.provider.errors import ProviderError
from improvado_loads.provider.props import as_int

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient

__all__ = ["Doubt", "UncertainAbsenceError", "absence_doubt", "confirm_gone"]

#: Why a 404 is not proof of absence (see :func:`absence_doubt`).
Doubt = Literal["other workspace", "unseen"]


class UncertainAbsenceError(ProviderError):
    """A load answered 404 but these credentials may not see its workspace: nothing is changed."""


def absence_doubt(client: ImprovadoClient, recorded: int | None, probe_data_table_id: int | None) -> Doubt | None:
    """Why a 404 to ``client`` is not proof that a thing recorded in ``recorded``'s workspace is gone, or None.

    ``"other workspace"``: the state records a workspace other than the configured one.
    ``"unseen"``: neither proven credentials of the recorded workspace nor a visible
    ``probe_data_table_id`` (a data table of that workspace) show that these credentials see it.
    Shared by loads and destination connections: one rule for every 404.
    """
    configured = client.workspace_id
    if recorded is not None and configured is not None and recorded != configured:
        return "other workspace"
    if recorded is not None and recorded == configured and client.workspace_proven:
        return None
    if probe_data_table_id is not None:
        try:
            client.data_tables.get(int(probe_data_table_id))
            return None
        except NotFoundError:
            pass
    return "unseen"


def confirm_gone(client: ImprovadoClient, load_id: int, props: dict[str, Any], doing: str) -> None:
    """Return when load ``load_id`` (404 to ``client``) is certainly gone; raise when that is uncertain."""
    recorded = as_int(props.get("workspace_id"))
    data_table_id = as_int(props.get("data_table_id"))
    doubt = absence_doubt(client, recorded, data_table_id)
    if doubt is None:
        return
    keep = f"{doing} stops here and the stack keeps load {load_id}; nothing was changed"
    if doubt == "other workspace":
        raise UncertainAbsenceError(
            f"load {load_id} belongs to workspace {recorded} but these credentials are for workspace "
            f"{client.workspace_id}, so its 404 does not mean it is gone: {keep}. Use the credentials of workspace "
            f"{recorded} (improvado:workspaceId, improvado:token)."
        )
    raise UncertainAbsenceError(
        f"load {load_id} answers 404, and its data table {data_table_id} is not visible to these credentials "
        f"either: they may be of another workspace than the load's{f' ({recorded})' if recorded else ''}, so "
        f"{keep}. Check improvado:token / improvado:workspaceId (or IMPROVADO_API_TOKEN, IMPROVADO_WORKSPACE_ID)."
    )
