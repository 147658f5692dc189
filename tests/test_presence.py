"""The Load provider's read and delete: a 404 means "gone" only when the credentials see the load's workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer
from improvado_loads.provider import LoadProvider
from improvado_loads.provider.presence import UncertainAbsenceError

from .conftest import EMULATOR_PASSWORD, EMULATOR_TOKEN, EMULATOR_USER

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "ads", "run_policy": "daily"}


@pytest.fixture
def ws1(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN) as client:
        yield client


def exchanged(emulator: EmulatorServer, workspace_id: int) -> ImprovadoClient:
    return ImprovadoClient(base_url=emulator.url, username=EMULATOR_USER, password=EMULATOR_PASSWORD,
                           workspace_id=workspace_id)


def provider_with(client: ImprovadoClient) -> LoadProvider:
    provider = LoadProvider()
    provider._client = client
    return provider


def test_a_deleted_load_is_gone_when_its_data_table_is_visible(ws1: ImprovadoClient) -> None:
    created = provider_with(ws1).create(provider_with(ws1).check({}, ADS).inputs)
    assert created.outs["workspace_id"] is None  # a static token does not say its workspace
    ws1.loads.delete(int(created.id))
    assert provider_with(ws1).read(created.id, created.outs).id == ""
    provider_with(ws1).delete(created.id, created.outs)  # already gone: done


def test_another_workspace_never_drops_or_deletes_a_load(emulator: EmulatorServer, ws1: ImprovadoClient) -> None:
    provider = provider_with(ws1)
    created = provider.create(provider.check({}, ADS).inputs)
    with exchanged(emulator, 2) as ws2:
        for step in (lambda p: p.read(created.id, created.outs), lambda p: p.delete(created.id, created.outs)):
            with pytest.raises(UncertainAbsenceError, match="data table 1 is not visible"):
                step(provider_with(ws2))
        recorded = {**created.outs, "workspace_id": 1}
        with pytest.raises(UncertainAbsenceError, match="belongs to workspace 1 but these credentials are for "
                                                          "workspace 2"):
            provider_with(ws2).read(created.id, recorded)
    assert ws1.loads.get(int(created.id)).id == int(created.id)


def test_exchanged_credentials_prove_their_workspace(emulator: EmulatorServer) -> None:
    with exchanged(emulator, 1) as client:
        provider = provider_with(client)
        created = provider.create(provider.check({}, ADS).inputs)
        assert created.outs["workspace_id"] == 1
        client.loads.delete(int(created.id))
        gone = {**created.outs, "data_table_id": 999}  # not even the data table is needed
        assert provider.read(created.id, gone).id == ""


def test_a_configured_workspace_beside_a_token_of_another_is_not_recorded(emulator: EmulatorServer) -> None:
    # improvado:workspaceId says 2, but the token is workspace 1's: the load is made in workspace 1.
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, workspace_id=2) as mislabelled:
        provider = provider_with(mislabelled)
        created = provider.create(provider.check({}, ADS).inputs)
        assert created.outs["workspace_id"] is None  # not 2: the token, not the config, decides
        assert provider_with(mislabelled).read(created.id, created.outs).outs["workspace_id"] is None
    with exchanged(emulator, 2) as ws2:  # workspace 2's own, proven credentials: the load answers 404
        with pytest.raises(UncertainAbsenceError, match="data table 1 is not visible"):
            provider_with(ws2).read(created.id, created.outs)
    with exchanged(emulator, 1) as proven:  # the load's own workspace, proven: recorded from now on
        assert provider_with(proven).read(created.id, created.outs).outs["workspace_id"] == 1
