"""The ``DestinationConnection`` provider: one destination connection mapped onto the API.

=========  ==================================================================
check      validates the params with the client's models; no API call
diff       local: destination_name → replace; title, flag → PATCH; any param →
           reauthorize; a connection not ``active`` → update (to test it again)
create     one POST (the API tests the connection; a failed test is recorded
           with status ``error`` and a warning, never an orphan); or, with
           ``adopt_connection_id``, a GET and maybe a PATCH
read       one GET: title, flag, status, status_message; params are kept as the
           program gave them (the API never returns them)
update     reauthorize (PUT params) or, for a connection not active, recheck
           (and when that fails, reauthorize with the program's params: an
           adopted connection's stored ones may differ); then PATCH title/flag
delete     per ``deletion_policy``: DELETE, or nothing (``retain``)
=========  ==================================================================

The params arrive in two inputs: ``connection_params`` (host, port, database…)
and ``secret_params`` (the password), which the resource class makes a Pulumi
secret, so that the state holds it encrypted and the engine never prints it.
"""

from __future__ import annotations

import sys
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from improvado_loads import contract
from improvado_loads.client import ImprovadoClient
from improvado_loads.client.destinations import typed_params
from improvado_loads.errors import InvalidRequestError, NotFoundError
from improvado_loads.models import DestinationConnection
from improvado_loads.provider.base import ClientProvider
from improvado_loads.provider.diagnostics import warn
from improvado_loads.provider.errors import ProviderError
from improvado_loads.provider.handover import InStack
from improvado_loads.provider.presence import absence_doubt
from improvado_loads.provider.props import PROVIDER_KEY, as_int, is_unknown, known_inputs, proven_workspace

__all__ = ["CONNECTION_INPUT_KEYS", "ConnectionProvider", "ConnectionProviderError", "check_connection_inputs"]

#: Inputs whose change needs a new connection.
REPLACE_KEYS = ("destination_name",)
#: Inputs changed in place with one PATCH.
PATCH_KEYS = ("title", "create_load_for_new_tables")
#: Inputs changed in place by reauthorizing (PUT of every param; the API tests again).
PARAM_KEYS = ("connection_params", "secret_params")
#: Inputs that only steer the provider.
LOCAL_KEYS = ("deletion_policy",)
#: Read on the first create only.
CREATE_ONLY_KEYS = ("adopt_connection_id",)
CONNECTION_INPUT_KEYS = REPLACE_KEYS + PATCH_KEYS + PARAM_KEYS + LOCAL_KEYS + CREATE_ONLY_KEYS
#: What removing a DestinationConnection from the program does.
CONNECTION_DELETION_POLICIES = ("delete", "retain")
DEFAULTS: dict[str, Any] = {
    "connection_params": {},
    "secret_params": {},
    "create_load_for_new_tables": False,
    "deletion_policy": "delete",
    "adopt_connection_id": None,
}


class ConnectionProviderError(ProviderError):
    """A DestinationConnection lifecycle step failed; the message says why."""


def params_of(inputs: dict[str, Any]) -> dict[str, Any]:
    """Every connection param: the plain ones and the secret ones."""
    return {**(inputs.get("connection_params") or {}), **(inputs.get("secret_params") or {})}


def check_connection_inputs(news: dict[str, Any]) -> CheckResult:
    """Validate a DestinationConnection's inputs; each bad property becomes one named failure."""
    inputs, failures = known_inputs(news, CONNECTION_INPUT_KEYS, "DestinationConnection", dict(DEFAULTS))
    for key in ("destination_name", "title"):
        value = inputs.get(key)
        if value is None or (not is_unknown(value) and not (isinstance(value, str) and value.strip())):
            failures.append(CheckFailure(key, f"{key} is required: a non-empty string"))
    inputs["adopt_connection_id"] = as_int(inputs["adopt_connection_id"])
    adopt = inputs["adopt_connection_id"]
    if adopt is not None and not is_unknown(adopt) and not (isinstance(adopt, int) and adopt > 0):
        failures.append(CheckFailure("adopt_connection_id", f"must be the id of an existing connection, got {adopt!r}"))
    policy = inputs["deletion_policy"]
    if not is_unknown(policy) and policy not in CONNECTION_DELETION_POLICIES:
        failures.append(
            CheckFailure("deletion_policy", f"{policy!r} is not one of {', '.join(CONNECTION_DELETION_POLICIES)}")
        )
    for key in PARAM_KEYS:
        if not is_unknown(inputs.get(key)) and not isinstance(inputs.get(key), dict):
            failures.append(CheckFailure(key, f"must be a mapping of param names to values, got {inputs[key]!r}"))
            inputs[key] = {}
    name = inputs.get("destination_name")
    if isinstance(name, str) and name and not any(is_unknown(inputs.get(k)) for k in PARAM_KEYS):
        params = params_of(inputs)
        port = params.get("port")
        if isinstance(port, float) and port.is_integer():
            inputs["connection_params"] = {**inputs["connection_params"], "port": int(port)}
            params["port"] = int(port)
        try:
            typed_params(name, params)
        except InvalidRequestError as exc:
            for field, messages in (exc.errors or {"destination_name": [str(exc)]}).items():
                failures.append(CheckFailure(field, "; ".join(messages)))
    return CheckResult(inputs, failures)


def connection_outputs(conn: DestinationConnection) -> dict[str, Any]:
    """What the API says of a connection, as resource outputs."""
    return {
        "connection_id": conn.id,
        "destination_name": conn.destination_name,
        "title": conn.title,
        "create_load_for_new_tables": bool(conn.create_load_for_new_tables),
        "status": conn.status,
        "status_message": conn.status_message,
    }


def warn_if_not_active(conn: DestinationConnection, doing: str) -> None:
    """A warning line on the engine's output when the connection failed its test."""
    if conn.status == contract.CONNECTION_ACTIVE:
        return
    why = f": {conn.status_message}" if conn.status_message else ""
    warn(
        f"destination connection {conn.title!r} ({conn.destination_name}, id {conn.id}) "
        f"{doing} but its status is {conn.status}{why}. Loads into it are refused until it passes its test: "
        "fix the database or the params and run `pulumi up` again (it tests the connection again)."
    )


_IN_STACK = InStack(keys=("destination_name", "title", "adopt_connection_id"))


class ConnectionProvider(ClientProvider):
    """Dynamic provider behind :class:`improvado_loads.DestinationConnection`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_connection_inputs(news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _IN_STACK.remember(news)

        def differs(key: str) -> bool:
            new = news.get(key, DEFAULTS.get(key))
            old = olds.get(key, DEFAULTS.get(key))
            return is_unknown(new) or as_int(old) != as_int(new)

        replaces = [k for k in REPLACE_KEYS if differs(k)]
        updates = [k for k in PATCH_KEYS + PARAM_KEYS + LOCAL_KEYS if differs(k)]
        # A connection that failed its test is tested again by the next `up`.
        untested = olds.get("status") != contract.CONNECTION_ACTIVE
        return DiffResult(changes=bool(replaces or updates or untested), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        args = {k: props.get(k, DEFAULTS.get(k)) for k in CONNECTION_INPUT_KEYS}
        args["adopt_connection_id"] = as_int(args["adopt_connection_id"])
        adopt = args["adopt_connection_id"]
        if adopt and _IN_STACK.may_adopt(args, int(adopt)):  # a replacement creates anew (handover.py)
            conn = self._adopt(args)
            _IN_STACK.adopted(conn.id)
            warn_if_not_active(conn, "was adopted")
        else:
            conn = self.client.destination_connections.create(
                destination_name=str(args["destination_name"]),
                title=str(args["title"]),
                connection_params=params_of(args),
                create_load_for_new_tables=bool(args["create_load_for_new_tables"]),
            )
            warn_if_not_active(conn, "was created")
        return CreateResult(str(conn.id), self._outputs(args, conn))

    def _adopt(self, args: dict[str, Any]) -> DestinationConnection:
        conn_id, name = args["adopt_connection_id"], args["destination_name"]
        conns = self.client.destination_connections
        try:
            conn = conns.get(name, conn_id)
        except NotFoundError:
            raise ConnectionProviderError(
                f"cannot adopt destination connection {conn_id}: no {name} connection with that id in this workspace"
            ) from None
        wanted = {k: args[k] for k in PATCH_KEYS}
        live = {"title": conn.title, "create_load_for_new_tables": conn.create_load_for_new_tables}
        if live != wanted:
            conn = conns.update(name, conn_id, **wanted)
        return conn

    def _outputs(self, args: dict[str, Any], conn: DestinationConnection, recorded: Any = None) -> dict[str, Any]:
        client = self.client
        workspace = proven_workspace(client, recorded)
        probe = _visible_data_table(client)
        return {**args, **connection_outputs(conn), "workspace_id": as_int(workspace), "probe_data_table_id": probe}

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh what the API returns; params stay as the program gave them (drift is undetectable)."""
        name, conns = props.get("destination_name"), self.client.destination_connections
        try:
            # Without a recorded type (DestinationConnection.get(name, id)), every type is searched.
            conn = conns.get(str(name), int(id_)) if name else conns.find(int(id_))
        except NotFoundError:
            _confirm_gone(self.client, int(id_), props)
            return ReadResult("", {})
        kept = {k: props.get(k, DEFAULTS.get(k)) for k in PARAM_KEYS + LOCAL_KEYS + CREATE_ONLY_KEYS}
        outs = {**kept, **connection_outputs(conn), "workspace_id": props.get("workspace_id"),
                "probe_data_table_id": props.get("probe_data_table_id")}
        return ReadResult(id_, outs, {k: outs.get(k) for k in CONNECTION_INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        args = {k: news.get(k, DEFAULTS.get(k)) for k in CONNECTION_INPUT_KEYS}
        conns, name, conn_id = self.client.destination_connections, str(args["destination_name"]), int(id_)
        conn: DestinationConnection | None = None
        if any(as_int(olds.get(k) or {}) != as_int(args[k] or {}) for k in PARAM_KEYS):
            conn = conns.reauthorize(name, conn_id, params_of(args))
            warn_if_not_active(conn, "was reauthorized")
        elif olds.get("status") != contract.CONNECTION_ACTIVE:
            conn = conns.recheck(name, conn_id)
            if conn.status != contract.CONNECTION_ACTIVE:
                # Its stored params may not be the program's (adopted, or changed outside Pulumi):
                # send the program's, which the API tests in turn.
                conn = conns.reauthorize(name, conn_id, params_of(args))
            warn_if_not_active(conn, "was tested again")
        patch = {k: args[k] for k in PATCH_KEYS if olds.get(k) != args[k]}
        if patch:
            conn = conns.update(name, conn_id, **patch)
        if conn is None:
            kept = {k: v for k, v in olds.items() if k != PROVIDER_KEY}
            return UpdateResult({**kept, **args})
        return UpdateResult(self._outputs(args, conn, olds.get("workspace_id")))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        policy = props.get("deletion_policy") or "delete"
        name, conn_id, title = str(props.get("destination_name")), int(id_), props.get("title")
        if _IN_STACK.taken_over(conn_id):  # a create-first replacement adopted this very connection
            done = f"left destination connection {conn_id} ({title!r}) in Improvado: its replacement took it over"
        elif policy == "retain":
            done = f"left destination connection {conn_id} ({title!r}) in Improvado (deletion_policy=retain)"
        else:
            try:
                self.client.destination_connections.delete(name, conn_id)
                done = f"deleted destination connection {conn_id} ({title!r})"
            except NotFoundError:
                _confirm_gone(self.client, conn_id, props)
                done = f"destination connection {conn_id} was already gone"
            _IN_STACK.deleted(conn_id)
        sys.stderr.write(f"improvado: {done}\n")
        sys.stderr.flush()


def _visible_data_table(client: ImprovadoClient) -> int | None:
    """A data table these credentials see: later, proof that they still see the same workspace."""
    for table in client.data_tables.list(page_size=1):
        return table.id
    return None


def _confirm_gone(client: ImprovadoClient, conn_id: int, props: dict[str, Any]) -> None:
    """Return when the connection (404) is certainly gone; raise when these credentials may not see it."""
    recorded = as_int(props.get("workspace_id"))
    doubt = absence_doubt(client, recorded, as_int(props.get("probe_data_table_id")))
    if doubt is None:
        return
    keep = f"the stack keeps destination connection {conn_id}; nothing was changed"
    if doubt == "other workspace":
        raise ConnectionProviderError(
            f"destination connection {conn_id} belongs to workspace {recorded} but these credentials are for "
            f"workspace {client.workspace_id}, so its 404 does not mean it is gone: {keep}."
        )
    raise ConnectionProviderError(
        f"destination connection {conn_id} answers 404, but these credentials may be of another workspace than "
        f"its own, so {keep}. Check improvado:token / improvado:workspaceId."
    )
