"""One program for every environment: the stack's config says where the loads go.

``dev`` and ``prod`` differ only by config (workspace, destination connection,
data table ids, how often to load). A new environment is a new stack:

    pulumi stack init staging --copy-config-from dev
    pulumi config set --stack staging destinationConnectionId 2
"""

import pulumi

from improvado_loads import Load, LoadArgs

config = pulumi.Config()
destination = config.require_int("destinationConnectionId")
tables = config.require_object("dataTables")  # {"googleAds": id, "facebookByAccount": id, "lifetime": id}
schedule = config.get("runPolicy") or "daily"

ads = Load("google-ads", LoadArgs(
    data_table_id=tables["googleAds"], destination_connection_id=destination,
    destination_table="google_ads_daily", run_policy=schedule))
facebook = Load("facebook-by-account", LoadArgs(
    data_table_id=tables["facebookByAccount"], destination_connection_id=destination,
    destination_table="facebook_ads_by_account", run_policy="after_extraction"))
lifetime = Load("campaign-lifetime", LoadArgs(
    data_table_id=tables["lifetime"], destination_connection_id=destination,
    destination_table="campaign_lifetime_totals", run_policy="weekly", load_historical_data=True))

pulumi.export("load_ids", {"google_ads": ads.load_id, "facebook": facebook.load_id, "lifetime": lifetime.load_id})
