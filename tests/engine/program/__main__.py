"""Connections, loads and runs from stack config, so that each test step is a config change.

``test:connections``: {"name": {DestinationConnectionArgs fields}}; the password of a
connection comes from the secret ``test:passwords`` ({"name": "..."}) when it has one.
``test:loads``: {"name": {LoadArgs fields}}, where ``"data_table": "<title>"`` looks the data
table up by title, ``"connection": "<name of a connection above>"`` uses that resource and
``"connection_title": "<title>"`` (with ``"destination_name"``) looks a connection up by title.
``test:runs``: {"name": {LoadRun fields, "load": "<name of a load above>"}}.
"""

import json

import pulumi

from improvado_loads import Load, LoadArgs, LoadRun

config = pulumi.Config("test")

connections = {}
connection_specs = json.loads(config.get("connections") or "{}")
if connection_specs:
    from improvado_loads import DestinationConnection, DestinationConnectionArgs

    passwords = config.get_secret_object("passwords") or pulumi.Output.secret({})
    for name, spec in connection_specs.items():
        spec = dict(spec)
        params = dict(spec.pop("connection_params"))
        if spec.pop("secret_password", False):
            params["password"] = passwords.apply(lambda found, name=name: found[name])
        connections[name] = DestinationConnection(name, DestinationConnectionArgs(connection_params=params, **spec))
        pulumi.export(name, {"connection_id": connections[name].connection_id, "status": connections[name].status,
                             "status_message": connections[name].status_message,
                             "title": connections[name].title})

loads = {}
for name, spec in json.loads(config.get("loads") or "{}").items():
    spec = dict(spec)
    if "data_table" in spec:
        from improvado_loads import get_data_table

        spec["data_table_id"] = get_data_table(title=spec.pop("data_table"))
    if "connection" in spec:
        spec["destination_connection_id"] = connections[spec.pop("connection")]
    if "connection_title" in spec:
        from improvado_loads import get_destination_connection

        spec["destination_connection_id"] = get_destination_connection(
            title=spec.pop("connection_title"), destination_name=spec.pop("destination_name", None))
    loads[name] = Load(name, LoadArgs(**spec))
    pulumi.export(name, {"load_id": loads[name].load_id, "run_policy": loads[name].run_policy,
                         "status": loads[name].status, "data_table": loads[name].data_table,
                         "paused": loads[name].paused,
                         "destination_connection_id": loads[name].destination_connection_id})

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

find = config.get_object("find")  # {"table": title | id, "connection": title | id, "destination_name": ...}
if find:
    from improvado_loads import get_data_table, get_destination_connection

    if "table" in find:
        key = "id" if isinstance(find["table"], int) else "title"
        pulumi.export("found_table", get_data_table(**{key: find["table"]}).apply(lambda t: [t.id, t.title]))
    if "connection" in find:
        key = "id" if isinstance(find["connection"], int) else "title"
        found = get_destination_connection(**{key: find["connection"]}, destination_name=find.get("destination_name"))
        pulumi.export("found_connection", found.apply(lambda c: [c.id, c.title, c.status]))
