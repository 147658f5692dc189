"""Benchmark of the emulator's runs: rows/s into SQLite and PostgreSQL next to a raw insert of the same rows.

    .venv/bin/python benchmarks/bench_runs.py [--rows 200000] [--postgres-dsn DSN | --no-postgres]

A benchmark-only data table of ``--rows`` rows is added to a fresh emulator's
store; a load with history then runs it into the SQLite warehouse and into
PostgreSQL (``--postgres-dsn``, else ``IMPROVADO_TEST_POSTGRES_DSN``, else a
throwaway server from scripts/postgres-throwaway), twice each: the first run
(full history) creates the table, the second (a date range of every day)
deletes and inserts every row. Each run is timed from the
run request to the end seen by the client (wall) and against the emulator
process's CPU. The floor is a raw DB-API ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) of the same rows, already converted, into a fresh table, in one
transaction. Goal: at least 100,000 rows/s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import insert

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.emulator.bulk import python_values
from improvado_loads.emulator.sources import DAILY_COLUMNS
from improvado_loads.emulator.store import DataTableRow, SourceRow, Store

GOAL_ROWS_PER_SECOND = 100_000
ROOT = Path(__file__).resolve().parent.parent
KINDS = [column["type"] for column in DAILY_COLUMNS]
SQLITE_TYPES = {"date": "DATE", "text": "TEXT", "integer": "BIGINT", "numeric": "NUMERIC(18, 4)"}


def synthetic_rows(count: int) -> list[dict[str, Any]]:
    """``count`` rows of the daily ad-performance shape: 100 accounts × campaigns a day."""
    start = date(2000, 1, 1)
    return [
        {"date": (start + timedelta(days=i // 100)).isoformat(), "account": f"account-{i % 100}",
         "campaign": f"campaign {i % 7}", "impressions": 1000 + i % 9000, "clicks": 10 + i % 90,
         "spend": f"{(i % 10_000) / 100:.2f}", "conversions": i % 13}
        for i in range(count)
    ]


def add_bench_table(store: Store, rows: list[dict[str, Any]]) -> int:
    """Add a benchmark-only data table holding ``rows`` to workspace 1; returns its id."""
    with store.session() as session:
        table = DataTableRow(workspace_id=1, title=f"Benchmark: {len(rows)} rows", data_class="daily",
                             by_accounts=False, date_column="date", columns=DAILY_COLUMNS, source_kind="google_ads")
        session.add(table)
        session.flush()
        session.execute(insert(SourceRow), [
            {"data_table_id": table.id, "day": date.fromisoformat(row["date"]), "values": row} for row in rows
        ])
        return table.id


def floor_sqlite(path: Path, rows: Sequence[Sequence[Any]]) -> float:
    """Seconds of a raw sqlite3 executemany of ``rows`` (converted as the emulator binds them) + commit."""
    names = [column["name"] for column in DAILY_COLUMNS]
    db = sqlite3.connect(path)
    try:
        columns = ", ".join(f"{n} {SQLITE_TYPES[k]}" for n, k in zip(names, KINDS, strict=True))
        db.execute(f"CREATE TABLE floor ({columns})")
        db.commit()
        start = time.perf_counter()
        with db:
            db.executemany(f"INSERT INTO floor VALUES ({', '.join('?' * len(names))})", rows)
        return time.perf_counter() - start
    finally:
        db.close()


def floor_postgres(dsn: str, rows: Sequence[Sequence[Any]]) -> float:
    """Seconds of a raw psycopg COPY of ``rows`` into a fresh table + commit."""
    names = [column["name"] for column in DAILY_COLUMNS]
    types = {"date": "DATE", "text": "TEXT", "integer": "BIGINT", "numeric": "NUMERIC(18,4)"}
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(types[k])) for n, k in zip(names, KINDS, strict=True)
    )
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute(sql.SQL("CREATE TABLE bench_floor ({})").format(columns))
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY bench_floor FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_floor")
        conn.commit()
    return elapsed


@contextlib.contextmanager
def postgres(explicit: str | None, wanted: bool) -> Iterator[str | None]:
    """The PostgreSQL DSN to use: given, from the test variable, or a throwaway server (stopped after)."""
    if not wanted:
        yield None
        return
    dsn = explicit or os.environ.get("IMPROVADO_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as base:
        script = str(ROOT / "scripts" / "postgres-throwaway")
        started = subprocess.run([script, "start", base], check=True, capture_output=True, text=True)
        try:
            yield started.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run([script, "stop", base], check=False, capture_output=True)


def timed_run(client: ImprovadoClient, load_id: int, days: tuple[date, date] | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, rows) of one run, from the request to its end.

    The client polls every 50 ms: a finer poll would take the emulator's lock and CPU from the run.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    if days is None:
        client.loads.run(load_id)
    else:
        client.loads.run(load_id, date_from=days[0], date_to=days[1])
    done = client.loads.wait(load_id, timeout=600, poll_interval=0.05)
    if done.status != "success":
        raise SystemExit(f"run of load {load_id} ended {done.status}: {done.error_text}")
    return time.perf_counter() - wall, time.process_time() - cpu, done.uploaded_rows_count or 0


def line(name: str, rows: int, wall: float, cpu: float | None = None, floor: float | None = None) -> str:
    """One figure: rows/s (wall, and CPU when given) and the ratio to the floor."""
    text = f"{name:<46} {wall:6.2f} s  {rows / wall:>9,.0f} rows/s"
    if cpu is not None:
        text += f"  (CPU {rows / cpu:>9,.0f} rows/s)"
    if floor is not None:
        text += f"  {wall / floor:5.2f}× the floor"
    return text


def main() -> None:
    """Seed the benchmark table, run it into each destination twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres-dsn", default=None, help="libpq URL of a PostgreSQL to write into")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()

    rows = synthetic_rows(args.rows)
    raw = [[row[column["name"]] for column in DAILY_COLUMNS] for row in rows]
    wanted = not args.no_postgres
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp, postgres(args.postgres_dsn, wanted) as dsn:
        settings = EmulatorSettings(data_dir=Path(tmp) / "emulator", port=0, token="bench", run_seconds=0.0,
                                    postgres_dsn=dsn, tick_seconds=3600)
        with EmulatorServer(settings):
            pass  # first start: the seed
        store = Store(settings.state_path)
        try:
            table_id = add_bench_table(store, rows)
        finally:
            store.close()
        print(f"goal: at least {GOAL_ROWS_PER_SECOND:,} rows/s; {args.rows:,} rows a run "
              f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.2f})")
        targets = [("SQLite", 1)] + ([("PostgreSQL", 2)] if dsn else [])
        with EmulatorServer(settings) as server, ImprovadoClient(base_url=server.url, token="bench") as client:
            for name, connection_id in targets:
                if connection_id == 1:
                    floor = floor_sqlite(Path(tmp) / "floor.sqlite3", sqlite_values(raw))
                    print(line("SQLite: floor, raw executemany + commit", args.rows, floor))
                else:
                    assert dsn is not None
                    floor = floor_postgres(dsn, python_values(KINDS, raw))
                    print(line("PostgreSQL: floor, raw COPY + commit", args.rows, floor))
                load = client.loads.create(data_table_id=table_id, destination_connection_id=connection_id,
                                           destination_table="bench_rows", load_historical_data=True,
                                           run_policy="manual")
                days = (date.fromisoformat(rows[0]["date"]), date.fromisoformat(rows[-1]["date"]))
                steps = (("first run (creates the table)", None), ("rerun of every day (replaces all)", days))
                for step, span in steps:
                    wall, cpu, count = timed_run(client, load.id, span)
                    print(line(f"{name}: {step}", count, wall, cpu, floor))


def sqlite_values(raw: list[list[Any]]) -> list[tuple[Any, ...]]:
    """The rows as the emulator binds them for SQLite: ISO date text, numerics as floats."""
    return [(d, a, c, int(i), int(k), float(s), int(v)) for d, a, c, i, k, s, v in raw]


if __name__ == "__main__":
    main()
