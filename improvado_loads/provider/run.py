"""The ``LoadRun`` provider: run a load on create, and again whenever its triggers change."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pydantic
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from improvado_loads.client.validation import field_errors
from improvado_loads.errors import ConflictError
from improvado_loads.models import Load, RunRequest
from improvado_loads.provider.base import ClientProvider
from improvado_loads.provider.errors import ProviderError
from improvado_loads.provider.props import PROVIDER_KEY, as_int, is_unknown, known_inputs, load_outputs, plain

#: Inputs whose change means a new run.
RERUN_KEYS = ("load_id", "date_from", "date_to", "triggers")
#: Inputs that only steer how the provider waits.
WAIT_KEYS = ("wait", "timeout_seconds")
RUN_INPUT_KEYS = RERUN_KEYS + WAIT_KEYS
DEFAULT_TIMEOUT_SECONDS = 3600
RESULT_KEYS = ("status", "uploaded_rows_count", "error_text", "last_update")


class LoadRunError(ProviderError):
    """A run could not start, did not end in time, or failed."""


def check_run_inputs(news: dict[str, Any]) -> CheckResult:
    """Validate a LoadRun's inputs, naming each bad property."""
    defaults: dict[str, Any] = {
        "date_from": None,
        "date_to": None,
        "triggers": [],
        "wait": True,
        "timeout_seconds": DEFAULT_TIMEOUT_SECONDS,
    }
    inputs, failures = known_inputs(news, RUN_INPUT_KEYS, "LoadRun", defaults)
    load_id = inputs.get("load_id")
    if not is_unknown(load_id) and not (isinstance(load_id, int) and load_id > 0):
        failures.append(CheckFailure("load_id", f"must be the id of a load, got {load_id!r}"))
    timeout = inputs["timeout_seconds"]
    if not is_unknown(timeout) and not (isinstance(timeout, int) and timeout > 0):
        failures.append(CheckFailure("timeout_seconds", f"must be a positive number of seconds, got {timeout!r}"))
    dates = {k: inputs[k] for k in ("date_from", "date_to")}
    if not any(is_unknown(v) for v in dates.values()):
        try:
            RunRequest.model_validate(dates)
        except pydantic.ValidationError as exc:
            failures += [CheckFailure(f, "; ".join(m)) for f, m in field_errors(exc, RunRequest).items()]
    return CheckResult(inputs, failures)


class LoadRunProvider(ClientProvider):
    """Dynamic provider behind :class:`improvado_loads.LoadRun`."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check_run_inputs(news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        def differs(key: str) -> bool:
            return is_unknown(news.get(key)) or as_int(olds.get(key)) != as_int(news.get(key))

        replaces = [k for k in RERUN_KEYS if differs(k)]
        updates = [k for k in WAIT_KEYS if differs(k)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        args = plain(props, RUN_INPUT_KEYS)
        load = self._start(args)
        if args["wait"]:
            load = self.client.loads.wait(load.id, timeout=float(args["timeout_seconds"]), poll_interval=0.5)
            if not load.is_finished:
                raise LoadRunError(f"load {load.id} is still {load.status} after {args['timeout_seconds']}s")
            if str(load.status) == "failed":
                raise LoadRunError(f"the run of load {load.id} failed: {load.error_text or 'no error text given'}")
        results = {k: load_outputs(load)[k] for k in RESULT_KEYS}
        return CreateResult(f"{load.id}-{uuid.uuid4().hex[:12]}", {**args, **results})

    def _start(self, args: dict[str, Any]) -> Load:
        loads = self.client.loads
        for attempt in range(2):
            try:
                return loads.run(args["load_id"], date_from=args["date_from"], date_to=args["date_to"])
            except ConflictError:
                if attempt:
                    raise
                # A run is already under way (a schedule, another deploy): let it end, then run ours.
                loads.wait(args["load_id"], timeout=float(args["timeout_seconds"]), poll_interval=0.5)
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # A run is an event: what it did stays as recorded.
        outs = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        return ReadResult(id_, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        kept = {k: olds.get(k) for k in RESULT_KEYS}
        return UpdateResult({**plain(news, RUN_INPUT_KEYS), **kept})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """A run cannot be undone; forgetting it is all there is to do."""
