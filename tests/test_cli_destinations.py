"""``improvado-loads destinations …`` against the emulator and the test PostgreSQL.

In-process through Typer's runner on the real app, and once through the
installed console script. The password is never an argument, and never printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from improvado_loads import ImprovadoClient
from improvado_loads.cli import app
from improvado_loads.emulator import EmulatorServer
from tests import conftest
from tests.conftest import EMULATOR_PASSWORD, EMULATOR_TOKEN, EMULATOR_USER

SCRIPT = Path(sys.executable).parent / "improvado-loads"
CREDENTIAL_VARS = (*conftest.CREDENTIAL_VARS, "IMPROVADO_DESTINATION_PASSWORD")


@pytest.fixture
def env(emulator: EmulatorServer) -> dict[str, str | None]:
    return conftest.cli_env(emulator.url, EMULATOR_TOKEN, CREDENTIAL_VARS)


@pytest.fixture
def pg_options(postgres_params: dict[str, Any]) -> list[str]:
    return ["--host", postgres_params["host"], "--port", str(postgres_params["port"]),
            "--database", postgres_params["database"], "--user", postgres_params["user"]]


def cli(args: list[str], env: Mapping[str, str | None], input: str | None = None) -> Result:
    return CliRunner().invoke(app, ["destinations", *args], env=env, input=input, prog_name="improvado-loads")


def one_error_line(stderr: str, *expected: str) -> str:
    # A hidden prompt echoes no newline under the runner: the error line follows it on the same line.
    stderr = stderr.replace("Destination password:", "\n")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_unanswered_prompts_say_what_to_do_and_change_nothing(
    env: dict[str, str | None], pg_options: list[str], api_client: ImprovadoClient
) -> None:
    # Nothing on stdin to answer the hidden password prompt: one error line naming the ways to give it.
    created = cli(["create", "--destination-name", "postgresql", "--title", "Unanswered", *pg_options], env)
    assert created.exit_code == 2
    one_error_line(created.stderr, "no password", "--password-stdin")
    assert api_client.destination_connections.find_by_title("postgresql", "Unanswered") == []
    # Nothing to answer the delete question: not deleted, and --yes named.
    refused = cli(["delete", "1"], env)
    assert refused.exit_code == 2
    one_error_line(refused.stderr.split("[y/N]:")[-1], "was not deleted", "--yes")
    assert api_client.destination_connections.get("sqlite", 1).id == 1


def test_create_from_a_prompted_password_reauthorize_and_recheck(
    env: dict[str, str | None], pg_options: list[str], postgres_params: dict[str, Any]
) -> None:
    password = postgres_params["password"]
    wrong = "wrong-" + password
    created = cli(["create", "--destination-name", "postgresql", "--title", "CLI warehouse", *pg_options,
                   "--schema", "cli_schema", "-o", "json"], env, input=wrong + "\n")
    assert created.exit_code == 1, created.output
    body = json.loads(created.stdout)
    assert body["status"] == "error" and "password authentication failed" in body["status_message"]
    one_error_line(created.stderr, f"destination connection {body['id']} was created but its status is error",
                   "password authentication failed", "reauthorize")
    assert wrong not in created.output and password not in created.output

    fixed = cli(["reauthorize", str(body["id"]), *pg_options, "-o", "json"],
                {**env, "IMPROVADO_DESTINATION_PASSWORD": password})
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["status"] == "active" and password not in fixed.output

    rechecked = cli(["recheck", str(body["id"])], env)
    assert rechecked.exit_code == 0, rechecked.output
    assert "CLI warehouse" in rechecked.stdout and "active" in rechecked.stdout

    again = cli(["create", "--destination-name", "postgresql", "--title", "Piped", *pg_options,
                 "--password-stdin", "-o", "json"], env, input=password + "\n")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["status"] == "active" and password not in again.output


def test_the_password_is_never_an_argument(env: dict[str, str | None], pg_options: list[str]) -> None:
    refused = cli(["create", "--destination-name", "postgresql", "--title", "x", *pg_options,
                   "--password", "hunter2hunter2"], env)
    assert refused.exit_code == 2
    assert "No such option" in refused.output and "hunter2hunter2" not in refused.output


def test_no_password_at_all_is_one_error_line(env: dict[str, str | None], pg_options: list[str]) -> None:
    empty = cli(["create", "--destination-name", "postgresql", "--title", "x", *pg_options, "--password-stdin"],
                env, input="")
    assert empty.exit_code == 2
    one_error_line(empty.stderr, "--password-stdin")


def test_sqlite_create_get_update_list_delete(env: dict[str, str | None], api_client: ImprovadoClient) -> None:
    created = cli(["create", "--destination-name", "sqlite", "--title", "Local copy", "--database", "copy.sqlite3",
                   "-o", "json"], env)
    assert created.exit_code == 0, created.output
    connection_id = json.loads(created.stdout)["id"]
    shown = cli(["get", str(connection_id)], env)
    assert shown.exit_code == 0 and "Local copy" in shown.stdout and "sqlite" in shown.stdout

    renamed = cli(["update", str(connection_id), "--title", "Copy", "--create-load-for-new-tables", "-o", "json"], env)
    assert renamed.exit_code == 0, renamed.output
    assert json.loads(renamed.stdout) == {
        "id": connection_id, "title": "Copy", "destination_name": "sqlite", "status": "active",
        "status_message": None, "create_load_for_new_tables": True}
    nothing = cli(["update", str(connection_id)], env)
    assert nothing.exit_code == 2
    one_error_line(nothing.stderr, "nothing to change")

    listed = cli(["list", "--destination-name", "sqlite", "-o", "json"], env)
    assert [item["id"] for item in json.loads(listed.stdout)] == [1, connection_id]

    load = api_client.loads.create(data_table_id=1, destination_connection_id=connection_id, destination_table="t")
    declined = cli(["delete", str(connection_id)], env, input="n\n")
    assert declined.exit_code == 1
    assert "its 1 load(s) will stop" in declined.stderr
    one_error_line(declined.stderr.split("[y/N]:")[-1], "was not deleted")
    assert api_client.destination_connections.get("sqlite", connection_id).title == "Copy"

    deleted = cli(["delete", str(connection_id)], env, input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert f"Deleted destination connection {connection_id} (Copy); loads that stop: {load.id}." in deleted.stdout
    gone = cli(["get", str(connection_id)], env)
    assert gone.exit_code == 1
    one_error_line(gone.stderr, f"destination connection {connection_id} does not exist in the token's workspace")


def test_errors_in_words(env: dict[str, str | None], emulator: EmulatorServer) -> None:
    escaping = cli(["create", "--destination-name", "sqlite", "--title", "x", "--database", "../up.sqlite3"], env)
    assert escaping.exit_code == 2
    one_error_line(escaping.stderr, "connection_params.database")

    basic = {**env, "IMPROVADO_API_TOKEN": None, "IMPROVADO_USERNAME": EMULATOR_USER,
             "IMPROVADO_PASSWORD": EMULATOR_PASSWORD, "IMPROVADO_WORKSPACE_ID": "1"}
    missing = cli(["delete", "9", "--yes"], basic)
    assert missing.exit_code == 1
    one_error_line(missing.stderr, "destination connection 9 does not exist in workspace 1")
    typed = cli(["recheck", "2", "--destination-name", "sqlite"], basic)
    one_error_line(typed.stderr, "destination connection 2 (sqlite) does not exist in workspace 1")
    assert EMULATOR_PASSWORD not in missing.output + typed.output


def test_through_the_console_script(env: dict[str, str | None], postgres_params: dict[str, Any],
                                    pg_options: list[str]) -> None:
    full = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    full.update({k: v for k, v in env.items() if v is not None})
    done = subprocess.run(
        [str(SCRIPT), "destinations", "create", "--destination-name", "postgresql", "--title", "Script",
         *pg_options, "--password-stdin", "-o", "json"],
        input=postgres_params["password"] + "\n", env=full, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "active"
    assert postgres_params["password"] not in done.stdout + done.stderr
    deleted = subprocess.run([str(SCRIPT), "destinations", "delete", str(json.loads(done.stdout)["id"]), "--yes"],
                             env=full, capture_output=True, text=True, timeout=60)
    assert deleted.returncode == 0, deleted.stderr


@pytest.fixture
def api_client(emulator: EmulatorServer) -> Any:
    with ImprovadoClient(base_url=emulator.url, token=EMULATOR_TOKEN) as client:
        yield client
