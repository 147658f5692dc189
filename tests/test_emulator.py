"""The emulator as a service: raw HTTP against a real server on loopback, rows checked in the databases.

The typed client is tested elsewhere; here every status code and body is read as sent.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from improvado_loads import contract
from improvado_loads.emulator import EmulatorControl, EmulatorServer, EmulatorSettings

Client = Callable[..., httpx.Client]
ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily"}
LOAD_KEYS = {
    "id", "data_table", "destination_connection_id", "destination_table", "run_policy", "status",
    "last_update", "error_text", "uploaded_rows_count", "load_historical_data",
}


# ------------------------------------------------------------------ helpers


_controls: list[EmulatorControl] = []


def control(server: EmulatorServer) -> EmulatorControl:
    """A control client of the server (closed at the end of the test)."""
    _controls.append(EmulatorControl(server.url))
    return _controls[-1]


@pytest.fixture(autouse=True)
def _close_controls() -> Iterator[None]:
    yield
    while _controls:
        _controls.pop().close()


def exchange(server: EmulatorServer, workspace_id: int, user: str | None = None,
             password: str | None = None) -> httpx.Response:
    """``POST /token`` with the emulator's Basic credentials (or the ones given)."""
    auth = (user or server.settings.username, password or server.settings.password)
    return httpx.post(f"{server.url}{contract.TOKEN_PATH}", auth=auth, json={"workspace_id": workspace_id})


def bearer(server: EmulatorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.settings.token}"}


def ws2_client(server: EmulatorServer, client: Client) -> httpx.Client:
    response = exchange(server, 2)
    assert response.status_code == 200, response.text
    return client(response.json()["token"])


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post(contract.LOADS_PATH, json={**ADS, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_until_done(api: httpx.Client, load_id: int, timeout: float = 20) -> dict[str, Any]:
    """Poll a load until no run is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        load = api.get(contract.load_path(load_id)).json()
        if load["status"] not in ("queued", "running"):
            return dict(load)
        assert time.monotonic() < deadline, f"load {load_id} still {load['status']}"
        time.sleep(0.02)


def run(api: httpx.Client, load_id: int, **dates: str) -> dict[str, Any]:
    """Run a load to its end."""
    response = api.put(contract.load_action_path(load_id, "run"), json=dates or None)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return wait_until_done(api, load_id)


def eventually(check: Callable[[], bool], timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def warehouse(server: EmulatorServer, sql: str, workspace: int = 1) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.settings.data_dir / f"warehouse-ws{workspace}.sqlite3") as db:
        return db.execute(sql).fetchall()


def source_days(server: EmulatorServer, table_id: int) -> list[date]:
    return sorted({date.fromisoformat(r["date"]) for r in control(server).source_rows(table_id)})


def row_key(row: dict[str, Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row.values()) if isinstance(row, dict) else list(row)
    day, account, campaign, impressions, clicks, spend, conversions = values
    return (str(day), account, campaign, int(impressions), int(clicks), Decimal(str(spend)).quantize(Decimal("0.01")),
            int(conversions))


def errors_of(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    return dict(body["errors"])


# ------------------------------------------------------------ auth and seed


def test_token_exchange(emulator: EmulatorServer, emulator_client: Client) -> None:
    good = exchange(emulator, 2)
    assert good.status_code == 200
    body = good.json()
    assert set(body) == {"token", "expires_at"} and body["expires_at"].endswith("Z")
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    lifetime = (expires - datetime.now(timezone.utc)).total_seconds()
    assert contract.TOKEN_TTL_SECONDS - 120 < lifetime <= contract.TOKEN_TTL_SECONDS + 1
    listing = emulator_client(body["token"]).get(contract.DATA_TABLES_PATH)
    assert [t["id"] for t in listing.json()["results"]] == [4, 5, 6]

    wrong = exchange(emulator, 1, password="not-the-password")
    assert wrong.status_code == 401 and set(wrong.json()) == {"detail"}
    assert "not-the-password" not in wrong.text
    assert exchange(emulator, 1, user="someone-else").status_code == 401
    no_auth = httpx.post(f"{emulator.url}{contract.TOKEN_PATH}", json={"workspace_id": 1})
    assert no_auth.status_code == 401
    unknown = exchange(emulator, 99)
    assert unknown.status_code == 403 and "99" in unknown.json()["detail"]
    creds = (emulator.settings.username, emulator.settings.password)
    missing = httpx.post(f"{emulator.url}{contract.TOKEN_PATH}", auth=creds, json={})
    assert "workspace_id" in errors_of(missing)


def test_bearer_token_is_required_and_checked(emulator: EmulatorServer, emulator_client: Client) -> None:
    for token in (None, "wrong-token-123"):
        response = emulator_client(token).get(contract.LOADS_PATH)
        assert response.status_code == 401
        assert set(response.json()) == {"detail"} and "wrong-token-123" not in response.text
    basic = httpx.get(f"{emulator.url}{contract.LOADS_PATH}", auth=(emulator.settings.username, "x"))
    assert basic.status_code == 401
    assert emulator_client().get(contract.LOADS_PATH).status_code == 200


def test_an_expired_token_is_refused(emulator: EmulatorServer, emulator_client: Client) -> None:
    token = exchange(emulator, 1).json()["token"]
    api = emulator_client(token)
    assert api.get(contract.LOADS_PATH).status_code == 200
    with sqlite3.connect(emulator.settings.state_path) as db:  # age every exchanged token past its lifetime
        db.execute("update tokens set expires_at = ?", (time.time() - 1,))
    refused = api.get(contract.LOADS_PATH)
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_seeded_workspaces_have_deterministic_ids(emulator: EmulatorServer, emulator_client: Client) -> None:
    ws1, ws2 = emulator_client(), ws2_client(emulator, emulator_client)
    tables = ws1.get(contract.DATA_TABLES_PATH).json()["results"]
    assert [t["id"] for t in tables] == [1, 2, 3]
    assert [t["id"] for t in ws2.get(contract.DATA_TABLES_PATH).json()["results"]] == [4, 5, 6]
    ads, facebook, lifetime = tables
    assert set(ads) == {"id", "title", "data_class", "by_accounts", "columns", "date_column"}
    assert (ads["data_class"], ads["by_accounts"], ads["date_column"]) == ("daily", False, "date")
    assert [c["name"] for c in ads["columns"]] == [
        "date", "account", "campaign", "impressions", "clicks", "spend", "conversions"]
    assert {c["name"]: c["type"] for c in ads["columns"]}["spend"] == "numeric"
    assert (facebook["data_class"], facebook["by_accounts"]) == ("daily", True)
    assert (lifetime["data_class"], lifetime["date_column"]) == ("lifetime", None)
    assert ws1.get(f"{contract.DATA_TABLES_PATH}/2").json() == facebook

    def connections(api: httpx.Client, kind: str) -> list[dict[str, Any]]:
        path = contract.DESTINATION_CONNECTIONS_PATH.format(destination_name=kind)
        return list(api.get(path).json()["results"])

    assert connections(ws1, "sqlite") == [
        {"id": 1, "title": "Local warehouse", "destination_name": "sqlite", "status": "active", "status_message": None,
         "create_load_for_new_tables": False}]
    assert [(c["id"], c["status"]) for c in connections(ws1, "postgresql")] == [(2, "active"), (3, "error")]
    assert [c["id"] for c in connections(ws2, "sqlite")] == [4]
    assert [c["id"] for c in connections(ws2, "postgresql")] == [5, 6]
    assert connections(ws1, "snowflake") == []
    postgres = contract.DESTINATION_CONNECTIONS_PATH.format(destination_name="postgresql")
    assert ws1.get(f"{postgres}/2").json()["title"] == "Analytics Postgres"
    assert ws1.get(f"{postgres}/1").status_code == 404  # a sqlite connection under postgresql
    assert ws1.get(f"{postgres}/5").status_code == 404  # workspace 2's

    yesterday = control(emulator).now().date() - timedelta(days=1)
    days = source_days(emulator, 1)
    assert len(days) == 60 and days[-1] == yesterday
    assert len(control(emulator).source_rows(1)) == 360
    assert len(control(emulator).source_rows(2)) == 240
    assert len(control(emulator).source_rows(3)) == 6


def test_seed_is_identical_on_every_fresh_data_dir_and_postgres_is_optional(
    emulator: EmulatorServer, tmp_path: Path, postgres_dsn: str
) -> None:
    settings = EmulatorSettings(data_dir=tmp_path / "other", port=0, token="t", run_seconds=0.05)
    with EmulatorServer(settings) as other, httpx.Client(base_url=other.url, headers=bearer(other)) as api:
        for table_id in (1, 2, 3, 4):
            assert control(other).source_rows(table_id) == control(emulator).source_rows(table_id)
        path = contract.DESTINATION_CONNECTIONS_PATH.format(destination_name="postgresql")
        assert api.get(f"{path}/2").json()["status"] == "initializing"
        refused = api.post(contract.LOADS_PATH, json={**ADS, "destination_connection_id": 2})
        assert "initializing" in " ".join(errors_of(refused)["destination_connection_id"])
    settings.postgres_dsn = postgres_dsn
    with EmulatorServer(settings) as again, httpx.Client(base_url=again.url, headers=bearer(again)) as api:
        assert api.get(f"{path}/2").json() == {
            "id": 2, "title": "Analytics Postgres", "destination_name": "postgresql", "status": "active",
            "status_message": None, "create_load_for_new_tables": False}


def test_workspaces_are_isolated(emulator: EmulatorServer, emulator_client: Client) -> None:
    ws1, ws2 = emulator_client(), ws2_client(emulator, emulator_client)
    mine = create(ws1)
    assert ws2.get(contract.LOADS_PATH).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert ws2.get(contract.load_path(mine["id"])).status_code == 404
    assert ws2.put(contract.load_path(mine["id"]), json={"run_policy": "daily"}).status_code == 404
    assert ws2.put(contract.load_action_path(mine["id"], "run")).status_code == 404
    assert ws2.delete(contract.load_path(mine["id"])).status_code == 404
    assert ws2.get(f"{contract.DATA_TABLES_PATH}/1").status_code == 404
    foreign = ws2.post(contract.LOADS_PATH, json=ADS)
    assert set(errors_of(foreign)) == {"data_table_id", "destination_connection_id"}
    theirs = create(ws2, data_table_id=4, destination_connection_id=4)
    assert [x["id"] for x in ws1.get(contract.LOADS_PATH).json()["results"]] == [mine["id"]]
    assert ws1.get(contract.load_path(theirs["id"])).status_code == 404
    assert ws1.get(contract.load_path(mine["id"])).json() == mine


# ---------------------------------------------------------------- the loads


def test_load_lifecycle(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    load = create(api, run_policy="daily")
    assert set(load) == LOAD_KEYS
    assert load["data_table"] == {
        "id": 1, "title": "Google Ads campaign performance", "data_class": "daily", "by_accounts": False}
    assert (load["status"], load["last_update"], load["error_text"], load["uploaded_rows_count"]) == (
        "new", None, None, None)
    assert (load["run_policy"], load["load_historical_data"], load["destination_connection_id"]) == ("daily", False, 1)
    assert api.get(contract.load_path(load["id"])).json() == load

    updated = api.put(contract.load_path(load["id"]), json={"run_policy": "manual"})
    assert updated.status_code == 200 and updated.json() == {**load, "run_policy": "manual"}

    paused = api.put(contract.load_action_path(load["id"], "pause"))
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    refused = api.put(contract.load_action_path(load["id"], "run"))
    assert refused.status_code == 400 and "paused" in refused.json()["detail"]
    assert api.put(contract.load_action_path(load["id"], "unpause")).json()["status"] == "new"

    done = run(api, load["id"])
    assert done["status"] == "success" and done["error_text"] is None and done["uploaded_rows_count"] > 0
    assert done["last_update"].endswith("Z")
    assert api.put(contract.load_action_path(load["id"], "pause")).json()["status"] == "paused"
    unpaused = api.put(contract.load_action_path(load["id"], "unpause"))
    assert unpaused.status_code == 200 and unpaused.json() == done

    deleted = api.delete(contract.load_path(load["id"]))
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(contract.load_path(load["id"])).json() == {"detail": "Not found."}
    assert api.delete(contract.load_path(load["id"])).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"run_policy": "sometimes"}, "run_policy"),
        ({"destination_table": ""}, "destination_table"),
        ({"destination_table": "   "}, "destination_table"),
        ({"destination_table": "bad-name"}, "destination_table"),
        ({"destination_table": "a.b.c"}, "destination_table"),
        ({"destination_table": "1abc"}, "destination_table"),
        ({"data_table_id": 999}, "data_table_id"),
        ({"data_table_id": "one"}, "data_table_id"),
        ({"destination_connection_id": 4}, "destination_connection_id"),
        ({"destination_connection_id": 3}, "destination_connection_id"),
        ({"load_historical_data": "perhaps"}, "load_historical_data"),
    ],
)
def test_create_refuses_bad_input(emulator_client: Client, body: dict[str, Any], field: str) -> None:
    errors = errors_of(emulator_client().post(contract.LOADS_PATH, json={**ADS, **body}))
    assert field in errors and all(errors[field])


def test_create_on_a_connection_in_error_names_its_status(emulator_client: Client) -> None:
    errors = errors_of(emulator_client().post(contract.LOADS_PATH, json={**ADS, "destination_connection_id": 3}))
    assert "error" in errors["destination_connection_id"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_from": "2026-01-01"}, "date_to"),
        ({"date_to": "2026-01-01"}, "date_from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from"),
        ({"date_from": "01/02/2026", "date_to": "2026-01-03"}, "date_from"),
        ({"date_from": "2026-01-01", "date_to": "2026-01-03T00:00:00"}, "date_to"),
        ({"date_from": "2026-01-01", "date_to": "2026-01-03", "full": True}, "full"),
    ],
)
def test_run_refuses_bad_ranges(emulator_client: Client, body: dict[str, Any], field: str) -> None:
    api = emulator_client()
    load = create(api)
    assert field in errors_of(api.put(contract.load_action_path(load["id"], "run"), json=body))
    assert api.get(contract.load_path(load["id"])).json()["status"] == "new"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"destination_table": "other"}, "destination_table"),
        ({"run_policy": "daily", "load_historical_data": True}, "load_historical_data"),
        ({"run_policy": "monthly"}, "run_policy"),
        ({}, "run_policy"),
    ],
)
def test_update_changes_only_the_run_policy(emulator_client: Client, body: dict[str, Any], field: str) -> None:
    api = emulator_client()
    load = create(api)
    assert field in errors_of(api.put(contract.load_path(load["id"]), json=body))
    assert api.get(contract.load_path(load["id"])).json() == load


def test_a_twin_load_is_a_409_naming_the_existing_one(emulator_client: Client) -> None:
    api = emulator_client()
    first = create(api)
    twin = api.post(contract.LOADS_PATH, json={**ADS, "run_policy": "daily"})
    assert twin.status_code == 409
    assert twin.json() == {
        "detail": f"A load of data table 1 into connection 1 table 'google_ads_daily' already exists "
                  f"(load {first['id']}).",
        contract.CONFLICT_LOAD_ID_KEY: first["id"],
    }
    create(api, destination_table="google_ads_daily_2")


def test_unknown_things_and_wrong_methods(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    for method, path in [("GET", contract.load_path(999)), ("PUT", contract.load_action_path(999, "run")),
                         ("PUT", contract.load_action_path(999, "pause")), ("DELETE", contract.load_path(999)),
                         ("GET", "/api/v3/loads/abc"), ("GET", "/api/v3/nothing-here"),
                         ("GET", f"{contract.DATA_TABLES_PATH}/999")]:
        response = api.request(method, path)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), (method, path)
    wrong = api.patch(contract.load_path(1))
    assert wrong.status_code == 405 and set(wrong.json()) == {"detail"}
    malformed = api.post(contract.LOADS_PATH, content=b"{not json", headers={"Content-Type": "application/json"})
    assert errors_of(malformed)
    assert errors_of(api.post(contract.LOADS_PATH, json=[1, 2]))
    assert errors_of(api.post(contract.LOADS_PATH))
    statuses = {r["status"] for r in control(emulator).requests()}
    assert 422 not in statuses


def test_pagination(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    empty = api.get(contract.LOADS_PATH, params={"page": 1})
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}
    ids = [create(api, destination_table=f"t{i}")["id"] for i in range(5)]
    create(api, data_table_id=3, destination_table="other_table")

    seen: list[int] = []
    pages: list[dict[str, Any]] = []
    url: str | None = f"{emulator.url}{contract.LOADS_PATH}?data_table_id=1&page_size=2"
    while url:
        page = api.get(url).json()
        pages.append(page)
        seen += [load["id"] for load in page["results"]]
        url = page["next"]
        if url:
            assert url.startswith(emulator.url) and "data_table_id=1" in url and "page_size=2" in url
    assert seen == ids and [len(p["results"]) for p in pages] == [2, 2, 1]
    assert {p["count"] for p in pages} == {5}
    assert pages[0]["previous"] is None
    back = api.get(pages[2]["previous"]).json()
    assert back == pages[1] and api.get(back["previous"]).json() == pages[0]

    past = api.get(contract.LOADS_PATH, params={"page": 4, "page_size": 2, "data_table_id": 1})
    assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})
    for size in (101, 0, "many"):
        assert "page_size" in errors_of(api.get(contract.LOADS_PATH, params={"page_size": size}))
    assert api.get(contract.LOADS_PATH, params={"page_size": 100}).json()["count"] == 6
    assert [x["id"] for x in api.get(contract.LOADS_PATH, params={"destination_name": "sqlite"}).json()["results"]] \
        == [*ids, ids[-1] + 1]
    assert api.get(contract.LOADS_PATH, params={"destination_name": "postgresql"}).json()["count"] == 0
    assert api.get(contract.LOADS_PATH, params={"destination_connection_id": 2}).json()["count"] == 0
    assert "data_table_id" in errors_of(api.get(contract.LOADS_PATH, params={"data_table_id": "x"}))


def test_state_survives_a_restart(emulator_settings: EmulatorSettings) -> None:
    with EmulatorServer(emulator_settings) as server:
        api = httpx.Client(base_url=server.url, headers=bearer(server))
        loads = [create(api, destination_table=f"t{i}") for i in range(3)]
        assert api.delete(contract.load_path(loads[-1]["id"])).status_code == 204
        done = run(api, loads[0]["id"])
        token = exchange(server, 2).json()["token"]
        later = datetime.now(timezone.utc) + timedelta(days=3)
        control(server).set_clock(later)
        added = control(server).extract(1)["rows_added"]
        api.close()
    with EmulatorServer(emulator_settings) as server, httpx.Client(base_url=server.url, headers=bearer(server)) as api:
        assert api.get(contract.load_path(loads[0]["id"])).json() == done
        assert [x["id"] for x in api.get(contract.LOADS_PATH).json()["results"]] == [x["id"] for x in loads[:2]]
        assert create(api, destination_table="after_restart")["id"] == loads[-1]["id"] + 1
        other = httpx.get(f"{server.url}{contract.DATA_TABLES_PATH}", headers={"Authorization": f"Bearer {token}"})
        assert [t["id"] for t in other.json()["results"]] == [4, 5, 6]
        assert control(server).now() >= later
        assert len(control(server).source_rows(1)) == 360 + added
        assert api.get(contract.DATA_TABLES_PATH).json()["count"] == 3


def test_a_restart_fails_the_runs_it_interrupted(emulator_settings: EmulatorSettings) -> None:
    emulator_settings.run_seconds = 60
    with EmulatorServer(emulator_settings) as server, httpx.Client(base_url=server.url, headers=bearer(server)) as api:
        load = create(api)
        assert api.put(contract.load_action_path(load["id"], "run")).status_code == 202
        again = api.put(contract.load_action_path(load["id"], "run"))
        assert again.status_code == 409 and "already queued or running" in again.json()["detail"]
        eventually(lambda: api.get(contract.load_path(load["id"])).json()["status"] == "running", what="running")
    with EmulatorServer(emulator_settings) as server, httpx.Client(base_url=server.url, headers=bearer(server)) as api:
        after = api.get(contract.load_path(load["id"])).json()
        assert (after["status"], after["error_text"], after["uploaded_rows_count"]) == (
            "failed", "interrupted by emulator restart", 0)


# ------------------------------------------------------------ rows really move


def test_lifetime_and_by_accounts_tables_are_fully_refreshed(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    lifetime = create(api, data_table_id=3, destination_table="lifetime_totals")
    by_accounts = create(api, data_table_id=2, destination_table="reporting.facebook")
    for _ in range(2):
        assert run(api, lifetime["id"])["uploaded_rows_count"] == 6
        assert warehouse(emulator, "select count(*) from lifetime_totals") == [(6,)]
        first_day = source_days(emulator, 2)[0].isoformat()
        done = run(api, by_accounts["id"], date_from=first_day, date_to=first_day)  # the range is ignored
        assert (done["status"], done["uploaded_rows_count"]) == ("success", 240)
        assert warehouse(emulator, "select count(*) from reporting__facebook") == [(240,)]
    totals = {(r["account"], r["campaign"]): int(r["impressions"]) for r in control(emulator).source_rows(3)}
    assert dict(((a, c), int(i)) for a, c, i in warehouse(
        emulator, "select account, campaign, impressions from lifetime_totals")) == totals


def test_date_ranges_are_replaced_in_postgres(
    emulator: EmulatorServer, emulator_client: Client, postgres_dsn: str
) -> None:
    api = emulator_client()
    schema = f"emu_{uuid.uuid4().hex[:8]}"
    load = create(api, destination_connection_id=2, destination_table=f"{schema}.google_ads")
    days = source_days(emulator, 1)
    first, last = days[10].isoformat(), days[12].isoformat()
    expected = sorted(row_key(r) for r in control(emulator).source_rows(1) if first <= r["date"] <= last)

    def destination() -> list[tuple[Any, ...]]:
        with psycopg.connect(postgres_dsn) as db:
            rows = db.execute(
                f"select date, account, campaign, impressions, clicks, spend, conversions from {schema}.google_ads"
            ).fetchall()
        return sorted(row_key(r) for r in rows)

    for _ in range(2):
        done = run(api, load["id"], date_from=first, date_to=last)
        assert (done["status"], done["error_text"], done["uploaded_rows_count"]) == ("success", None, 18)
        assert destination() == expected
    done = run(api, load["id"], date_from=last, date_to=days[13].isoformat())
    assert done["uploaded_rows_count"] == 12 and len(destination()) == 24


def test_runs_without_a_range_go_on_from_the_last_loaded_day(
    emulator: EmulatorServer, emulator_client: Client
) -> None:
    api = emulator_client()
    incremental = create(api, destination_table="incremental")
    historical = create(api, destination_table="historical", load_historical_data=True)
    window = contract.FIRST_RUN_WINDOW_DAYS
    assert run(api, incremental["id"])["uploaded_rows_count"] == window * 6
    assert run(api, historical["id"])["uploaded_rows_count"] == 360
    newest = source_days(emulator, 1)[-1]
    assert warehouse(emulator, "select min(date), max(date) from incremental") == [
        ((newest - timedelta(days=window - 1)).isoformat(), newest.isoformat())]

    assert control(emulator).extract(1, days=2)["rows_added"] == 12
    assert run(api, incremental["id"])["uploaded_rows_count"] == 18  # the last loaded day again, and two new
    assert run(api, historical["id"])["uploaded_rows_count"] == 18
    assert warehouse(emulator, "select count(*) from incremental") == [(window * 6 + 12,)]
    assert warehouse(emulator, "select count(*) from historical") == [(372,)]


def test_a_broken_destination_fails_the_run_with_its_own_error(
    emulator: EmulatorServer, emulator_client: Client
) -> None:
    api = emulator_client()
    load = create(api)
    control(emulator).set_connection(1, dsn="postgresql://nobody@127.0.0.1:9/gone")
    failed = run(api, load["id"])
    assert (failed["status"], failed["uploaded_rows_count"]) == ("failed", 0)
    assert failed["last_update"] and "port 9 failed" in failed["error_text"] and "\n" not in failed["error_text"]

    control(emulator).set_connection(1, status="error")
    assert run(api, load["id"])["error_text"] == "destination connection 1 (Local warehouse) is error"
    control(emulator).set_connection(1, dsn="sqlite:///warehouse-ws1.sqlite3", status="active")
    repaired = run(api, load["id"])
    assert (repaired["status"], repaired["error_text"]) == ("success", None)
    assert warehouse(emulator, "select count(*) from google_ads_daily") == [(repaired["uploaded_rows_count"],)]


# ------------------------------------------------------ schedules, extraction


def test_timed_loads_run_when_the_clock_reaches_them(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    daily = create(api, run_policy="daily")
    manual = create(api, destination_table="manual_one")
    paused = create(api, destination_table="paused_daily", run_policy="daily")
    api.put(contract.load_action_path(paused["id"], "pause"))
    clock = control(emulator)
    start = clock.now()

    assert clock.set_clock(start + timedelta(hours=23)) == []
    assert clock.set_clock(start + timedelta(hours=25)) == [daily["id"]]
    done = wait_until_done(api, daily["id"])
    assert done["status"] == "success"
    assert datetime.fromisoformat(done["last_update"].replace("Z", "+00:00")) >= start + timedelta(hours=25)
    assert clock.set_clock(start + timedelta(hours=26)) == []  # next slot: created + 48h
    assert clock.set_clock(start + timedelta(days=30)) == [daily["id"]]  # one run, not a catch-up storm
    wait_until_done(api, daily["id"])
    assert api.get(contract.load_path(manual["id"])).json()["status"] == "new"
    assert api.get(contract.load_path(paused["id"])).json()["status"] == "paused"



def test_the_background_ticker_queues_due_loads(emulator: EmulatorServer, emulator_client: Client) -> None:
    api, clock = emulator_client(), control(emulator)
    before = clock.now()
    hourly = create(api, run_policy="hourly")
    # Just short of the first slot (created + 1h): only the passing of time can make it due.
    clock.set_clock(before + timedelta(hours=1) - timedelta(seconds=0.5))
    eventually(lambda: api.get(contract.load_path(hourly["id"])).json()["status"] == "success",
               what="the ticker to run the hourly load")


def test_after_extraction_loads_run_on_new_data(emulator: EmulatorServer, emulator_client: Client) -> None:
    api = emulator_client()
    follower = create(api, run_policy="after_extraction", destination_table="follows_extraction")
    create(api, destination_table="manual_one")
    paused = create(api, run_policy="after_extraction", destination_table="paused_one")
    api.put(contract.load_action_path(paused["id"], "pause"))
    other_table = create(api, data_table_id=3, run_policy="after_extraction", destination_table="totals")

    before = source_days(emulator, 1)[-1]
    extracted = control(emulator).extract(1)
    assert extracted["rows_added"] == 6 and extracted["triggered_load_ids"] == [follower["id"]]
    assert wait_until_done(api, follower["id"])["status"] == "success"
    new_day = (before + timedelta(days=1)).isoformat()
    assert warehouse(emulator, f"select count(*) from follows_extraction where date = '{new_day}'") == [(6,)]

    totals = control(emulator).extract(3)
    assert (totals["rows_added"], totals["triggered_load_ids"]) == (0, [other_table["id"]])
    assert wait_until_done(api, other_table["id"])["uploaded_rows_count"] == 6


# ----------------------------------------------------------- faults and log


def test_injected_statuses_and_latency(emulator: EmulatorServer, emulator_client: Client) -> None:
    api, faults = emulator_client(), control(emulator)
    faults.add_fault(method="GET", path="/api/v3/loads*", status=429, retry_after=3, times=1)
    limited = api.get(contract.LOADS_PATH)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert set(limited.json()) == {"detail"}
    assert api.get(contract.LOADS_PATH).status_code == 200
    assert faults.faults() == []

    fault_id = faults.add_fault(path="/api/v3/data-tables*", status=503)
    assert [api.get(contract.DATA_TABLES_PATH).status_code for _ in range(3)] == [503, 503, 503]
    assert api.get(contract.LOADS_PATH).status_code == 200  # another path
    assert [f["id"] for f in faults.faults()] == [fault_id]
    faults.remove_fault(fault_id)
    assert faults.faults() == []
    faults.add_fault(path="/api/v3/data-tables*", status=503)
    faults.clear_faults()
    assert api.get(contract.DATA_TABLES_PATH).status_code == 200

    faults.add_fault(method="GET", path="/_emulator/*", status=500)  # the control surface is never faulted
    assert faults.health()
    faults.clear_faults()

    faults.add_fault(method="GET", path=f"{contract.DATA_TABLES_PATH}/1", latency_ms=1000, times=1)
    with pytest.raises(httpx.ReadTimeout):
        api.get(f"{contract.DATA_TABLES_PATH}/1", timeout=0.1)
    assert api.get(f"{contract.DATA_TABLES_PATH}/1").status_code == 200

    bad = httpx.post(f"{emulator.url}/_emulator/faults", json={"path": "/api/v3/*", "status": 418})
    assert "status" in errors_of(bad)
    assert "path" in errors_of(httpx.post(f"{emulator.url}/_emulator/faults", json={"status": 503}))


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connections(
    emulator: EmulatorServer, emulator_client: Client, when: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = emulator_client()
    control(emulator).add_fault(method="POST", path=contract.LOADS_PATH, drop=when, times=1)
    with pytest.raises(httpx.TransportError):
        api.post(contract.LOADS_PATH, json=ADS)
    existing = api.get(contract.LOADS_PATH).json()["results"]
    assert len(existing) == (1 if when == "after" else 0)
    retry = api.post(contract.LOADS_PATH, json=ADS)
    assert retry.status_code == (409 if when == "after" else 201)
    posts = [r["status"] for r in control(emulator).requests() if r["method"] == "POST"]
    assert posts == ([201, 409] if when == "after" else [None, 201])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # deliberate drops are not errors


def test_the_request_log(emulator: EmulatorServer, emulator_client: Client) -> None:
    api, log = emulator_client(), control(emulator)
    token = exchange(emulator, 2).json()["token"]
    log.clear_requests()
    create(api)
    api.get(contract.LOADS_PATH, params={"page_size": 5})
    emulator_client("bad-token").get(contract.LOADS_PATH)
    emulator_client(token).get(contract.DATA_TABLES_PATH)
    exchange(emulator, 1)
    log.now()  # control calls are never logged
    entries = log.requests()
    assert [(e["method"], e["path"], e["status"], e["workspace_id"]) for e in entries] == [
        ("POST", contract.LOADS_PATH, 201, 1),
        ("GET", contract.LOADS_PATH, 200, 1),
        ("GET", contract.LOADS_PATH, 401, None),
        ("GET", contract.DATA_TABLES_PATH, 200, 2),
        ("POST", contract.TOKEN_PATH, 200, 1),
    ]
    assert entries[1]["query"] == "page_size=5"
    text = str(entries)
    secrets = (emulator.settings.token or "", token, emulator.settings.password)
    assert not [s for s in secrets if s in text]
    log.clear_requests()
    assert log.requests() == []


def test_health(emulator: EmulatorServer) -> None:
    assert httpx.get(f"{emulator.url}/_emulator/health").json() == {"status": "ok"}
