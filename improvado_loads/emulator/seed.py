"""The first-start seed: two workspaces, their data tables and destination connections.

Ids are deterministic: per workspace, in order, three data tables then three
connections, so workspace 1 has data tables 1-3 and connections 1-3, and
workspace 2 has data tables 4-6 and connections 4-6. Seeding happens once per
data dir; later starts only point the "Analytics Postgres" connections at the
``postgres_dsn`` they are given.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.sources import DAILY_COLUMNS, LIFETIME_COLUMNS, daily_rows, lifetime_rows
from improvado_loads.emulator.store import ConnectionRow, DataTableRow, SourceRow, Store, WorkspaceRow

__all__ = ["LEGACY_DSN", "WORKSPACES", "apply_postgres_dsn", "postgres_params", "seed_once", "warehouse_dsn"]

WORKSPACES = ((1, "Acme Marketing (dev)"), (2, "Acme Marketing (prod)"))
HISTORY_DAYS = 60
#: Nothing listens on port 9 (discard) of loopback: the "Legacy warehouse" is unreachable.
LEGACY_DSN = "postgresql://emulator@127.0.0.1:9/legacy"
#: What libpq says about it (the seed does not test it: it is known).
LEGACY_MESSAGE = 'connection failed: connection to server at "127.0.0.1", port 9 failed: Connection refused'
_SEEDED_KEY = "seeded"

_TABLES: tuple[dict[str, Any], ...] = (
    {"title": "Google Ads campaign performance", "data_class": "daily", "by_accounts": False,
     "date_column": "date", "columns": DAILY_COLUMNS, "source_kind": "google_ads"},
    {"title": "Facebook Ads by account", "data_class": "daily", "by_accounts": True,
     "date_column": "date", "columns": DAILY_COLUMNS, "source_kind": "facebook_ads"},
    {"title": "Campaign lifetime totals", "data_class": "lifetime", "by_accounts": False,
     "date_column": None, "columns": LIFETIME_COLUMNS, "source_kind": "lifetime"},
)


def warehouse_dsn(workspace_id: int) -> str:
    """The SQLite warehouse of a workspace, relative to the data dir."""
    return f"sqlite:///warehouse-ws{workspace_id}.sqlite3"


def postgres_params(dsn: str) -> dict[str, Any]:
    """The connection params of a libpq URL (``postgresql://user:password@host:port/database``)."""
    url = make_url(dsn)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or contract.POSTGRES_DEFAULT_PORT,
        "database": url.database or "postgres",
        "user": url.username or "postgres",
        "password": url.password or "",
        "schema": contract.POSTGRES_DEFAULT_SCHEMA,
    }


def _seed_workspace(session: Session, workspace_id: int, title: str, today: date, postgres_dsn: str | None) -> None:
    session.add(WorkspaceRow(id=workspace_id, title=title))
    session.flush()
    yesterday = today - timedelta(days=1)
    for spec in _TABLES:
        table = DataTableRow(workspace_id=workspace_id, **spec)
        session.add(table)
        session.flush()
        rows: list[dict[str, Any]]
        if table.date_column is None:
            rows = [{"data_table_id": table.id, "day": None, "values": v}
                    for v in lifetime_rows(table.id, table.source_kind, yesterday)]
        else:
            rows = [
                {"data_table_id": table.id, "day": day, "values": values}
                for offset in range(HISTORY_DAYS - 1, -1, -1)
                for day in [yesterday - timedelta(days=offset)]
                for values in daily_rows(table.id, table.source_kind, day)
            ]
        session.execute(insert(SourceRow), rows)
    analytics = postgres_params(postgres_dsn) if postgres_dsn else None
    connections: tuple[tuple[str, str, str, str | None, str | None, dict[str, Any] | None, str], ...] = (
        ("Local warehouse", "sqlite", "active", None, warehouse_dsn(workspace_id),
         {"database": f"warehouse-ws{workspace_id}.sqlite3"}, "warehouse"),
        ("Analytics Postgres", "postgresql", "active" if postgres_dsn else "initializing", None, postgres_dsn,
         analytics, "analytics"),
        ("Legacy warehouse", "postgresql", "error", LEGACY_MESSAGE, LEGACY_DSN, postgres_params(LEGACY_DSN), "legacy"),
    )
    for conn_title, kind, status, message, dsn, params, key in connections:
        session.add(ConnectionRow(workspace_id=workspace_id, title=conn_title, destination_type=kind,
                                  status=status, status_message=message, dsn=dsn, params=params, seed_key=key))
        session.flush()


def seed_once(store: Store, today: date, postgres_dsn: str | None) -> bool:
    """Seed an empty state DB; returns whether it seeded (False when already seeded)."""
    with store.session() as session:
        if store.get_meta(session, _SEEDED_KEY):
            return False
        for workspace_id, title in WORKSPACES:
            _seed_workspace(session, workspace_id, title, today, postgres_dsn)
        store.set_meta(session, _SEEDED_KEY, "1")
    return True


def apply_postgres_dsn(store: Store, postgres_dsn: str | None) -> None:
    """Point every "Analytics Postgres" connection at ``postgres_dsn`` and make it active."""
    if not postgres_dsn:
        return
    with store.session() as session:
        for connection in session.scalars(select(ConnectionRow).where(ConnectionRow.seed_key == "analytics")):
            connection.dsn = postgres_dsn
            connection.params = postgres_params(postgres_dsn)
            connection.status = "active"
            connection.status_message = None
