"""The ``Load`` provider: one load order's lifecycle mapped onto the Loads API.

=========  ==============================================================
check      validates with the client's models; no API call
diff       local, no API call: run policy → update, identity → replace
create     one POST (or, with ``adopt_load_id``, a GET and maybe a PUT); the
           one-table-one-load check reads each connection's loads once per
           provider process (see ``tables``)
read       served from one paged list per provider process (ceil(N/100) GETs for N
           loads); a load not listed gets its own GET, and a 404 leaves the
           stack only when the load is certainly gone (see ``presence``)
update     one PUT of the run policy and/or one pause/unpause (none for deletion_policy)
delete     per ``deletion_policy``: DELETE, PUT …/pause, or nothing (a line on the
           provider's stderr says so when the load stays in Improvado)
=========  ==============================================================
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pydantic
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from improvado_loads import contract
from improvado_loads.client.validation import field_errors
from improvado_loads.errors import ConflictError, InvalidRequestError, NotFoundError, TableInUseError
from improvado_loads.models import Load, LoadCreate
from improvado_loads.provider.base import ClientProvider
from improvado_loads.provider.directory import LoadDirectory
from improvado_loads.provider.errors import ProviderError
from improvado_loads.provider.handover import InStack
from improvado_loads.provider.presence import confirm_gone
from improvado_loads.provider.props import (
    CREATE_ONLY_KEYS,
    LOAD_INPUT_KEYS,
    LOCAL_KEYS,
    PROVIDER_KEY,
    REPLACE_KEYS,
    UPDATE_KEYS,
    as_int,
    is_unknown,
    known_inputs,
    load_outputs,
    plain,
    proven_workspace,
)
from improvado_loads.provider.tables import ConnectionTables

if TYPE_CHECKING:  # the client (httpx) is loaded only when a call is made
    from improvado_loads.client import ImprovadoClient

_Cache = TypeVar("_Cache")

#: What must match for ``adopt_load_id`` to take a load over: everything but the run policy.
IDENTITY_FIELDS = ("data_table_id", "destination_connection_id", "destination_table", "load_historical_data")
CREATE_FIELDS = (*IDENTITY_FIELDS, "run_policy", "allow_shared_table")
IMPORT_HINT = (
    "Pulumi's own import (the `import` option, `pulumi import`) cannot serve dynamic resources "
    "(pulumi/pulumi#16175), so adoption is an input of Load."
)


class LoadProviderError(ProviderError):
    """A Load lifecycle step failed; the message's first line says why."""


def _check_create_fields(inputs: dict[str, Any]) -> list[CheckFailure]:
    known = {k: inputs[k] for k in CREATE_FIELDS if inputs.get(k) is not None and not is_unknown(inputs[k])}
    unknown = {k for k in CREATE_FIELDS if is_unknown(inputs.get(k))}
    try:
        LoadCreate.model_validate(known)
    except pydantic.ValidationError as exc:
        return [
            CheckFailure(field, "; ".join(messages))
            for field, messages in field_errors(exc, LoadCreate).items()
            if field not in unknown
        ]
    return []


def check_load_inputs(news: dict[str, Any]) -> CheckResult:
    """Validate a Load's inputs; each bad property becomes one named failure."""
    defaults: dict[str, Any] = {
        "load_historical_data": False,
        "deletion_policy": contract.DEFAULT_DELETION_POLICY,
        "adopt_load_id": None,
        "allow_shared_table": False,
        "paused": False,
    }
    inputs, failures = known_inputs(news, LOAD_INPUT_KEYS, "Load", defaults)
    paused = inputs["paused"]
    if not is_unknown(paused) and not isinstance(paused, bool):
        failures.append(CheckFailure("paused", f"must be true or false, got {paused!r}"))
    if inputs.get("run_policy") is None:
        policies = ", ".join(contract.RUN_POLICIES)
        failures.append(CheckFailure("run_policy", f"run_policy is required: one of {policies}"))
    failures += _check_create_fields(inputs)
    policy = inputs["deletion_policy"]
    if not is_unknown(policy) and policy not in contract.DELETION_POLICIES:
        failures.append(
            CheckFailure("deletion_policy", f"{policy!r} is not one of {', '.join(contract.DELETION_POLICIES)}")
        )
    adopt = inputs["adopt_load_id"]
    if adopt is not None and not is_unknown(adopt) and not (isinstance(adopt, int) and adopt > 0):
        failures.append(CheckFailure("adopt_load_id", f"must be the id of an existing load, got {adopt!r}"))
    return CheckResult(inputs, failures)


_IN_STACK = InStack(keys=(*CREATE_FIELDS, "adopt_load_id"))


def _differs(old: Any, new: Any) -> bool:
    return is_unknown(new) or as_int(old) != as_int(new)


class LoadProvider(ClientProvider):
    """Dynamic provider behind :class:`improvado_loads.Load`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_load_inputs(news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _IN_STACK.remember(news)
        replaces = [k for k in REPLACE_KEYS if _differs(olds.get(k), news.get(k))]
        # A state written before `paused` existed holds no value: the load was not paused by Pulumi.
        old = {**olds, "paused": bool(olds.get("paused"))}
        updates = [k for k in UPDATE_KEYS + LOCAL_KEYS if _differs(old.get(k), news.get(k))]
        # A replacement into the same (connection, destination table) must delete first:
        # a second load into a table another load targets is refused (TableInUseError).
        same_table = replaces and "destination_connection_id" not in replaces and (
            "destination_table" not in replaces
            # flat_schemas: `s.t` and `s__t` are one table on SQLite; deleting first elsewhere costs nothing.
            or contract.same_destination_table(
                str(olds.get("destination_table")), str(news.get("destination_table")), flat_schemas=True
            )
        )
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            delete_before_replace=bool(same_table),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._wrote()
        args = plain(props, LOAD_INPUT_KEYS)
        # A replacement creates anew (see handover.py)
        adopting = args["adopt_load_id"] and _IN_STACK.may_adopt(args, int(args["adopt_load_id"]))
        load = self._adopt(args) if adopting else self._create(args)
        if adopting:
            _IN_STACK.adopted(load.id)
        return CreateResult(str(load.id), self._outputs(args, self._set_paused(load, args["paused"])))

    def _set_paused(self, load: Load, paused: bool) -> Load:
        """Pause or unpause the load when it is not as the program says."""
        if (str(load.status) == "paused") == bool(paused):
            return load
        return self.client.loads.pause(load.id) if paused else self.client.loads.unpause(load.id)

    def _create(self, args: dict[str, Any]) -> Load:
        connection, tables = int(args["destination_connection_id"]), self._tables()
        try:
            with tables.claim(connection, str(args["destination_table"])) as known:
                load = self.client.loads.create(**{k: args[k] for k in CREATE_FIELDS}, existing_loads=known)
                tables.created(load, connection)
                return load
        except TableInUseError as exc:
            raise LoadProviderError(
                f"load {exc.existing_load_id} already loads into connection {args['destination_connection_id']} "
                f"table {args['destination_table']!r}; two loads into one table overwrite each other's rows. "
                "Choose another destination_table, or set allow_shared_table=True on this Load if they must "
                "share it."
            ) from None
        except InvalidRequestError as exc:
            refused = "; ".join(" ".join(messages) for messages in (exc.errors or {}).values())
            raise LoadProviderError(f"Improvado refused the load: {refused or exc}") from None
        except ConflictError as exc:
            existing = exc.existing_load_id
            raise LoadProviderError(
                f"a load of data table {args['data_table_id']} into connection "
                f"{args['destination_connection_id']} table {args['destination_table']!r} already exists"
                f"{f' (load {existing})' if existing else ''}. To manage it here, set adopt_load_id="
                f"{existing or '<its id>'} on this Load. {IMPORT_HINT}"
            ) from None

    def _adopt(self, args: dict[str, Any]) -> Load:
        load_id = args["adopt_load_id"]
        try:
            load = self.client.loads.get(load_id)
        except NotFoundError:
            raise LoadProviderError(f"cannot adopt load {load_id}: no such load in this workspace") from None
        live = load_outputs(load)
        for field in IDENTITY_FIELDS:
            if live[field] != args[field]:
                raise LoadProviderError(
                    f"cannot adopt load {load_id}: its {field} is {live[field]!r} but this Load says "
                    f"{args[field]!r}. Make the program match the load, or drop adopt_load_id to create a new one."
                )
        if str(load.run_policy) != args["run_policy"]:
            load = self.client.loads.update(load_id, run_policy=args["run_policy"])
        return load

    def _outputs(self, args: dict[str, Any], load: Load, recorded_workspace: Any = None) -> dict[str, Any]:
        """Inputs and live fields, and the workspace the load lives in (when the credentials say it)."""
        workspace = proven_workspace(self.client, recorded_workspace)
        return {**args, **load_outputs(load), "workspace_id": as_int(workspace)}

    def _directory(self) -> LoadDirectory:
        """The loads listed once for this provider process (see :mod:`.directory`)."""
        return self._per_process("_loads_directory", LoadDirectory)

    def _tables(self) -> ConnectionTables:
        """Each connection's loads, listed once for this provider process (see :mod:`.tables`)."""
        return self._per_process("_connection_tables", ConnectionTables)

    def _per_process(self, key: str, make: Callable[[ImprovadoClient], _Cache]) -> _Cache:
        """``make(client)``, made once per provider process and kept under ``key`` (never pickled)."""
        client = self.client
        found = self.__dict__.get(key)
        if found is None:
            found = self.__dict__.setdefault(key, make(client))
        return cast(_Cache, found)

    def _wrote(self) -> None:
        """A write of this process: reads list again."""
        directory = self.__dict__.get("_loads_directory")
        if directory is not None:
            directory.forget()

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live load; a 404 drops it from the stack only when it is certainly gone (see presence)."""
        load = self._directory().find(int(id_))
        if load is None:  # not listed: its own GET says, and a 404 is checked before it counts
            try:
                load = self.client.loads.get(int(id_))
            except NotFoundError:
                confirm_gone(self.client, int(id_), props, "refresh")
                return ReadResult("", {})
        local = plain(props, LOCAL_KEYS + CREATE_ONLY_KEYS)
        local["deletion_policy"] = local["deletion_policy"] or contract.DEFAULT_DELETION_POLICY
        outs = self._outputs(local, load, props.get("workspace_id"))
        inputs = {k: outs[k] for k in LOAD_INPUT_KEYS}
        # Inputs go back only when refresh saw one change in Improvado (the next diff then compares
        # against what refresh saw). Returned as they were, the engine keeps the stack's own (a read
        # without inputs leaves them), and the SDK would serialize every read's inputs a second time.
        drifted = inputs != plain(props, LOAD_INPUT_KEYS)
        return ReadResult(id_, outs, inputs if drifted else None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._wrote()
        args = plain(news, LOAD_INPUT_KEYS)
        load_id, load = int(id_), None
        if olds.get("run_policy") != args["run_policy"]:
            load = self.client.loads.update(load_id, run_policy=args["run_policy"])
        if bool(olds.get("paused")) != bool(args["paused"]):
            load = self.client.loads.pause(load_id) if args["paused"] else self.client.loads.unpause(load_id)
        if load is not None:
            return UpdateResult(self._outputs(args, load, olds.get("workspace_id")))
        return UpdateResult({**{k: v for k, v in olds.items() if k != PROVIDER_KEY}, **args})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._wrote()
        policy = props.get("deletion_policy") or contract.DEFAULT_DELETION_POLICY
        load_id = int(id_)
        done: str | None = None  # what to tell the user beyond the engine's own "deleted"
        try:
            if _IN_STACK.taken_over(load_id):  # a create-first replacement adopted this very load
                done = f"left load {load_id} in Improvado: its replacement took it over (adopt_load_id)"
            elif policy == "delete":
                self.client.loads.delete(load_id)
                _IN_STACK.deleted(load_id)
                self._tables().deleted(load_id)
            elif policy == "pause":
                self.client.loads.pause(load_id)
                done = f"paused load {load_id} and left it in Improvado (deletion_policy=pause)"
            else:
                done = f"left load {load_id} running in Improvado (deletion_policy=retain)"
        except NotFoundError:
            confirm_gone(self.client, load_id, props, "the deletion")
            _IN_STACK.deleted(load_id)
            self._tables().deleted(load_id)
            done = f"load {load_id} was already gone"
        # A load deleted as asked gets no line: the engine's "deleted" says it (each line is an event
        # the engine carries to the display). Where the load was left in Improvado, or was already
        # gone, "deleted" would mislead: that is said, one write per line (deletes run at once).
        if done is not None:
            sys.stderr.write(f"improvado: {done}\n")
            sys.stderr.flush()
