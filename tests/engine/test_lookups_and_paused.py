"""Look-ups by name and Load.paused, through the real Pulumi engine against the emulator (issue 9)."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from improvado_loads import ImprovadoClient

from .conftest import Deployment

ADS = {"data_table": "Google Ads campaign performance", "connection_title": "Local warehouse",
       "destination_name": "sqlite", "destination_table": "ads", "run_policy": "daily"}


def test_paused_round_trip_on_a_load_found_by_titles(deployment: Deployment, api: ImprovadoClient) -> None:
    [warehouse] = api.destination_connections.find_by_title("sqlite", "Local warehouse")
    deployment.configure(loads={"ads": {**ADS, "paused": True}})

    result = deployment.up()

    assert result.summary.resource_changes == {"create": 2}
    load_id = int(result.outputs["ads"].value["load_id"])
    load = api.loads.get(load_id)
    assert (load.data_table.id, load.destination_connection_id, str(load.status)) == (1, warehouse.id, "paused")
    assert result.outputs["ads"].value["paused"] is True
    deployment.clear_requests()
    assert deployment.preview().change_summary == {"same": 2}  # no perpetual diff
    assert deployment.writes() == []

    deployment.configure(loads={"ads": {**ADS, "paused": False}})  # unpause: in place, one call
    assert deployment.preview().change_summary == {"same": 1, "update": 1}
    deployment.clear_requests()
    assert deployment.up().summary.resource_changes == {"same": 1, "update": 1}
    assert [(w["method"], w["path"]) for w in deployment.writes()] == [("PUT", f"/api/v3/loads/{load_id}/unpause")]
    assert str(api.loads.get(load_id).status) != "paused"
    assert api.loads.get(load_id).id == load_id  # not replaced

    api.loads.pause(load_id)  # paused in the Improvado UI: refresh reads it back
    deployment.refresh()
    [state] = deployment.resources()
    assert state["outputs"]["paused"] is True and state["inputs"]["paused"] is True
    assert deployment.preview().change_summary == {"same": 1, "update": 1}  # the program says unpaused
    deployment.up()
    assert str(api.loads.get(load_id).status) != "paused"


def test_look_ups_find_one_or_name_the_candidates(deployment: Deployment, api: ImprovadoClient) -> None:
    [analytics] = api.destination_connections.find_by_title("postgresql", "Analytics Postgres")
    deployment.configure(find={"table": 3, "connection": "Analytics Postgres", "destination_name": "postgresql"})
    deployment.clear_requests()

    outputs = deployment.up().outputs

    assert outputs["found_table"].value == [3, "Campaign lifetime totals"]
    assert outputs["found_connection"].value == [analytics.id, "Analytics Postgres", "active"]
    assert deployment.resources() == [] and deployment.writes() == []  # read, never managed

    deployment.configure(find={"table": "Google Ads campaign perf"})
    with pytest.raises(auto.CommandError) as missing:
        deployment.preview()
    assert ("no data table in this workspace is titled 'Google Ads campaign perf'; "
            "did you mean 'Google Ads campaign performance' (id 1)?") in str(missing.value)
    assert "Traceback" not in str(missing.value)

    twins = [api.destination_connections.create(destination_name="sqlite", title="Scratch",
                                                connection_params={"database": f"scratch{i}.sqlite3"})
             for i in (1, 2)]
    deployment.configure(find={"connection": "Scratch"})
    with pytest.raises(auto.CommandError) as ambiguous:
        deployment.preview()
    ids = ", ".join(str(c.id) for c in twins)
    assert f"2 destination connections in this workspace are titled 'Scratch' (ids {ids})" in str(ambiguous.value)
    assert "id= instead" in str(ambiguous.value)

    # As the message says: by id (any destination type searched), the ambiguity is gone.
    deployment.configure(find={"connection": twins[1].id})
    assert deployment.up().outputs["found_connection"].value == [twins[1].id, "Scratch", "active"]
    deployment.configure(find={"connection": 999, "destination_name": "sqlite"})
    with pytest.raises(auto.CommandError) as unknown:
        deployment.preview()
    assert "no sqlite destination connection 999 in this workspace" in str(unknown.value)
    assert "Traceback" not in str(unknown.value)


def test_a_look_up_that_cannot_reach_the_api_is_one_line(deployment: Deployment) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    deployment.configure(find={"table": "Google Ads campaign performance"})
    deployment.stack.set_config("improvado:apiUrl", auto.ConfigValue(f"http://127.0.0.1:{closed}"))
    with pytest.raises(auto.CommandError) as refused:
        deployment.preview()
    assert f"the look-up failed: GET /api/v3/data-tables: cannot connect to http://127.0.0.1:{closed}" in str(
        refused.value)
    assert "Traceback" not in str(refused.value)
