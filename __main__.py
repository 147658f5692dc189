"""Improvado loads as code: the demo program.

Three loads push Improvado data tables into one destination connection. Which
connection, and which loads, come from stack config, so a new environment is a
new stack with other values:

    pulumi config set destinationConnectionId 2
    pulumi config set --path 'loads.google-ads.runPolicy' hourly

Credentials: ``improvado:apiUrl`` and ``improvado:token`` (``--secret``), or the
``IMPROVADO_*`` environment variables.
"""

import pulumi

from improvado_loads import Load, LoadArgs

config = pulumi.Config()
destination = config.get_int("destinationConnectionId") or 1

DEFAULT_LOADS = {
    "google-ads": {"dataTableId": 1, "table": "google_ads_daily", "runPolicy": "daily"},
    "facebook-by-account": {"dataTableId": 2, "table": "facebook_ads_by_account", "runPolicy": "after_extraction"},
    "campaign-lifetime": {"dataTableId": 3, "table": "campaign_lifetime_totals", "runPolicy": "weekly",
                          "loadHistoricalData": True},
}
loads = config.get_object("loads") or DEFAULT_LOADS

for name, spec in sorted(loads.items()):
    load = Load(
        name,
        LoadArgs(
            data_table_id=spec["dataTableId"],
            destination_connection_id=destination,
            destination_table=spec["table"],
            run_policy=spec.get("runPolicy", "manual"),
            load_historical_data=spec.get("loadHistoricalData", False),
        ),
    )
    pulumi.export(name, {"load_id": load.load_id, "table": load.destination_table, "status": load.status})
