"""Backfill on deploy: a ``LoadRun`` runs its load when created and whenever its
triggers (or its date range) change, and waits for the run to end; a failed run
fails the deployment with the destination's own error text.

    pulumi config set destination "Local warehouse"      # a connection's title (default)
    pulumi config set backfillFrom 2026-10-01
    pulumi config set backfillTo 2026-10-31
    pulumi up            # runs the load for October, waits, shows the rows written
    pulumi up            # no change: nothing runs
    pulumi config set backfillVersion 2 && pulumi up   # runs again
"""

import pulumi

from improvado_loads import Load, LoadArgs, LoadRun, get_data_table, get_destination_connection

config = pulumi.Config()

ads = Load("google-ads", LoadArgs(
    data_table_id=get_data_table(title=config.get("dataTable") or "Google Ads campaign performance"),
    destination_connection_id=get_destination_connection(title=config.get("destination") or "Local warehouse"),
    destination_table="google_ads_daily",
    run_policy="daily",
))

backfill = LoadRun(
    "google-ads-backfill",
    load_id=ads.load_id,
    date_from=config.require("backfillFrom"),
    date_to=config.require("backfillTo"),
    triggers=[config.get("backfillVersion") or "1"],
    wait=True,
    timeout_seconds=900,
)

pulumi.export("load_id", ads.load_id)
pulumi.export("backfill", {"status": backfill.status, "rows": backfill.uploaded_rows_count})
