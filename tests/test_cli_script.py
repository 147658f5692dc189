"""The data engineer's day through the installed ``improvado-loads`` console script (issue 7).

tests/test_cli.py checks each behaviour in-process; this runs the same workflow as a user
does, each command a subprocess of the real script against an emulator on loopback.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

SCRIPT = Path(sys.executable).parent / "improvado-loads"
CREDENTIAL_VARS = ("IMPROVADO_API_TOKEN", "IMPROVADO_USERNAME", "IMPROVADO_PASSWORD", "IMPROVADO_WORKSPACE_ID")
RFC3339_UTC = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b")


def test_a_loads_workflow_through_the_console_script(tmp_path: Path) -> None:
    token = f"script-tok-{secrets.token_hex(8)}"
    settings = EmulatorSettings(data_dir=tmp_path / "emulator", port=0, token=token, run_seconds=4.0, tick_seconds=0.1)
    # runs take 4 s: long enough that the second `run --wait` meets the first still going
    with EmulatorServer(settings) as server, ImprovadoClient(base_url=server.url, token=token) as api:
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        env.update({"IMPROVADO_API_URL": server.url, "IMPROVADO_API_TOKEN": token, "COLUMNS": "200"})

        def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
            done = subprocess.run([str(SCRIPT), *args], env=env, input=stdin, capture_output=True, text=True,
                                  timeout=120)  # fmt: skip
            assert "Traceback" not in done.stderr and token not in done.stdout + done.stderr
            return done

        created = run("loads", "create", "--data-table-id", "1", "--destination-connection-id", "1",
                      "--destination-table", "ads_daily", "--run-policy", "manual", "-o", "json")  # fmt: skip
        assert created.returncode == 0, created.stderr
        load_id = json.loads(created.stdout)["id"]
        assert json.loads(run("loads", "update", str(load_id), "--run-policy", "daily", "-o", "json").stdout)[
            "run_policy"] == "daily"  # fmt: skip
        assert json.loads(run("loads", "pause", str(load_id), "-o", "json").stdout)["status"] == "paused"
        assert json.loads(run("loads", "unpause", str(load_id), "-o", "json").stdout)["status"] != "paused"

        # --output json on loads run too; a second run --wait attaches to the one going (no 409)
        started = run("loads", "run", str(load_id), "-o", "json")
        assert started.returncode == 0, started.stderr
        assert json.loads(started.stdout)["id"] == load_id
        attached = run("loads", "run", str(load_id), "--wait", "--poll-interval", "0.1", "--timeout", "60")
        assert attached.returncode == 0, attached.stderr
        assert f"load {load_id} already has a run" in attached.stderr
        last = attached.stdout.strip().splitlines()[-1]
        assert last.startswith(f"load {load_id}: success") and RFC3339_UTC.search(last), last

        # a range on a lifetime table warns it is ignored; a range without data says so
        lifetime = json.loads(run("loads", "create", "--data-table-id", "3", "--destination-connection-id", "1",
                                  "--destination-table", "totals", "-o", "json").stdout)["id"]  # fmt: skip
        whole = run("loads", "run", str(lifetime), "--from", "2026-11-01", "--to", "2026-11-07", "--wait",
                    "--poll-interval", "0.1")  # fmt: skip
        assert whole.returncode == 0, whole.stderr
        assert "lifetime table: the date range 2026-11-01..2026-11-07 is ignored" in whole.stderr
        empty = run("loads", "run", str(load_id), "--from", "2001-01-01", "--to", "2001-01-07", "--wait",
                    "--poll-interval", "0.1")  # fmt: skip
        assert "0 rows: no data in that range (2001-01-01..2001-01-07)" in empty.stdout

        # each retry one line on stderr
        fault = {"method": "GET", "path": "/api/v3/loads*", "status": 503, "times": 2, "retry_after": 0}
        httpx.post(f"{server.url}/_emulator/faults", json=fault).raise_for_status()
        listed = run("loads", "list")
        assert listed.returncode == 0, listed.stderr
        retries = listed.stderr.strip().splitlines()
        assert len(retries) == 2 and all(line.startswith("warning: retrying") for line in retries), listed.stderr
        assert RFC3339_UTC.search(listed.stdout) and "+00:00" not in listed.stdout

        # delete asks; "n" keeps the load, --yes deletes it; then an error in words
        kept = run("loads", "delete", str(lifetime), stdin="n\n")
        assert kept.returncode != 0 and api.loads.get(lifetime).id == lifetime
        assert run("loads", "delete", str(lifetime), "--yes").returncode == 0
        gone = run("loads", "get", str(lifetime))
        assert gone.returncode == 1
        assert gone.stderr.strip().splitlines() == [
            f"error: load {lifetime} does not exist in the token's workspace (HTTP 404)"
        ]
