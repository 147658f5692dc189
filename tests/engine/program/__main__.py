"""Loads and runs from stack config, so that each test step is a config change.

``test:loads``: {"name": {LoadArgs fields}}; ``test:runs``: {"name": {LoadRun fields,
"load": "<name of a load above>"}}.
"""

import json

import pulumi

from improvado_loads import Load, LoadArgs, LoadRun

config = pulumi.Config("test")
loads = {}
for name, spec in json.loads(config.get("loads") or "{}").items():
    loads[name] = Load(name, LoadArgs(**spec))
    pulumi.export(name, {"load_id": loads[name].load_id, "run_policy": loads[name].run_policy,
                         "status": loads[name].status, "data_table": loads[name].data_table})

for name, spec in json.loads(config.get("runs") or "{}").items():
    spec = dict(spec)
    target = loads[spec.pop("load")]
    run = LoadRun(name, load_id=target.load_id, **spec)
    pulumi.export(name, {"status": run.status, "rows": run.uploaded_rows_count})

lookup = config.get_object("lookup")  # {"load_id": N, "data_table_id": M}
if lookup:
    from improvado_loads import get_load, get_loads

    one = get_load(lookup["load_id"])
    pulumi.export("looked_up", one.apply(lambda info: {"table": info.destination_table, "status": info.status}))
    many = get_loads(data_table_id=lookup["data_table_id"])
    pulumi.export("tables", many.apply(lambda infos: [info.destination_table for info in infos]))
