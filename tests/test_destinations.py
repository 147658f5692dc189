"""Destination connections against the emulator over HTTP and a PostgreSQL that asks for a password.

Each connection is really tested by the emulator: good credentials make it
``active``, a wrong password makes it ``error`` with PostgreSQL's own words,
and loads go only into active connections and write where the params say.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from improvado_loads import (
    ImprovadoClient,
    InvalidRequestError,
    NotFoundError,
    PostgresqlParams,
    RetryPolicy,
    SqliteParams,
)
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.emulator.store import ConnectionRow, Store
from tests.conftest import EMULATOR_PASSWORD, EMULATOR_TOKEN, EMULATOR_USER

Client = Callable[..., httpx.Client]
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.05)
PG = "/api/v3/destinations/postgresql/connections"
LITE = "/api/v3/destinations/sqlite/connections"
CONNECTION_KEYS = {"id", "title", "destination_name", "status", "status_message", "create_load_for_new_tables"}


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[ImprovadoClient]:
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, retry=FAST) as client:
        yield client


@pytest.fixture
def schema() -> str:
    return f"conn_{secrets.token_hex(4)}"


def pg_params(postgres_params: dict[str, Any], **overrides: Any) -> PostgresqlParams:
    return PostgresqlParams(**{**postgres_params, **overrides})


def run_and_wait(api: ImprovadoClient, load_id: int, **dates: str) -> Any:
    api.loads.run(load_id, **dates)
    return api.loads.wait(load_id, timeout=30, poll_interval=0.05)


def pg_count(postgres_dsn: str, table: str) -> int:
    with psycopg.connect(postgres_dsn) as db:
        row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_good_credentials_make_an_active_connection_and_loads_write_into_its_schema(
    api: ImprovadoClient, postgres_params: dict[str, Any], postgres_dsn: str, schema: str
) -> None:
    created = api.destination_connections.create(
        destination_name="postgresql", title="Warehouse", connection_params=pg_params(postgres_params, schema=schema)
    )
    assert (created.status, created.status_message, created.destination_name) == ("active", None, "postgresql")
    assert api.destination_connections.get("postgresql", created.id) == created
    load = api.loads.create(data_table_id=1, destination_connection_id=created.id, destination_table="ads_daily")
    done = run_and_wait(api, load.id, date_from="2026-01-01", date_to="2030-12-31")
    assert (done.status, done.error_text) == ("success", None)
    assert done.uploaded_rows_count and done.uploaded_rows_count > 0
    assert pg_count(postgres_dsn, f"{schema}.ads_daily") == done.uploaded_rows_count
    # The emulator's own view of the destination names the table as the load does.
    rows = httpx.get(f"{api.base_url}/_emulator/connections/{created.id}/tables/ads_daily/rows").json()
    assert len(rows) == done.uploaded_rows_count


def test_a_wrong_password_is_an_error_with_the_drivers_words_and_refuses_loads_until_reauthorized(
    api: ImprovadoClient, emulator_client: Client, postgres_params: dict[str, Any], schema: str
) -> None:
    wrong = pg_params(postgres_params, password="not-" + postgres_params["password"], schema=schema)
    created = api.destination_connections.create(destination_name="postgresql", title="Typo", connection_params=wrong)
    assert created.status == "error"
    assert created.status_message and "password authentication failed" in created.status_message
    assert [c.id for c in api.destination_connections.find_by_title("postgresql", "Typo")] == [created.id]

    refused = emulator_client().post("/api/v3/loads", json={
        "data_table_id": 1, "destination_connection_id": created.id, "destination_table": "ads_daily"})
    assert refused.status_code == 400
    reason = " ".join(refused.json()["errors"]["destination_connection_id"])
    assert "'error'" in reason and "password authentication failed" in reason

    fixed = api.destination_connections.reauthorize("postgresql", created.id, pg_params(postgres_params))
    assert (fixed.id, fixed.status, fixed.status_message) == (created.id, "active", None)
    load = api.loads.create(data_table_id=1, destination_connection_id=created.id, destination_table="ads_daily")
    assert load.destination_connection_id == created.id

    broken = api.destination_connections.reauthorize("postgresql", created.id, wrong)
    assert broken.status == "error" and "password authentication failed" in (broken.status_message or "")
    assert run_and_wait(api, load.id).error_text == (
        f"destination connection {created.id} (Typo) is error: {broken.status_message}"
    )


def test_recheck_tests_again(api: ImprovadoClient, emulator_settings: EmulatorSettings) -> None:
    created = api.destination_connections.create(
        destination_name="sqlite", title="Scratch", connection_params=SqliteParams(database="scratch.sqlite3")
    )
    assert created.status == "active"
    path = emulator_settings.data_dir / "scratch.sqlite3"
    assert path.exists()
    path.write_bytes(b"this is not a database file" * 100)
    broken = api.destination_connections.recheck("sqlite", created.id)
    assert (broken.status, broken.status_message) == ("error", "file is not a database")
    path.unlink()
    assert api.destination_connections.recheck("sqlite", created.id).status == "active"
    with pytest.raises(NotFoundError):
        api.destination_connections.recheck("postgresql", created.id)


def test_patch_changes_the_title_and_the_automated_load_flag_only(
    api: ImprovadoClient, emulator_client: Client
) -> None:
    created = api.destination_connections.create(
        destination_name="sqlite", title="Old", connection_params={"database": "t.sqlite3"}
    )
    renamed = api.destination_connections.update("sqlite", created.id, title="New")
    assert (renamed.title, renamed.status, renamed.create_load_for_new_tables) == ("New", "active", False)
    assert api.destination_connections.update("sqlite", created.id, create_load_for_new_tables=True).title == "New"
    assert api.destination_connections.get("sqlite", created.id).create_load_for_new_tables is True
    ws1 = emulator_client()
    refused = ws1.patch(f"{LITE}/{created.id}", json={"connection_params": {"database": "u.sqlite3"}, "colour": 1})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"connection_params", "colour"}
    assert "PUT" in refused.json()["errors"]["connection_params"][0]
    assert ws1.patch(f"{LITE}/{created.id}", json={"title": ""}).status_code == 400
    nulls = ws1.patch(f"{LITE}/{created.id}", json={"title": None, "create_load_for_new_tables": None})
    assert nulls.status_code == 400 and set(nulls.json()["errors"]) == {"title", "create_load_for_new_tables"}
    assert "may not be null" in nulls.json()["errors"]["title"][0]
    kept = api.destination_connections.get("sqlite", created.id)
    assert (kept.title, kept.create_load_for_new_tables) == ("New", True)


def test_deleting_a_connection_stops_its_loads_and_keeps_the_data(
    api: ImprovadoClient, emulator_client: Client, emulator_settings: EmulatorSettings
) -> None:
    created = api.destination_connections.create(
        destination_name="sqlite", title="Doomed", connection_params=SqliteParams(database="doomed.sqlite3")
    )
    load = api.loads.create(data_table_id=3, destination_connection_id=created.id, destination_table="totals")
    first = run_and_wait(api, load.id)
    assert first.status == "success" and first.uploaded_rows_count == 6

    api.destination_connections.delete("sqlite", created.id)
    with pytest.raises(NotFoundError):
        api.destination_connections.get("sqlite", created.id)
    assert created.id not in [c.id for c in api.destination_connections.list("sqlite")]
    with pytest.raises(NotFoundError):
        api.destination_connections.delete("sqlite", created.id)

    after = run_and_wait(api, load.id)
    assert after.status == "failed"
    assert after.error_text and after.error_text.startswith(f"destination connection {created.id} was deleted")
    assert "Doomed" in after.error_text
    with sqlite3.connect(emulator_settings.data_dir / "doomed.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM totals").fetchone() == (6,)
    assert api.loads.get(load.id).destination_connection_id == created.id

    refused = emulator_client().post("/api/v3/loads", json={
        "data_table_id": 1, "destination_connection_id": created.id, "destination_table": "x"})
    assert refused.status_code == 400 and "does not exist" in refused.text



def test_a_new_connection_of_the_workspace_takes_over_the_tables_of_a_deleted_one(
    api: ImprovadoClient, emulator: EmulatorServer, emulator_settings: EmulatorSettings
) -> None:
    """Deleted out of band (or `pulumi destroy`), made again by `pulumi up`: the loads go on into their tables."""
    params = SqliteParams(database="again.sqlite3")
    old = api.destination_connections.create(destination_name="sqlite", title="Again", connection_params=params)
    first = api.loads.create(data_table_id=3, destination_connection_id=old.id, destination_table="totals")
    assert run_and_wait(api, first.id).status == "success"
    live = api.destination_connections.create(destination_name="sqlite", title="Twin", connection_params=params)
    twin = api.loads.create(data_table_id=3, destination_connection_id=live.id, destination_table="totals",
                            allow_shared_table=True)
    assert run_and_wait(api, twin.id).status == "failed"  # a live connection's table is not another's
    api.destination_connections.delete("sqlite", old.id)

    new = api.destination_connections.create(destination_name="sqlite", title="Again", connection_params=params)
    again = api.loads.create(data_table_id=3, destination_connection_id=new.id, destination_table="totals")
    done = run_and_wait(api, again.id)

    assert (done.status, done.error_text, done.uploaded_rows_count) == ("success", None, 6)
    with sqlite3.connect(emulator_settings.data_dir / "again.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM totals").fetchone() == (6,)  # replaced, not doubled
    with ImprovadoClient(base_url=emulator.url, username=EMULATOR_USER, password=EMULATOR_PASSWORD,
                         workspace_id=2, retry=FAST) as ws2:
        other = ws2.destination_connections.create(destination_name="sqlite", title="Theirs",
                                                   connection_params=params)
        theirs = ws2.loads.create(data_table_id=ws2.data_tables.list().to_list()[0].id,
                                  destination_connection_id=other.id, destination_table="totals")
        ws2.loads.run(theirs.id)
        refused = ws2.loads.wait(theirs.id, timeout=30, poll_interval=0.05)
    assert refused.status == "failed" and "not created by Improvado for this connection" in str(refused.error_text)

def test_params_are_never_in_any_answer(
    api: ImprovadoClient, emulator: EmulatorServer, emulator_client: Client, postgres_params: dict[str, Any]
) -> None:
    wrong_password = f"pw-{secrets.token_hex(12)}"
    created = api.destination_connections.create(
        destination_name="postgresql", title="Scan", connection_params=pg_params(postgres_params)
    )
    api.destination_connections.reauthorize(
        "postgresql", created.id, pg_params(postgres_params, password=wrong_password)
    )
    ws1 = emulator_client()
    bodies = [
        ws1.get(PG).text,
        ws1.get(f"{PG}/{created.id}").text,
        ws1.patch(f"{PG}/{created.id}", json={"title": "Scanned"}).text,
        ws1.put(f"{PG}/{created.id}/recheck").text,
        ws1.put(f"{PG}/{created.id}", json={"connection_params": {**postgres_params}}).text,
        ws1.post(PG, json={"title": "Again", "connection_params": {**postgres_params}}).text,
        ws1.put(f"{PG}/{created.id}", json={"connection_params": {**postgres_params, "port": "x"}}).text,
        httpx.get(f"{emulator.url}/_emulator/requests").text,
    ]
    for body in bodies:
        assert postgres_params["password"] not in body and wrong_password not in body
        assert f":{postgres_params['port']}" not in body
    for item in ws1.get(PG).json()["results"]:
        assert set(item) == CONNECTION_KEYS


@pytest.mark.parametrize("database", ["../escape.sqlite3", "/tmp/escape.sqlite3", "..", "sub/dir.sqlite3", ""])
def test_a_sqlite_database_outside_the_data_dir_is_refused(
    emulator_client: Client, emulator_settings: EmulatorSettings, database: str
) -> None:
    answer = emulator_client().post(LITE, json={"title": "Escape", "connection_params": {"database": database}})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["connection_params.database"]
    assert not (emulator_settings.data_dir.parent / "escape.sqlite3").exists()



@pytest.mark.parametrize("database", ["emulator.sqlite3", "emulator.sqlite3-wal", "EMULATOR.SQLITE3", "emulator.lock"])
def test_a_sqlite_database_naming_the_emulators_own_files_is_refused(
    emulator_client: Client, emulator_settings: EmulatorSettings, database: str
) -> None:
    ws1 = emulator_client()
    answer = ws1.post(LITE, json={"title": "Own state", "connection_params": {"database": database}})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["connection_params.database"]
    assert "emulator's own files" in answer.json()["errors"]["connection_params.database"][0]
    scratch = ws1.post(LITE, json={"title": "Scratch", "connection_params": {"database": "scratch.sqlite3"}}).json()
    moved = ws1.put(f"{LITE}/{scratch['id']}", json={"connection_params": {"database": database}})
    assert moved.status_code == 400 and list(moved.json()["errors"]) == ["connection_params.database"]
    with sqlite3.connect(emulator_settings.state_path) as state:
        tables = {name for (name,) in state.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "_improvado_loads" not in tables  # no destination table ever went into the emulator's state

def test_the_misspelled_params_key_is_accepted(emulator_client: Client) -> None:
    ws1 = emulator_client()
    answer = ws1.post(LITE, json={"title": "Spelled as documented", "destination_name": "sqlite",
                                  "create_load_for_new_tables": True,
                                  "conenctions_params": {"database": "typo.sqlite3"}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "active" and answer.json()["create_load_for_new_tables"] is True
    both = ws1.post(LITE, json={"title": "x", "connection_params": {"database": "a.sqlite3"},
                                "conenctions_params": {"database": "a.sqlite3"}})
    assert both.status_code == 400 and list(both.json()["errors"]) == ["conenctions_params"]
    reauthorized = ws1.put(f"{LITE}/{answer.json()['id']}", json={"conenctions_params": {"database": "b.sqlite3"}})
    assert reauthorized.status_code == 200 and reauthorized.json()["status"] == "active"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (PG, {"title": "x", "connection_params": {"database": "d", "user": "u", "password": "p"}},
         "connection_params.host"),
        (PG, {"title": "x", "connection_params": {"host": "h", "database": "d", "user": "u", "password": "p",
                                                  "sslmode": "require"}}, "connection_params.sslmode"),
        (PG, {"title": "x"}, "connection_params"),
        (PG, {"connection_params": {"host": "h", "database": "d", "user": "u", "password": "p"}}, "title"),
        (PG, {"title": "x", "destination_name": "sqlite", "connection_params": {"host": "h", "database": "d",
                                                                                 "user": "u", "password": "p"}},
         "destination_name"),
        (LITE, {"title": "x", "connection_params": {"database": "a.sqlite3"}, "colour": "red"}, "colour"),
        ("/api/v3/destinations/bigquery/connections", {"title": "x", "connection_params": {}}, "destination_name"),
    ],
)
def test_bad_create_bodies_are_400_naming_the_field(
    emulator_client: Client, path: str, body: dict[str, Any], field: str
) -> None:
    answer = emulator_client().post(path, json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["errors"]


def test_connections_are_per_workspace_and_seeded_ones_keep_working(
    api: ImprovadoClient, emulator: EmulatorServer, emulator_client: Client
) -> None:
    assert api.destination_connections.recheck("sqlite", 1).status == "active"
    legacy = api.destination_connections.recheck("postgresql", 3)
    assert legacy.status == "error" and "Connection refused" in (legacy.status_message or "")
    assert api.destination_connections.recheck("postgresql", 2).status == "active"
    mine = api.destination_connections.create(
        destination_name="sqlite", title="Mine", connection_params={"database": "mine.sqlite3"}
    )
    token = httpx.post(f"{emulator.url}/api/v3/token", json={"workspace_id": 2},
                       auth=("tester", "tester-password")).json()["token"]
    ws2 = emulator_client(token)
    assert ws2.get(f"{LITE}/{mine.id}").status_code == 404
    assert ws2.delete(f"{LITE}/{mine.id}").status_code == 404
    assert [c["id"] for c in ws2.get(LITE).json()["results"]] == [4]


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_create_whose_answer_was_lost_is_made_once(
    api: ImprovadoClient, emulator: EmulatorServer, when: str
) -> None:
    httpx.post(f"{emulator.url}/_emulator/faults",
               json={"method": "POST", "path": LITE, "drop": when, "times": 1}).raise_for_status()
    created = api.destination_connections.create(
        destination_name="sqlite", title="Lost", connection_params=SqliteParams(database="lost.sqlite3")
    )
    assert [c.id for c in api.destination_connections.find_by_title("sqlite", "Lost")] == [created.id]



@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP and never answers: a connection test there lasts its whole timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in [*held, server]:
        conn.close()


def test_a_create_whose_answer_is_lost_while_the_connection_is_tested_is_made_once(
    emulator: EmulatorServer, postgres_params: dict[str, Any], silent_server: int
) -> None:
    """The connection exists (initializing) while it is tested, so the lost answer's look-up finds it."""
    params = pg_params(postgres_params, host="127.0.0.1", port=silent_server)
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, retry=FAST,
                         timeout=httpx.Timeout(1.0, connect=5.0)) as impatient:
        made = impatient.destination_connections.create(destination_name="postgresql", title="Slow to test",
                                                        connection_params=params)
    assert made.status == "initializing"
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN, retry=FAST) as api:
        for _ in range(200):  # the test ends by its connect timeout (bounded)
            [conn] = api.destination_connections.find_by_title("postgresql", "Slow to test")
            if conn.status != "initializing":
                break
            time.sleep(0.1)
        assert conn.id == made.id and conn.status == "error" and conn.status_message
        assert len(api.destination_connections.find_by_title("postgresql", "Slow to test")) == 1

def test_client_side_validation_names_the_field(api: ImprovadoClient) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        api.destination_connections.create(
            destination_name="sqlite", title="x", connection_params={"database": "../up.sqlite3"}
        )
    assert list(caught.value.errors) == ["connection_params.database"]


def test_a_state_db_from_before_connections_had_params_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "emulator.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE connections (id INTEGER PRIMARY KEY, workspace_id INTEGER, title VARCHAR, "
                   "destination_type VARCHAR, status VARCHAR, dsn VARCHAR, seed_key VARCHAR NOT NULL)")
        db.execute("INSERT INTO connections VALUES (1, 1, 'Old', 'sqlite', 'active', 'sqlite:///w.sqlite3', 'w')")
    store = Store(path)
    try:
        with store.session() as session:
            old = session.get(ConnectionRow, 1)
            assert old is not None
            assert (old.title, old.status_message, old.create_load_for_new_tables, old.params, old.deleted_at) == (
                "Old", None, False, None, None)
            session.add(ConnectionRow(workspace_id=1, title="New", destination_type="sqlite", status="active",
                                      dsn=None))
    finally:
        store.close()
