"""Adopt loads that already exist in Improvado.

Pulumi's ``import`` cannot serve dynamic resources (pulumi/pulumi#16175), so a
``Load`` takes ``adopt_load_id``: the first ``pulumi up`` reads that load,
checks it is the same load (data table, connection, destination table,
historical flag), aligns the run policy, and takes it over: nothing is created
and nothing is replaced. The next ``pulumi up`` shows no change, and removing
``adopt_load_id`` later changes nothing either.

Each existing load is one entry of the stack's ``existingLoads`` config:

    pulumi stack init dev
    pulumi config set --path existingLoads.totals.loadId 24
    pulumi config set --path existingLoads.totals.dataTableId 3
    pulumi config set --path existingLoads.totals.connectionId 1
    pulumi config set --path existingLoads.totals.table campaign_totals
    pulumi config set --path existingLoads.totals.runPolicy weekly      # optional (manual)
    pulumi up            # "created": taken over, nothing written to the API

``improvado-loads export`` writes a program like this one for every load of a
workspace.
"""

import pulumi

from improvado_loads import Load, LoadArgs

config = pulumi.Config()
existing = config.require_object("existingLoads")  # {"name": {"loadId", "dataTableId", "connectionId", "table", ...}}

for name, spec in sorted(existing.items()):
    load = Load(name, LoadArgs(
        data_table_id=spec["dataTableId"],
        destination_connection_id=spec["connectionId"],
        destination_table=spec["table"],
        run_policy=spec.get("runPolicy", "manual"),
        load_historical_data=spec.get("loadHistoricalData", False),
        adopt_load_id=spec["loadId"],
    ))
    pulumi.export(name, load.load_id)
