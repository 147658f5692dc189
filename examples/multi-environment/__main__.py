"""One program, every environment: `dev` and `prod` differ only in Pulumi.<stack>.yaml.

The program names things. It declares the warehouse's destination connection,
finds the data tables by title in the stack's workspace, and declares the loads
into the warehouse and a first run. Each stack's config says:

- `improvado:workspaceId` and the credentials (`improvado:token`, or
  `improvado:username` + `improvado:password`, each `--secret`);
- `warehouse`: the connection's title and params (host, port, database, user,
  schema); its password is the secret `warehousePassword`;
- `runPolicies`: how often each load runs.

A new environment is a new stack:

    pulumi stack init staging --copy-config-from dev
    pulumi config set --stack staging --path warehouse.title "Analytics warehouse (staging)"
    pulumi config set --stack staging --path warehouse.params.schema improvado_staging
    pulumi config set --stack staging --secret warehousePassword     # prompts
    pulumi up --stack staging

The stacks' files point at the emulator (``bash scripts/demo``, port 8765, whose
default user ``demo`` with password ``demo`` may use workspaces 1 and 2: set
``improvado:username`` and ``improvado:password`` (``--secret``) in each stack)
and at a PostgreSQL on 127.0.0.1:5432; for the demo's throwaway one
(``bash scripts/demo --postgres``), set ``warehouse.params.port``, ``.database``
and ``.user`` from ``.demo/postgres.dsn`` with ``pulumi config set --path``.
Without Pulumi's Python language host, ``improvado-loads deploy up --stack dev``
stands in for ``pulumi up`` (README).
"""

from typing import Any

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
warehouse_config = config.require_object("warehouse")  # {"title": ..., "params": {host, port, database, user, schema}}
run_policies = config.require_object("runPolicies")  # {"google-ads": "hourly", ...}

warehouse = DestinationConnection(
    "warehouse",
    DestinationConnectionArgs(
        destination_name="postgresql",
        title=warehouse_config["title"],
        connection_params={**warehouse_config["params"], "password": config.require_secret("warehousePassword")},
    ),
)


def load(name: str, data_table_title: str, table: str, **more: Any) -> Load:
    """A load of the data table of that title into the warehouse, on this stack's run policy."""
    return Load(
        name,
        LoadArgs(
            data_table_id=get_data_table(title=data_table_title),
            destination_connection_id=warehouse,
            destination_table=table,
            run_policy=run_policies[name],
            **more,
        ),
    )


ads = load("google-ads", "Google Ads campaign performance", "google_ads_daily")
facebook = load("facebook-by-account", "Facebook Ads by account", "facebook_ads_by_account")
lifetime = load("campaign-lifetime", "Campaign lifetime totals", "campaign_lifetime_totals", load_historical_data=True)

# The first run of the ads load, once (change the trigger to run it again).
first_run = LoadRun("google-ads-first-run", LoadRunArgs(load_id=ads.load_id, triggers=["1"], timeout_seconds=600))

pulumi.export("warehouse", {"connection_id": warehouse.connection_id, "status": warehouse.status})
pulumi.export("load_ids", {"google_ads": ads.load_id, "facebook": facebook.load_id, "lifetime": lifetime.load_id})
pulumi.export("first_run", {"status": first_run.status, "rows": first_run.uploaded_rows_count})
