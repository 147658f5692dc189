"""The emulator writes only into destination tables it created: a table of someone else survives a run.

Real rows in SQLite and PostgreSQL, runs through the typed client against a real emulator.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from improvado_loads import ImprovadoClient, LoadModel
from improvado_loads.emulator import EmulatorControl, EmulatorServer
from improvado_loads.emulator.ownership import OWNERSHIP_TABLE

LIFETIME_COLUMNS = ("account text, campaign text, impressions bigint, clicks bigint, spend numeric(18,4), "
                    "conversions bigint")
COLUMNS = f"date date, {LIFETIME_COLUMNS}"
#: Data table 1 is daily (runs replace a date range), data table 3 lifetime (runs replace everything).
DAILY, LIFETIME = 1, 3


def run_to_end(client: ImprovadoClient, load_id: int, **dates: str) -> LoadModel:
    client.loads.run(load_id, **dates)
    return client.loads.wait(load_id, timeout=30, poll_interval=0.05)


def newest_days(emulator: EmulatorServer) -> tuple[str, str]:
    with EmulatorControl(emulator.url) as control:
        days = sorted({r["date"] for r in control.source_rows(DAILY)})
    return days[-3], days[-1]


def unrelated_rows(lifetime: bool, first_day: str) -> list[tuple[object, ...]]:
    """Ten rows of someone else, dated inside the range a run would replace."""
    start = date.fromisoformat(first_day)
    rows = [(str(start + timedelta(days=i % 3)), "theirs", f"campaign {i}", i, i, i, i) for i in range(10)]
    return [row[1:] for row in rows] if lifetime else rows


@pytest.mark.parametrize("lifetime", [False, True], ids=["by-date", "full-refresh"])
def test_a_run_into_a_sqlite_table_it_did_not_create_fails_and_touches_nothing(
    emulator: EmulatorServer, client: ImprovadoClient, lifetime: bool
) -> None:
    first, last = newest_days(emulator)
    rows = unrelated_rows(lifetime, first)
    warehouse = emulator.settings.data_dir / "warehouse-ws1.sqlite3"
    with sqlite3.connect(warehouse) as db:
        db.execute(f"create table theirs ({LIFETIME_COLUMNS if lifetime else COLUMNS})")
        db.executemany(f"insert into theirs values ({', '.join('?' * len(rows[0]))})", rows)
    load = client.loads.create(data_table_id=LIFETIME if lifetime else DAILY, destination_connection_id=1,
                               destination_table="theirs")

    done = run_to_end(client, load.id, **({} if lifetime else {"date_from": first, "date_to": last}))

    assert done.status == "failed" and done.uploaded_rows_count == 0
    assert "'theirs' already exists and was not created by Improvado" in (done.error_text or "")
    with sqlite3.connect(warehouse) as db:
        assert db.execute("select count(*) from theirs where account = 'theirs'").fetchone() == (10,)
        assert db.execute("select count(*) from theirs").fetchone() == (10,)
        assert db.execute(f"select name from sqlite_master where name = '{OWNERSHIP_TABLE}'").fetchall() == []


@pytest.mark.parametrize("lifetime", [False, True], ids=["by-date", "full-refresh"])
def test_a_run_into_a_postgres_table_it_did_not_create_fails_and_touches_nothing(
    emulator: EmulatorServer, client: ImprovadoClient, postgres_dsn: str, lifetime: bool
) -> None:
    first, last = newest_days(emulator)
    rows = unrelated_rows(lifetime, first)
    schema = f"theirs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_dsn) as db:
        db.execute(f"create schema {schema}")
        db.execute(f"create table {schema}.facts ({LIFETIME_COLUMNS if lifetime else COLUMNS})")
        with db.cursor() as cursor:
            cursor.executemany(f"insert into {schema}.facts values ({', '.join(['%s'] * len(rows[0]))})", rows)
    load = client.loads.create(data_table_id=LIFETIME if lifetime else DAILY, destination_connection_id=2,
                               destination_table=f"{schema}.facts")

    done = run_to_end(client, load.id, **({} if lifetime else {"date_from": first, "date_to": last}))

    assert done.status == "failed" and "was not created by Improvado" in (done.error_text or "")
    with psycopg.connect(postgres_dsn) as db:
        assert db.execute(f"select count(*) from {schema}.facts where account = 'theirs'").fetchone() == (10,)
        assert db.execute(f"select count(*) from {schema}.facts").fetchone() == (10,)


def test_a_load_reruns_into_its_own_table_and_a_replacement_takes_it_over(
    emulator: EmulatorServer, client: ImprovadoClient
) -> None:
    first, last = newest_days(emulator)
    dates = {"date_from": first, "date_to": last}
    load = client.loads.create(data_table_id=DAILY, destination_connection_id=1, destination_table="ours")
    assert run_to_end(client, load.id, **dates).status == "success"
    assert run_to_end(client, load.id, **dates).status == "success"  # its own table, again

    # Shared on purpose: the second load writes the table too.
    shared = client.loads.create(data_table_id=2, destination_connection_id=1, destination_table="ours",
                                 allow_shared_table=True)
    assert run_to_end(client, shared.id, **dates).status == "success"

    # Replaced (old loads deleted, a new one into the same table): the table is taken over.
    client.loads.delete(load.id)
    client.loads.delete(shared.id)
    replacement = client.loads.create(data_table_id=DAILY, destination_connection_id=1, destination_table="ours",
                                      load_historical_data=True)
    done = run_to_end(client, replacement.id)
    assert (done.status, done.error_text) == ("success", None)
    with sqlite3.connect(emulator.settings.data_dir / "warehouse-ws1.sqlite3") as db:
        owners = db.execute(f"select load_id from {OWNERSHIP_TABLE} where destination_table = 'ours'").fetchall()
    assert sorted(owner for (owner,) in owners) == [load.id, shared.id, replacement.id]


def test_a_table_of_another_emulator_is_foreign(
    emulator: EmulatorServer, client: ImprovadoClient, tmp_path: Path
) -> None:
    """Ownership is per emulator state: another emulator's table (same name, same load id) is not ours."""
    first, last = newest_days(emulator)
    load = client.loads.create(data_table_id=DAILY, destination_connection_id=1, destination_table="ours")
    assert run_to_end(client, load.id, date_from=first, date_to=last).status == "success"
    with sqlite3.connect(emulator.settings.data_dir / "warehouse-ws1.sqlite3") as db:
        db.execute(f"update {OWNERSHIP_TABLE} set emulator_id = 'another-emulator'")
    done = run_to_end(client, load.id, date_from=first, date_to=last)
    assert done.status == "failed" and "was not created by Improvado" in (done.error_text or "")


def test_a_login_with_its_own_schema_keeps_its_records_there(
    emulator: EmulatorServer, client: ImprovadoClient, postgres_dsn: str, postgres_params: dict[str, object]
) -> None:
    """Records live beside the tables they record: another login's ``public._improvado_loads`` (which
    PostgreSQL's search path makes visible, but not readable) never stands in for this login's own."""
    first, last = newest_days(emulator)
    dates = {"date_from": first, "date_to": last}
    # The superuser's connection (seeded connection 2) writes into public first: its records go to public.
    superuser = client.loads.create(data_table_id=DAILY, destination_connection_id=2,
                                    destination_table=f"public.su_{uuid.uuid4().hex[:8]}")
    assert run_to_end(client, superuser.id, **dates).status == "success"
    name, password = f"login_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        db.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
    try:
        params = {**{k: postgres_params[k] for k in ("host", "port", "database")}, "user": name,
                  "password": password, "schema": name}
        conn = client.destination_connections.create(destination_name="postgresql", title=name,
                                                     connection_params=params)
        assert conn.status == "active", conn.status_message
        load = client.loads.create(data_table_id=DAILY, destination_connection_id=conn.id, destination_table="ads")

        done = run_to_end(client, load.id, **dates)

        assert (done.status, done.error_text) == ("success", None)
        with psycopg.connect(postgres_dsn) as db:
            recorded = db.execute(f"select load_id from {name}.{OWNERSHIP_TABLE}").fetchall()
        assert recorded == [(load.id,)]
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {name} CASCADE")
            db.execute(f"DROP OWNED BY {name}")
            db.execute(f"DROP ROLE {name}")
