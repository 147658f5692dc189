"""The Load provider's creates read each connection's loads once per process, not once per create."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from improvado_loads import ImprovadoClient, contract
from improvado_loads.client.loads import Loads
from improvado_loads.emulator import EmulatorControl
from improvado_loads.provider import LoadProvider
from improvado_loads.provider.load import LoadProviderError

from .conftest import fresh_provider

LOADS = 130


def inputs(provider: LoadProvider, table: str, data_table_id: int = 1) -> dict[str, Any]:
    news = {"data_table_id": data_table_id, "destination_connection_id": 1, "destination_table": table,
            "run_policy": "manual"}
    checked = provider.check({}, news)
    assert not checked.failures
    return dict(checked.inputs)


def calls(control: EmulatorControl, method: str) -> list[str]:
    return [r["path"] for r in control.requests() if r["method"] == method]


def test_creates_of_many_loads_read_the_connection_once(client: ImprovadoClient, control: EmulatorControl) -> None:
    provider = fresh_provider(client)
    created = [provider.create(inputs(provider, f"t{i}")) for i in range(LOADS)]

    assert len({c.id for c in created}) == LOADS
    assert len(calls(control, "POST")) == LOADS  # exactly one write per load
    assert calls(control, "GET") == [contract.LOADS_PATH]  # the connection was empty: one page
    # The process's own creates are seen by its later checks, without listing again.
    with pytest.raises(LoadProviderError, match=f"load {created[7].id} already loads into connection 1"):
        provider.create(inputs(provider, "T7", data_table_id=2))
    assert calls(control, "GET") == [contract.LOADS_PATH] and len(calls(control, "POST")) == LOADS

    # A new process lists the now 130 loads once, in pages, for all its creates.
    control.clear_requests()
    again = fresh_provider(client)
    for i in range(20):
        again.create(inputs(again, f"u{i}"))
    assert len(calls(control, "GET")) <= math.ceil(LOADS / contract.MAX_PAGE_SIZE) + 1
    assert len(calls(control, "POST")) == 20


def test_a_table_freed_by_a_delete_of_the_process_takes_a_new_load(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    """A delete-before-replace: the delete is seen by the create that follows, without a read."""
    provider = fresh_provider(client)
    first = provider.create(inputs(provider, "ads"))
    provider.delete(first.id, {**first.outs, "deletion_policy": "delete"})
    control.clear_requests()
    second = provider.create(inputs(provider, "ads", data_table_id=2))
    assert second.id != first.id and calls(control, "GET") == []


def test_a_load_created_meanwhile_by_someone_else_is_still_refused(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    provider = fresh_provider(client)
    provider.create(inputs(provider, "t0"))  # the process has listed connection 1
    theirs = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="ads")
    with pytest.raises(LoadProviderError, match=f"load {theirs.id} already loads into connection 1"):
        provider.create(inputs(provider, "ads", data_table_id=2))  # the service's 409 is the guard
    # The refusal made the process list again: the next check knows the table without a POST.
    control.clear_requests()
    with pytest.raises(LoadProviderError, match=f"load {theirs.id} already loads"):
        provider.create(inputs(provider, "public.ADS", data_table_id=2))
    assert calls(control, "POST") == [] and calls(control, "GET") == [contract.LOADS_PATH]


def test_two_concurrent_creates_into_one_table_send_one_post(
    client: ImprovadoClient, control: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second create waits for the first one's check and POST, then is refused by the check."""
    provider = fresh_provider(client)
    provider.create(inputs(provider, "other"))  # the connection is listed before the race
    control.clear_requests()
    entered: list[int] = []
    both_in = threading.Event()
    real_create = Loads.create

    def create_slowly(self: Loads, **kwargs: Any) -> Any:
        entered.append(kwargs["data_table_id"])
        if len(entered) == 2:
            both_in.set()
        # Without the lock the other create enters now: give it the chance (a bounded wait).
        both_in.wait(timeout=2.0)
        return real_create(self, **kwargs)

    monkeypatch.setattr(Loads, "create", create_slowly)
    outcomes: list[object] = []

    def create(data_table_id: int) -> None:
        try:
            outcomes.append(provider.create(inputs(provider, "ads", data_table_id=data_table_id)))
        except LoadProviderError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    refused = [o for o in outcomes if isinstance(o, LoadProviderError)]
    assert len(refused) == 1 and "already loads into connection 1 table 'ads'" in str(refused[0])
    assert len(calls(control, "POST")) == 1  # refused by the process's own check, not the service
    assert len(client.loads.list(destination_connection_id=1).to_list()) == 2


def test_each_create_check_compares_only_the_loads_that_may_share_its_table(
    client: ImprovadoClient, control: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The known loads handed to the client's check are those of the same bare table name, not all of them.

    Comparing every load of the connection made N creates cost N * N / 2 comparisons.
    """
    provider = fresh_provider(client)
    made = [int(provider.create(inputs(provider, name)).id) for name in ("ads", "s1.spend", "clicks", "S2.Spend")]
    handed: list[list[int]] = []
    real_create = Loads.create

    def create_seeing(self: Loads, **kwargs: Any) -> Any:
        handed.append(sorted(load.id for load in kwargs["existing_loads"]))
        return real_create(self, **kwargs)

    monkeypatch.setattr(Loads, "create", create_seeing)
    provider.create(inputs(provider, "s3.SPEND"))  # s1.spend, S2.Spend: other schemas, not the same table
    assert handed == [sorted([made[1], made[3]])]
    with pytest.raises(LoadProviderError, match=f"load {made[0]} already loads into connection 1"):
        provider.create(inputs(provider, "public.ADS", data_table_id=2))  # still the same table as `ads`
    assert handed[1] == [made[0]]
