"""Every lifecycle step of a Load, through the real Pulumi engine against the emulator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient, NotFoundError

from .conftest import Deployment

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily",
       "run_policy": "daily"}
LIFETIME = {"data_table_id": 3, "destination_connection_id": 1, "destination_table": "campaign_totals",
            "run_policy": "manual"}


def live_load(deployment: Deployment, api: ImprovadoClient, name: str) -> Any:
    outputs = deployment.stack.outputs()
    return api.loads.get(int(outputs[name].value["load_id"]))


def test_up_creates_loads_with_exactly_the_given_fields(deployment: Deployment, api: ImprovadoClient) -> None:
    deployment.configure(loads={"ads": ADS, "totals": {**LIFETIME, "load_historical_data": True}})
    result = deployment.up()

    assert result.summary.resource_changes == {"create": 3}
    ads, totals = live_load(deployment, api, "ads"), live_load(deployment, api, "totals")
    assert (ads.data_table.id, ads.destination_connection_id, ads.destination_table, str(ads.run_policy)) == (
        1, 1, "google_ads_daily", "daily")
    assert ads.load_historical_data is False
    assert (totals.data_table.id, totals.destination_table, totals.load_historical_data) == (3, "campaign_totals", True)
    assert result.outputs["ads"].value["data_table"]["title"] == ads.data_table.title
    assert result.outputs["ads"].value["status"] == "new"
    assert len(api.loads.list().to_list()) == 2


def test_second_preview_shows_no_change_and_writes_nothing(deployment: Deployment) -> None:
    deployment.configure(loads={"ads": ADS})
    deployment.up()
    deployment.clear_requests()

    preview = deployment.preview()

    assert preview.change_summary == {"same": 2}
    assert deployment.writes() == []


def test_run_policy_change_is_an_in_place_update(deployment: Deployment, api: ImprovadoClient) -> None:
    """The preview says what up does: one update of the load; its LoadRun stays (issue 7)."""
    deployment.configure(loads={"ads": ADS}, runs={"backfill": {"load": "ads", "triggers": ["v1"]}})
    deployment.up()
    before = live_load(deployment, api, "ads")

    deployment.configure(loads={"ads": {**ADS, "run_policy": "hourly"}})
    deployment.output.clear()
    preview = deployment.preview()
    assert preview.change_summary == {"same": 2, "update": 1}
    planned = "\n".join(deployment.output)
    assert "LoadRun backfill" not in planned and "replace" not in planned and "[unknown]" not in planned
    assert re.search(r'run_policy +: "daily" => "hourly"', planned)
    deployment.clear_requests()
    result = deployment.up()

    assert result.summary.resource_changes == {"same": 2, "update": 1}
    after = live_load(deployment, api, "ads")
    assert after.id == before.id
    assert str(after.run_policy) == "hourly"
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PUT", f"/api/v3/loads/{before.id}")]
    assert [r["outputs"]["load_id"] for r in deployment.resources(":LoadRun")] == [before.id]


def test_destination_table_change_replaces_the_load(deployment: Deployment, api: ImprovadoClient) -> None:
    deployment.configure(loads={"ads": ADS})
    deployment.up()
    old = live_load(deployment, api, "ads")

    deployment.configure(loads={"ads": {**ADS, "destination_table": "google_ads_v2"}})
    assert deployment.preview().change_summary == {"same": 1, "replace": 1}
    result = deployment.up()

    assert result.summary.resource_changes == {"same": 1, "replace": 1}
    new = live_load(deployment, api, "ads")
    assert new.id != old.id and new.destination_table == "google_ads_v2"
    with pytest.raises(NotFoundError):
        api.loads.get(old.id)  # deletion_policy "delete" (the default) removed the old one


def test_historical_flag_change_replaces_delete_first(deployment: Deployment, api: ImprovadoClient) -> None:
    deployment.configure(loads={"ads": ADS})
    deployment.up()
    old = live_load(deployment, api, "ads")

    deployment.configure(loads={"ads": {**ADS, "load_historical_data": True}})
    deployment.up()  # same identity: the API refuses a twin, so the old load must go first

    new = live_load(deployment, api, "ads")
    assert new.id != old.id and new.load_historical_data is True
    assert [load.id for load in api.loads.list()] == [new.id]


def test_refresh_sees_an_out_of_band_change(deployment: Deployment, api: ImprovadoClient) -> None:
    deployment.configure(loads={"ads": ADS})
    deployment.up()
    load = live_load(deployment, api, "ads")
    api.loads.update(load.id, run_policy="weekly")  # someone clicks in the Improvado UI

    deployment.refresh()

    [state] = deployment.resources()
    assert state["outputs"]["run_policy"] == "weekly"
    assert state["inputs"]["run_policy"] == "weekly"
    # The program still says daily: the next preview proposes to put it back, in place.
    assert deployment.preview().change_summary == {"same": 1, "update": 1}
    deployment.up()
    assert str(api.loads.get(load.id).run_policy) == "daily"


def test_refresh_drops_a_load_deleted_out_of_band(deployment: Deployment, api: ImprovadoClient) -> None:
    deployment.configure(loads={"ads": ADS, "totals": LIFETIME})
    deployment.up()
    api.loads.delete(live_load(deployment, api, "ads").id)

    result = deployment.refresh()

    assert result.summary.resource_changes == {"same": 2, "delete": 1}
    assert [r["outputs"]["destination_table"] for r in deployment.resources()] == ["campaign_totals"]
    assert deployment.preview().change_summary == {"same": 2, "create": 1}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("delete", None), ("pause", "paused"), ("retain", "new")],
)
def test_destroy_follows_the_deletion_policy(
    deployment: Deployment, api: ImprovadoClient, policy: str, expected: str | None
) -> None:
    deployment.configure(loads={"ads": {**ADS, "deletion_policy": policy}})
    deployment.up()
    load_id = live_load(deployment, api, "ads").id

    deployment.destroy()

    assert deployment.resources() == []
    # Where the load stays in Improvado the provider says so (the engine's own word is "deleted");
    # a load deleted as asked needs no line of ours.
    said = {"pause": f"paused load {load_id}", "retain": f"left load {load_id}"}
    ours = [line for line in deployment.output if "improvado: " in line]
    if policy in said:
        assert any(said[policy] in line for line in ours), ours
    else:
        assert not any(str(load_id) in line for line in ours), ours
    if expected is None:
        with pytest.raises(NotFoundError):
            api.loads.get(load_id)
    else:
        assert str(api.loads.get(load_id).status) == expected


def test_deletion_policy_change_touches_nothing_remote(deployment: Deployment) -> None:
    deployment.configure(loads={"ads": ADS})
    deployment.up()
    deployment.clear_requests()

    deployment.configure(loads={"ads": {**ADS, "deletion_policy": "retain"}})
    deployment.up()

    assert deployment.writes() == []
    assert deployment.resources()[0]["outputs"]["deletion_policy"] == "retain"


@pytest.mark.parametrize(
    ("change", "prop", "words"),
    [
        ({"run_policy": "sometimes"}, "run_policy", "Input should be"),
        ({"destination_table": ""}, "destination_table", "at least 1 character"),
        ({"destination_table": "bad name!"}, "destination_table", "String should match pattern"),
        ({"deletion_policy": "nuke"}, "deletion_policy", "not one of"),
        ({"load_historical_data": "sometimes"}, "load_historical_data", "valid boolean"),
        ({"adopt_load_id": -3}, "adopt_load_id", "existing load"),
    ],
)
def test_check_failures_name_the_property(
    deployment: Deployment, change: dict[str, Any], prop: str, words: str
) -> None:
    deployment.configure(loads={"ads": {**ADS, **change}})
    deployment.clear_requests()

    with pytest.raises(auto.CommandError) as failed:
        deployment.preview()

    assert f"property {prop} value" in str(failed.value)
    assert words in str(failed.value)
    assert deployment.writes() == []  # refused before any API call


def test_create_conflict_names_the_existing_load_and_adoption(deployment: Deployment, api: ImprovadoClient) -> None:
    existing = api.loads.create(**ADS)
    deployment.configure(loads={"ads": ADS})

    with pytest.raises(auto.CommandError) as failed:
        deployment.up()

    assert f"already exists (load {existing.id})" in str(failed.value)
    assert f"adopt_load_id={existing.id}" in str(failed.value)
    # One line under the resource's name, not a Python traceback (issue 7).
    output = "\n".join(deployment.output)
    assert "Traceback" not in output and "File \"" not in output and "LoadProviderError" not in output
    diagnostics = output[output.index("Load (ads):"):].split("\n\n")[0].splitlines()
    assert len(diagnostics) == 2 and diagnostics[1].strip().startswith("error: a load of data table 1")
