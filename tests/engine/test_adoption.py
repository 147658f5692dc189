"""Adopting loads made outside Pulumi (``adopt_load_id``), through the real engine."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient

from .conftest import Deployment

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily",
       "run_policy": "daily"}


def test_adoption_takes_over_without_creating(deployment: Deployment, api: ImprovadoClient) -> None:
    existing = api.loads.create(**{**ADS, "run_policy": "manual"})
    deployment.configure(loads={"ads": {**ADS, "adopt_load_id": existing.id}})
    deployment.clear_requests()

    result = deployment.up()

    assert result.summary.resource_changes == {"create": 2}  # the stack and the adopted load, in state
    writes = [(w["method"], w["path"]) for w in deployment.writes()]
    assert writes == [("PUT", f"/api/v3/loads/{existing.id}")]  # run policy aligned, no POST
    assert [load.id for load in api.loads.list()] == [existing.id]
    assert str(api.loads.get(existing.id).run_policy) == "daily"

    deployment.configure(loads={"ads": ADS})  # adopt_load_id removed from the program later
    deployment.clear_requests()
    assert deployment.preview().change_summary == {"same": 2}
    assert deployment.writes() == []

    # A one-time handover: a replacement creates a new load, even with adopt_load_id still there.
    deployment.configure(loads={"ads": {**ADS, "adopt_load_id": existing.id, "destination_table": "ads_v2"}})
    assert deployment.preview().change_summary == {"same": 1, "replace": 1}
    result = deployment.up()

    assert result.summary.resource_changes == {"same": 1, "replace": 1}
    [new] = api.loads.list().to_list()
    assert new.id != existing.id and new.destination_table == "ads_v2"
    assert int(deployment.stack.outputs()["ads"].value["load_id"]) == new.id
    assert deployment.preview().change_summary == {"same": 2}


def test_adoption_of_a_different_load_is_refused(deployment: Deployment, api: ImprovadoClient) -> None:
    other = api.loads.create(**{**ADS, "destination_table": "something_else"})
    deployment.configure(loads={"ads": {**ADS, "adopt_load_id": other.id}})

    with pytest.raises(auto.CommandError) as failed:
        deployment.up()

    assert f"cannot adopt load {other.id}: its destination_table is 'something_else'" in str(failed.value)
    assert deployment.resources() == []
    assert str(api.loads.get(other.id).run_policy) == "daily"  # untouched


def test_adoption_of_a_missing_load_is_refused(deployment: Deployment) -> None:
    deployment.configure(loads={"ads": {**ADS, "adopt_load_id": 999}})

    with pytest.raises(auto.CommandError) as failed:
        deployment.up()

    assert "cannot adopt load 999: no such load" in str(failed.value)
