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
from improvado_loads.provider.tables import table_key

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
    monkeypatch.setattr(type(client.loads), "_refuse_shared_table", lambda self, *_: None)
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


def test_one_table_under_another_spelling_is_the_same_table() -> None:
    same = contract.same_destination_table
    assert same("ads", "ADS") and same("ads", "public.ads") and same("Public.Ads", "public.ads")
    assert not same("s1.ads", "s2.ads") and not same("ads", "ads_daily") and not same("s.ads", "ads.s")


def test_client_and_emulator_refuse_the_same_table_spelled_otherwise(
    client: ImprovadoClient, server: EmulatorServer, token: str
) -> None:
    first = client.loads.create(**ADS)
    for spelling in ("PUBLIC.Google_Ads_Daily", "public.google_ads_daily", "GOOGLE_ADS_DAILY"):
        with pytest.raises(TableInUseError, match=f"load {first.id}") as refused:
            client.loads.create(**{**FACEBOOK_SAME_TABLE, "destination_table": spelling})
        assert "(as 'google_ads_daily')" in str(refused.value)
        # The same data table into the table spelled otherwise is the same overwrite.
        with pytest.raises(TableInUseError):
            client.loads.create(**{**ADS, "destination_table": spelling})
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        respelled = {**FACEBOOK_SAME_TABLE, "destination_table": "public.GOOGLE_ADS_daily"}
        refused_409 = api.post(contract.LOADS_PATH, json=respelled)
        assert refused_409.status_code == 409, refused_409.text
        assert refused_409.json()[contract.CONFLICT_LOAD_ID_KEY] == first.id
    # Two schemas are two tables.
    client.loads.create(**{**ADS, "destination_table": "s1.spend"})
    client.loads.create(**{**FACEBOOK_SAME_TABLE, "destination_table": "s2.spend"})
    assert len(client.loads.list().to_list()) == 3


def test_on_sqlite_schema_dot_table_and_schema__table_are_one_table(
    client: ImprovadoClient, server: EmulatorServer
) -> None:
    same = contract.same_destination_table
    assert same("s1.ads", "S1__ADS", flat_schemas=True) and not same("s1.ads", "s1__ads")
    assert not same("s1.ads", "s2__ads", flat_schemas=True)
    assert table_key("s1.ads") == table_key("s1__ads") == table_key("ADS")
    # Connection 1 is SQLite (no schemas: the emulator writes `s1.spend` as table `s1__spend`).
    first = client.loads.create(**{**ADS, "destination_table": "s1.spend"})
    with pytest.raises(TableInUseError, match=f"Load {first.id} .* table 's1__spend' \\(as 's1.spend'\\)"):
        client.loads.create(**{**FACEBOOK_SAME_TABLE, "destination_table": "s1__spend"})
    # Connection 2 is PostgreSQL: schema s1's table spend and the default schema's s1__spend are two.
    client.loads.create(**{**ADS, "destination_connection_id": 2, "destination_table": "s1.spend"})
    client.loads.create(**{**FACEBOOK_SAME_TABLE, "destination_connection_id": 2, "destination_table": "s1__spend"})
    assert len(client.loads.list().to_list()) == 3


def test_a_load_renamed_to_another_spelling_of_its_table_is_deleted_before_it_is_replaced() -> None:
    provider = LoadProvider()
    olds = {**ADS, "run_policy": "daily", "load_historical_data": False}
    respelled = provider.diff("1", olds, {**olds, "destination_table": "public.google_ads_daily"})
    assert respelled.replaces == ["destination_table"] and respelled.delete_before_replace
    flattened = provider.diff("1", {**olds, "destination_table": "s.ads"}, {**olds, "destination_table": "s__ads"})
    assert flattened.replaces == ["destination_table"] and flattened.delete_before_replace
    moved = provider.diff("1", olds, {**olds, "destination_table": "other_table"})
    assert moved.replaces == ["destination_table"] and not moved.delete_before_replace
