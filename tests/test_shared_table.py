"""Two loads, one destination table: refused by the client, the provider and the emulator unless allowed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from improvado_loads import ConflictError, ImprovadoClient, TableInUseError, contract
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.provider import LoadProvider
from improvado_loads.provider.load import LoadProviderError

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily"}
#: Another data table of workspace 1 into the same connection and table.
FACEBOOK_SAME_TABLE = {**ADS, "data_table_id": 2}


@pytest.fixture
def server(emulator_settings: EmulatorSettings, token: str) -> Iterator[EmulatorServer]:
    with EmulatorServer(replace(emulator_settings, token=token)) as emulator:
        yield emulator


@pytest.fixture
def client(server: EmulatorServer, token: str) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=server.url, token=token) as api:
        yield api


def posts(server: EmulatorServer) -> list[dict[str, object]]:
    return [r for r in httpx.get(f"{server.url}/_emulator/requests").json() if r["method"] == "POST"]


def test_client_refuses_a_second_load_into_a_table_naming_the_first(
    client: ImprovadoClient, server: EmulatorServer
) -> None:
    first = client.loads.create(**ADS)
    httpx.delete(f"{server.url}/_emulator/requests")
    with pytest.raises(TableInUseError) as refused:
        client.loads.create(**FACEBOOK_SAME_TABLE)
    assert refused.value.existing_load_id == first.id
    assert f"load {first.id}" in str(refused.value) and "allow_shared_table=True" in str(refused.value)
    assert posts(server) == []  # refused before anything was sent
    assert [load.id for load in client.loads.list()] == [first.id]


def test_client_allows_a_shared_table_when_asked(client: ImprovadoClient) -> None:
    first = client.loads.create(**ADS)
    second = client.loads.create(**FACEBOOK_SAME_TABLE, allow_shared_table=True)
    assert second.id != first.id and second.destination_table == first.destination_table
    # An identical load is still the plain conflict (adopt it), not a shared table.
    with pytest.raises(ConflictError) as twin:
        client.loads.create(**ADS)
    assert not isinstance(twin.value, TableInUseError) and twin.value.existing_load_id == first.id


def test_emulator_refuses_a_shared_table_with_409_naming_the_load(server: EmulatorServer, token: str) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        first = api.post(contract.LOADS_PATH, json=ADS).json()
        refused = api.post(contract.LOADS_PATH, json=FACEBOOK_SAME_TABLE)
        assert refused.status_code == 409
        body = refused.json()
        assert body[contract.CONFLICT_LOAD_ID_KEY] == first["id"]
        assert body[contract.CONFLICT_CODE_KEY] == contract.TABLE_IN_USE_CODE
        assert f"Load {first['id']}" in body["detail"]
        # The same table on another connection is another table.
        elsewhere = api.post(contract.LOADS_PATH, json={**FACEBOOK_SAME_TABLE, "destination_connection_id": 2})
        assert elsewhere.status_code == 201, elsewhere.text
        allowed = api.post(contract.LOADS_PATH, json={**FACEBOOK_SAME_TABLE, "allow_shared_table": True})
        assert allowed.status_code == 201, allowed.text


def test_the_409_of_the_emulator_reaches_the_client_typed(
    client: ImprovadoClient, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two creates racing past the client's check: the service's 409 is a TableInUseError too."""
    first = client.loads.create(**ADS)
    monkeypatch.setattr(type(client.loads), "_refuse_shared_table", lambda self, body: None)
    with pytest.raises(TableInUseError) as refused:
        client.loads.create(**FACEBOOK_SAME_TABLE)
    assert refused.value.existing_load_id == first.id and refused.value.status_code == 409


def test_the_load_provider_refuses_a_shared_table_unless_allowed(client: ImprovadoClient) -> None:
    first = client.loads.create(**ADS)
    provider = LoadProvider()
    provider._client = client
    inputs = provider.check({}, {**FACEBOOK_SAME_TABLE, "run_policy": "daily"}).inputs
    assert inputs["allow_shared_table"] is False
    with pytest.raises(LoadProviderError, match=f"load {first.id} already loads into connection 1"):
        provider.create(inputs)
    created = provider.create({**inputs, "allow_shared_table": True})
    assert int(created.id) != first.id and created.outs["allow_shared_table"] is True
