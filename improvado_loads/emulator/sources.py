"""Synthetic ad-platform data: the rows of the emulator's data tables.

Every value is drawn from a ``random.Random`` seeded by the data table id (and
the day), so a fresh data dir always gets the same numbers for the same dates.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from improvado_loads.emulator.store import DataTableRow, SourceRow

__all__ = [
    "ACCOUNTS",
    "DAILY_COLUMNS",
    "LIFETIME_COLUMNS",
    "SOURCE_CAMPAIGNS",
    "daily_rows",
    "extract",
    "latest_day",
    "lifetime_rows",
    "source_values",
]

ACCOUNTS = ("acme-us", "acme-eu")
#: Campaigns of each synthetic source (``DataTableRow.source_kind``).
SOURCE_CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "google_ads": ("Brand - Search", "Generic - Search", "Remarketing - Display"),
    "facebook_ads": ("Prospecting - Video", "Retargeting - Carousel"),
    "lifetime": ("Brand - Search", "Generic - Search", "Remarketing - Display"),
}
_METRICS = [
    {"name": "impressions", "type": "integer"},
    {"name": "clicks", "type": "integer"},
    {"name": "spend", "type": "numeric"},
    {"name": "conversions", "type": "integer"},
]
DAILY_COLUMNS = [
    {"name": "date", "type": "date"},
    {"name": "account", "type": "text"},
    {"name": "campaign", "type": "text"},
    *_METRICS,
]
LIFETIME_COLUMNS = [{"name": "account", "type": "text"}, {"name": "campaign", "type": "text"}, *_METRICS]
#: The lifetime totals start as the sum of this many days.
LIFETIME_DAYS = 60


@functools.lru_cache(maxsize=1024)
def _profile(table_id: int, account: str, campaign: str) -> tuple[float, float, float, float]:
    """A campaign's stable character: daily impressions, CTR, CPC, conversion rate."""
    rng = random.Random(f"profile:{table_id}:{account}:{campaign}")
    return rng.uniform(4_000, 40_000), rng.uniform(0.01, 0.06), rng.uniform(0.35, 2.5), rng.uniform(0.02, 0.09)


def _metrics(rng: random.Random, table_id: int, account: str, campaign: str, day: date) -> dict[str, Any]:
    impressions_base, ctr, cpc, cvr = _profile(table_id, account, campaign)
    weekday = 0.8 if day.weekday() >= 5 else 1.0
    impressions = int(impressions_base * weekday * rng.uniform(0.8, 1.2))
    clicks = int(impressions * ctr * rng.uniform(0.85, 1.15))
    spend = (Decimal(clicks) * Decimal(str(round(cpc * rng.uniform(0.9, 1.1), 4)))).quantize(Decimal("0.01"))
    conversions = int(clicks * cvr * rng.uniform(0.7, 1.3))
    return {"impressions": impressions, "clicks": clicks, "spend": str(spend), "conversions": conversions}


def daily_rows(table_id: int, source_kind: str, day: date) -> list[dict[str, Any]]:
    """One day of rows: one per account and campaign (new dicts: the caller may change them)."""
    return [dict(row) for row in _daily_rows(table_id, source_kind, day)]


@functools.lru_cache(maxsize=4096)
def _daily_rows(table_id: int, source_kind: str, day: date) -> tuple[dict[str, Any], ...]:
    """The rows of :func:`daily_rows`, made once a process: every emulator seeds the same 60 days."""
    rng = random.Random(f"day:{table_id}:{day.isoformat()}")
    return tuple(
        {"date": day.isoformat(), "account": account, "campaign": campaign,
         **_metrics(rng, table_id, account, campaign, day)}
        for account in ACCOUNTS
        for campaign in SOURCE_CAMPAIGNS[source_kind]
    )


def _add(totals: dict[str, Any], day: dict[str, Any]) -> None:
    for name in ("impressions", "clicks", "conversions"):
        totals[name] = int(totals[name]) + int(day[name])
    totals["spend"] = str(Decimal(totals["spend"]) + Decimal(day["spend"]))


def lifetime_rows(table_id: int, source_kind: str, last_day: date) -> list[dict[str, Any]]:
    """One row per account and campaign: totals of the ``LIFETIME_DAYS`` days up to ``last_day``."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for offset in range(LIFETIME_DAYS - 1, -1, -1):
        for row in daily_rows(table_id, source_kind, last_day - timedelta(days=offset)):
            key = (row["account"], row["campaign"])
            if key not in totals:
                totals[key] = {"account": key[0], "campaign": key[1], "impressions": 0, "clicks": 0,
                               "spend": "0.00", "conversions": 0}
            _add(totals[key], row)
    return list(totals.values())


def latest_day(session: Session, table_id: int) -> date | None:
    """The newest date among a data table's rows (None for lifetime tables or no rows)."""
    return session.scalar(select(func.max(SourceRow.day)).where(SourceRow.data_table_id == table_id))


def source_values(
    session: Session, table: DataTableRow, days: tuple[date, date] | None = None
) -> tuple[list[tuple[Any, ...]], date | None]:
    """A data table's rows (only those of ``days``, inclusive, when given), in insertion order.

    Each row is a tuple of its values in ``table.columns`` order, as stored (ISO dates,
    numerics as strings; a missing value is None), with the newest day among them.
    The store's SQLite takes the values out of each row's JSON (``json_extract``): no
    row is decoded in Python, which keeps a run of 100,000s of rows fast.
    """
    paths = [f'$."{column["name"]}"' for column in table.columns]
    extracts = ", ".join(['json_extract("values", ?)'] * len(paths))
    statement = f"SELECT {extracts} FROM {SourceRow.__tablename__} WHERE data_table_id = ?"
    params: list[Any] = [*paths, table.id]
    if days is not None:
        statement += " AND day BETWEEN ? AND ?"
        params += [day.isoformat() for day in days]  # as SQLAlchemy stores a Date on SQLite
    # The DB-API cursor of the session's own transaction: rows come back as plain tuples.
    cursor = session.connection().connection.cursor()
    try:
        rows: list[tuple[Any, ...]] = cursor.execute(statement + " ORDER BY id", params).fetchall()
    finally:
        cursor.close()
    if not rows:
        return rows, None
    newest = select(func.max(SourceRow.day)).where(SourceRow.data_table_id == table.id)
    if days is not None:
        newest = newest.where(SourceRow.day.between(*days))
    return rows, session.scalar(newest)


def extract(session: Session, table: DataTableRow, days: int, today: date) -> tuple[int, int]:
    """Simulate ``days`` more extractions; returns (rows added, rows updated).

    A dated table gets the next days after its newest date (or after
    yesterday when it is empty); a lifetime table gets its totals bumped.
    """
    if table.date_column is None:
        rows = session.scalars(
            select(SourceRow).where(SourceRow.data_table_id == table.id).order_by(SourceRow.id)
        ).all()
        for step in range(days):
            bump = random.Random(f"bump:{table.id}:{today.isoformat()}:{step}")
            for row in rows:
                values = dict(row.values)
                day = today - timedelta(days=bump.randint(0, 6))
                _add(values, _metrics(bump, table.id, values["account"], values["campaign"], day))
                row.values = values
        return 0, len(rows)
    newest = latest_day(session, table.id) or today - timedelta(days=1)
    added = 0
    for step in range(1, days + 1):
        day = newest + timedelta(days=step)
        for values in daily_rows(table.id, table.source_kind, day):
            session.add(SourceRow(data_table_id=table.id, day=day, values=values))
            added += 1
    return added, 0
