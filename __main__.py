"""Improvado loads as code: the demo program (run it with `bash scripts/demo`).

One program declares the warehouse's destination connection, finds its data
tables by title, loads three of them into it, and backfills one load over a
date range. Where the warehouse is comes from stack config, so the same program
runs against the embedded SQLite file and against a PostgreSQL server:

    # stack demo: a SQLite file in the emulator's data dir (nothing to install)
    pulumi config set destination sqlite
    pulumi config set --path warehouse.database demo-warehouse.sqlite3

    # stack demo-postgres: a PostgreSQL server; the password is a secret
    pulumi config set destination postgresql
    pulumi config set --path warehouse.host 127.0.0.1
    pulumi config set --path warehouse.port 5432
    pulumi config set --path warehouse.database improvado_test
    pulumi config set --path warehouse.user postgres
    pulumi config set --secret warehousePassword          # prompts for it

    pulumi config set backfillFrom 2026-11-01             # optional: the backfill's range
    pulumi config set backfillTo 2026-11-14
    pulumi config set --path runPolicies.google-ads hourly   # optional: per-stack run policies

Credentials: `improvado:apiUrl` and `improvado:token` (`--secret`), or the
IMPROVADO_API_URL and IMPROVADO_API_TOKEN environment variables.
"""

import pulumi

from improvado_loads import (
    DestinationConnection,
    DestinationConnectionArgs,
    Load,
    LoadArgs,
    LoadRun,
    LoadRunArgs,
    get_data_table,
)

config = pulumi.Config()
destination = config.get("destination") or "sqlite"
params = config.get_object("warehouse") or {"database": "demo-warehouse.sqlite3"}
if destination == "postgresql":
    params = {**params, "password": config.require_secret("warehousePassword")}

warehouse = DestinationConnection(
    "warehouse",
    DestinationConnectionArgs(
        destination_name=destination,
        title=config.get("warehouseTitle") or f"Demo warehouse ({destination})",
        connection_params=params,
    ),
)

# (resource name, data table title, destination table, run policy, load its whole history first)
LOADS = [
    ("google-ads", "Google Ads campaign performance", "google_ads_daily", "daily", False),
    ("facebook-by-account", "Facebook Ads by account", "facebook_ads_by_account", "after_extraction", False),
    ("campaign-lifetime", "Campaign lifetime totals", "campaign_lifetime_totals", "weekly", True),
]
run_policies = config.get_object("runPolicies") or {}

loads = {
    name: Load(
        name,
        LoadArgs(
            data_table_id=get_data_table(title=title),
            destination_connection_id=warehouse,
            destination_table=table,
            run_policy=run_policies.get(name, policy),
            load_historical_data=history,
        ),
    )
    for name, title, table, policy, history in LOADS
}

# Runs the load when created, and again whenever the range or the version changes.
backfill = LoadRun(
    "google-ads-backfill",
    LoadRunArgs(
        load_id=loads["google-ads"].load_id,
        date_from=config.get("backfillFrom"),
        date_to=config.get("backfillTo"),
        triggers=[config.get("backfillVersion") or "1"],
        timeout_seconds=600,
    ),
)

pulumi.export("warehouse", {"connection_id": warehouse.connection_id, "status": warehouse.status})
pulumi.export("loads", {name: load.load_id for name, load in loads.items()})
pulumi.export("backfill", {"status": backfill.status, "rows": backfill.uploaded_rows_count})
