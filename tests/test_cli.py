"""The ``improvado-loads`` command line against the emulator over loopback.

Most commands run in-process through Typer's ``CliRunner`` on the real app; a
few run as real subprocesses of the installed ``improvado-loads`` script. Each
test checks the exit status and the output, and that no credential is printed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from improvado_loads import ImprovadoClient, RetryPolicy, contract
from improvado_loads.cli import app
from improvado_loads.cli.common import describe
from improvado_loads.emulator import EmulatorServer, EmulatorSettings
from improvado_loads.errors import ConflictError, NotFoundError, RateLimitedError, ServerError
from improvado_loads.models import Load
from tests.conftest import CREDENTIAL_VARS, cli_env

SCRIPT = Path(sys.executable).parent / "improvado-loads"
FAST = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.05)

#: Loads that the tests create on connection 1 (sqlite, active): (data table, destination table, run policy).
LOADS = [
    (1, "google_ads_daily", "daily"),
    (2, "facebook_by_account", "after_extraction"),
    (3, "campaign_lifetime", "weekly"),
    (1, "google_ads_copy", "manual"),
    (2, "facebook_copy", "hourly"),
]


# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    """A fresh emulator: the ``emulator`` fixture of ``tests/conftest.py``."""
    return emulator


@pytest.fixture
def cli_token(server: EmulatorServer) -> str:
    """The emulator's static token (workspace 1): any leak of it into the output is searched for."""
    token = server.settings.token
    assert token
    return token


@pytest.fixture
def api(server: EmulatorServer, cli_token: str) -> Iterator[ImprovadoClient]:
    """A client for setting up what the commands then read."""
    with ImprovadoClient(base_url=server.url, token=cli_token, retry=FAST) as client:
        yield client


@pytest.fixture
def env(server: EmulatorServer, cli_token: str) -> dict[str, str | None]:
    """The environment of a command: the emulator's URL and token, nothing else of ours; a wide terminal."""
    return cli_env(server.url, cli_token)


@pytest.fixture
def created(api: ImprovadoClient) -> list[Load]:
    """The five loads of ``LOADS``, in id order."""
    return [
        api.loads.create(data_table_id=table, destination_connection_id=1, destination_table=name, run_policy=policy)
        for table, name, policy in LOADS
    ]


def cli(args: list[str], env: Mapping[str, str | None]) -> Result:
    """Run the app in-process, as the console script would."""
    return CliRunner().invoke(app, args, env=env, prog_name="improvado-loads")


def script(args: list[str], env: Mapping[str, str | None], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed ``improvado-loads`` script in a subprocess."""
    full = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    full.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run([str(SCRIPT), *args], env=full, capture_output=True, text=True, timeout=timeout)


def assert_one_error_line(stderr: str, *expected: str) -> str:
    """stderr is exactly one ``error:`` line (no traceback) containing each expected text."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def break_connection(server: EmulatorServer, connection_id: int = 1) -> None:
    """Point a destination connection at a PostgreSQL that is not there: its runs fail."""
    response = httpx.put(
        f"{server.url}/_emulator/connections/{connection_id}", json={"dsn": "postgresql://x@127.0.0.1:9/nope"}
    )
    response.raise_for_status()


# --- help --------------------------------------------------------------------

COMMANDS = [
    [],
    ["loads"],
    ["loads", "list"],
    ["loads", "get"],
    ["loads", "run"],
    ["loads", "create"],
    ["loads", "update"],
    ["loads", "pause"],
    ["loads", "unpause"],
    ["loads", "delete"],
    ["data-tables"],
    ["data-tables", "list"],
    ["destinations"],
    ["destinations", "list"],
    ["export"],
    ["deploy"],
    ["deploy", "preview"],
    ["deploy", "up"],
    ["deploy", "refresh"],
    ["deploy", "destroy"],
    ["emulator"],
    ["emulator", "serve"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help_of_every_command_shows_examples(command: list[str]) -> None:
    token = f"help-tok-{secrets.token_hex(8)}"
    result = cli([*command, "--help"], {"IMPROVADO_API_TOKEN": token, "IMPROVADO_PASSWORD": token + "-pw"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert f"improvado-loads {' '.join(command)}".strip() in result.stdout
    assert token not in result.output


UNREADABLE_PLACEHOLDER = re.compile(r"<(list\[|float|str>|path>|int range>|int>)")


@pytest.mark.parametrize("command", [c for c in COMMANDS if len(c) == 2], ids=" ".join)
def test_help_placeholders_read_like_words(command: list[str]) -> None:
    result = cli([*command, "--help"], {})
    assert result.exit_code == 0, result.output
    options = [line for line in result.stdout.splitlines() if line.lstrip().startswith("-")]
    assert options
    for line in options:
        assert not UNREADABLE_PLACEHOLDER.search(line), line


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    """Each command's ``--help`` through the console script, found by walking the "Commands:" lists."""
    helps: dict[str, str] = {}
    pending: list[list[str]] = [[]]
    while pending and len(helps) < 100:  # bounded: the tree has about 30 commands
        command = pending.pop()
        result = script([*command, "--help"], {"COLUMNS": "200"})
        assert result.returncode == 0, (command, result.stderr)
        helps[" ".join(command)] = result.stdout
        listing = result.stdout.partition("\nCommands:\n")[2]
        pending += [[*command, found.group(1)] for found in re.finditer(r"^  ([a-z][a-z-]*) ", listing, re.M)]
    return helps


@pytest.mark.xdist_group("cli-helps")  # one worker walks the help tree once for both
def test_every_help_placeholder_reads_like_words(helps: dict[str, str]) -> None:
    """No ``<int>``, ``<int range>``, ``<list[str]>``… beside any argument or option of any command."""
    assert {"loads get", "destinations delete", "deploy recover", "export", "emulator serve"} <= set(helps)
    for command, text in helps.items():
        for line in text.splitlines():
            assert not UNREADABLE_PLACEHOLDER.search(line), (command, line)
    arguments = helps["loads get"].partition("Arguments:\n")[2].splitlines()[0]
    assert arguments.split()[:3] == ["LOAD_ID", "The", "load's"], arguments


@pytest.mark.xdist_group("cli-helps")  # one worker walks the help tree once for both
def test_every_command_has_examples_and_output_json(helps: dict[str, str]) -> None:
    """As the README says: every command's help has examples; every command but deploy's (pulumi's
    own ``--json``; ``recover`` none) and ``emulator serve`` (a server) takes ``--output json``."""
    commands = [name for name, text in helps.items() if "\nCommands:\n" not in text]
    assert len(commands) >= 23, commands  # loads 8, data-tables 1, destinations 7, export, deploy 5, emulator
    for name in commands:
        assert "Examples:" in helps[name] and f"improvado-loads {name}" in helps[name], name
        if name.startswith("deploy "):
            assert ("--json" in helps[name]) == (name != "deploy recover"), name
        elif name != "emulator serve":
            assert "--output" in helps[name] and "json" in helps[name], name


def test_no_command_shows_the_commands() -> None:
    result = cli([], {})
    assert result.exit_code == 2
    for name in ("loads", "data-tables", "destinations", "export", "emulator"):
        assert name in result.output


def test_version() -> None:
    result = cli(["--version"], {})
    assert result.exit_code == 0
    assert result.stdout.startswith("improvado-loads ")


# --- loads list / get --------------------------------------------------------


def test_loads_list_table_shows_every_load_of_every_page(env: dict[str, str | None], created: list[Load]) -> None:
    result = cli(["loads", "list", "--page-size", "2"], env)
    assert result.exit_code == 0, result.output
    for load, (_table, name, policy) in zip(created, LOADS, strict=True):
        row = next(line for line in result.stdout.splitlines() if f" {name}" in line)
        assert str(load.id) in row and policy in row and "new" in row
    assert "Google Ads campaign performance" in result.stdout
    assert "Facebook Ads by account" in result.stdout
    assert "Campaign lifetime totals" in result.stdout
    assert "5 loads" in result.stdout
    assert result.stderr == ""


def test_loads_list_json_is_the_api_objects(
    env: dict[str, str | None], created: list[Load], api: ImprovadoClient
) -> None:
    result = cli(["loads", "list", "--output", "json", "--page-size", "2"], env)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [item["id"] for item in listed] == [load.id for load in created]
    assert listed == [load.model_dump(mode="json") for load in api.loads.list()]


def test_loads_list_filters(env: dict[str, str | None], created: list[Load]) -> None:
    result = cli(["loads", "list", "--data-table-id", "1", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    assert {item["destination_table"] for item in json.loads(result.stdout)} == {"google_ads_daily", "google_ads_copy"}

    result = cli(["loads", "list", "--destination-connection-id", "2", "--destination-name", "sqlite"], env)
    assert result.exit_code == 0, result.output
    assert "No loads." in result.stdout


def test_loads_get_table_and_json(env: dict[str, str | None], created: list[Load]) -> None:
    load = created[2]
    result = cli(["loads", "get", str(load.id)], env)
    assert result.exit_code == 0, result.output
    assert "campaign_lifetime" in result.stdout
    assert "Campaign lifetime totals" in result.stdout
    assert "weekly" in result.stdout

    result = cli(["loads", "get", str(load.id), "--output", "json"], env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == load.model_dump(mode="json")


def test_unknown_load_is_one_line_in_words(env: dict[str, str | None], cli_token: str) -> None:
    for command in (["loads", "get", "999"], ["loads", "run", "999"], ["loads", "run", "999", "--wait"]):
        result = cli(command, {**env, "IMPROVADO_WORKSPACE_ID": "1"})
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        line = assert_one_error_line(result.stderr, "load 999 does not exist in workspace 1")
        assert "/api/v3" not in line and "PUT" not in line and "GET" not in line
        assert cli_token not in result.output
    result = cli(["loads", "get", "999"], env)
    assert_one_error_line(result.stderr, "load 999 does not exist in the token's workspace")


# --- loads run ---------------------------------------------------------------


def test_run_wait_success(env: dict[str, str | None], created: list[Load], api: ImprovadoClient) -> None:
    load = created[0]
    result = cli(["loads", "run", str(load.id), "--wait", "--poll-interval", "0.05", "--timeout", "30"], env)
    assert result.exit_code == 0, result.output
    assert f"load {load.id}: success" in result.stdout
    assert "google_ads_daily" in result.stdout
    assert "error" not in result.stderr
    assert api.loads.get(load.id).status == "success"


def test_run_with_a_date_range(env: dict[str, str | None], created: list[Load]) -> None:
    load = created[0]
    args = ["loads", "run", str(load.id), "--from", "2026-01-01", "--to", "2026-01-31", "--wait"]
    result = cli([*args, "--poll-interval", "0.05"], env)
    assert result.exit_code == 0, result.output
    assert "2026-01-01..2026-01-31" in result.stderr
    assert f"load {load.id}: success" in result.stdout


def test_run_without_wait_returns_at_once(
    env: dict[str, str | None], created: list[Load], api: ImprovadoClient
) -> None:
    load = created[1]
    result = cli(["loads", "run", str(load.id)], env)
    assert result.exit_code == 0, result.output
    assert "run started" in result.stdout
    assert f"improvado-loads loads get {load.id}" in result.stdout
    api.loads.wait(load.id, timeout=30, poll_interval=0.05)


def test_run_wait_failure_shows_the_error_text(
    server: EmulatorServer, env: dict[str, str | None], created: list[Load], api: ImprovadoClient, cli_token: str
) -> None:
    load = created[0]
    break_connection(server)
    result = cli(["loads", "run", str(load.id), "--wait", "--poll-interval", "0.05", "--timeout", "30"], env)
    assert result.exit_code == 1, result.output
    failed = api.loads.get(load.id)
    assert failed.status == "failed" and failed.error_text
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    assert " ".join(failed.error_text.split()) in error_lines[0]
    assert f"load {load.id}" in error_lines[0]
    assert "Traceback" not in result.output
    assert cli_token not in result.output


def test_run_wait_timeout_is_one_line(tmp_path: Path) -> None:
    cli_token = f"slow-tok-{secrets.token_hex(12)}"
    settings = EmulatorSettings(data_dir=tmp_path / "slow", port=0, token=cli_token, run_seconds=60, tick_seconds=0.2)
    with EmulatorServer(settings) as slow, ImprovadoClient(base_url=slow.url, token=cli_token) as client:
        load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="slow_table")
        env = {**dict.fromkeys(CREDENTIAL_VARS), "IMPROVADO_API_URL": slow.url, "IMPROVADO_API_TOKEN": cli_token}
        result = cli(["loads", "run", str(load.id), "--wait", "--timeout", "0.3", "--poll-interval", "0.05"], env)
    assert result.exit_code == 1, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    assert "timed out after 0.3s" in error_lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["--from", "2026-01-01"], "--from needs --to"),
        (["--to", "2026-01-31"], "--to needs --from"),
        (["--from", "2026-13-01", "--to", "2026-12-31"], "--from must be a date as YYYY-MM-DD"),
        (["--from", "01/02/2026", "--to", "2026-02-03"], "--from must be a date as YYYY-MM-DD"),
        (["--from", "2026-01-01", "--to", "tomorrow"], "--to must be a date as YYYY-MM-DD"),
        (["--from", "2026-02-01", "--to", "2026-01-01"], "is after --to"),
    ],
)
def test_run_with_bad_dates_is_a_usage_error(
    env: dict[str, str | None], created: list[Load], api: ImprovadoClient, dates: list[str], expected: str
) -> None:
    result = cli(["loads", "run", str(created[0].id), *dates, "--wait"], env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert_one_error_line(result.stderr, expected)
    assert api.loads.get(created[0].id).status == "new"


def test_bad_argument_is_one_line(env: dict[str, str | None]) -> None:
    result = cli(["loads", "get", "twelve"], env)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "LOAD_ID", "improvado-loads loads get --help")

    result = cli(["loads", "list", "--output", "xml"], env)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "--output")


# --- loads write commands ----------------------------------------------------


def test_create_update_pause_unpause_delete(env: dict[str, str | None], api: ImprovadoClient) -> None:
    create = ["loads", "create", "--data-table-id", "1", "--destination-connection-id", "1"]
    result = cli([*create, "--destination-table", "cli_made", "--run-policy", "daily", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    load_id = made["id"]
    assert api.loads.get(load_id).model_dump(mode="json") == made
    assert made["run_policy"] == "daily" and made["destination_table"] == "cli_made"

    result = cli([*create, "--destination-table", "cli_made_too"], env)
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout and "cli_made_too" in result.stdout

    result = cli(["loads", "update", str(load_id), "--run-policy", "weekly"], env)
    assert result.exit_code == 0, result.output
    assert f"load {load_id}: run policy weekly" in result.stdout
    assert api.loads.get(load_id).run_policy == "weekly"

    result = cli(["loads", "pause", str(load_id), "-o", "json"], env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "paused" == api.loads.get(load_id).status

    result = cli(["loads", "unpause", str(load_id)], env)
    assert result.exit_code == 0, result.output
    assert f"load {load_id} unpaused" in result.stdout
    assert api.loads.get(load_id).status != "paused"

    result = cli(["loads", "delete", str(load_id), "--yes", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": load_id, "deleted": True}
    assert load_id not in [load.id for load in api.loads.list()]


def test_delete_asks_first(env: dict[str, str | None], created: list[Load], api: ImprovadoClient) -> None:
    load = created[0]
    declined = CliRunner().invoke(app, ["loads", "delete", str(load.id)], env=env, input="n\n")
    assert declined.exit_code == 1, declined.output
    assert f"Delete load {load.id}" in declined.stderr and "google_ads_daily" in declined.stderr
    assert "not deleted" in declined.stderr
    assert api.loads.get(load.id).id == load.id

    unanswered = CliRunner().invoke(app, ["loads", "delete", str(load.id)], env=env, input="")
    assert unanswered.exit_code == 2, unanswered.output
    assert "--yes" in unanswered.stderr.splitlines()[-1]
    assert api.loads.get(load.id).id == load.id

    confirmed = CliRunner().invoke(app, ["loads", "delete", str(load.id)], env=env, input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert f"load {load.id} deleted" in confirmed.stdout
    assert load.id not in [item.id for item in api.loads.list()]


def test_write_commands_refuse_in_words(env: dict[str, str | None], created: list[Load]) -> None:
    create = ["loads", "create", "--destination-connection-id", "1"]
    bad_table = cli([*create, "--data-table-id", "1", "--destination-table", "no spaces"], env)
    assert bad_table.exit_code == 2, bad_table.output
    assert_one_error_line(bad_table.stderr, "destination_table")

    twin = cli([*create, "--data-table-id", "1", "--destination-table", "google_ads_daily"], env)
    assert twin.exit_code == 1, twin.output
    line = assert_one_error_line(twin.stderr, f"load {created[0].id}", "already")
    assert "POST" not in line and "/api/v3" not in line

    no_table = cli([*create, "--data-table-id", "99", "--destination-table", "t99"], env)
    assert no_table.exit_code == 1, no_table.output
    line = assert_one_error_line(no_table.stderr, "data_table_id", "Data table 99 does not exist")
    assert "/api/v3" not in line

    bad_policy = cli(["loads", "update", str(created[0].id), "--run-policy", "sometimes"], env)
    assert bad_policy.exit_code == 2
    assert_one_error_line(bad_policy.stderr, "--run-policy")

    for command in (["update", "99", "--run-policy", "daily"], ["pause", "99"], ["unpause", "99"],
                    ["delete", "99", "--yes"]):
        result = cli(["loads", *command], {**env, "IMPROVADO_WORKSPACE_ID": "1"})
        assert result.exit_code == 1, result.output
        assert_one_error_line(result.stderr, "load 99 does not exist in workspace 1")


def test_output_json_on_every_loads_command(env: dict[str, str | None], created: list[Load]) -> None:
    load_id = str(created[0].id)
    commands = [
        ["list"],
        ["get", load_id],
        ["update", load_id, "--run-policy", "hourly"],
        ["pause", load_id],
        ["unpause", load_id],
        ["run", load_id],
        ["run", load_id, "--wait", "--poll-interval", "0.05"],
        ["delete", str(created[1].id), "--yes"],
    ]
    for command in commands:
        result = cli(["loads", *command, "--output", "json"], env)
        assert result.exit_code == 0, (command, result.output)
        assert isinstance(json.loads(result.stdout), (dict, list)), command
    waited = cli(["loads", "run", load_id, "--wait", "--poll-interval", "0.05", "-o", "json"], env)
    assert json.loads(waited.stdout)["status"] == "success"


def test_run_wait_attaches_to_the_run_already_going(tmp_path: Path) -> None:
    cli_token = f"attach-tok-{secrets.token_hex(8)}"
    settings = EmulatorSettings(data_dir=tmp_path / "slow", port=0, token=cli_token, run_seconds=1.5, tick_seconds=0.2)
    with EmulatorServer(settings) as slow, ImprovadoClient(base_url=slow.url, token=cli_token) as client:
        load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="attached")
        client.loads.run(load.id)
        env = {**dict.fromkeys(CREDENTIAL_VARS), "IMPROVADO_API_URL": slow.url, "IMPROVADO_API_TOKEN": cli_token}
        result = cli(["loads", "run", str(load.id), "--wait", "--poll-interval", "0.1", "--timeout", "60"], env)
        assert result.exit_code == 0, result.output
        assert f"load {load.id} already has a run" in result.stderr
        assert "waiting for that run" in result.stderr
        assert f"load {load.id}: success" in result.stdout

        client.loads.run(load.id)
        no_wait = cli(["loads", "run", str(load.id)], env)
        assert no_wait.exit_code == 1
        assert_one_error_line(no_wait.stderr, f"load {load.id} is already queued or running", "--wait")
        client.loads.wait(load.id, timeout=60, poll_interval=0.1)


def test_retries_show_one_line_each(server: EmulatorServer, env: dict[str, str | None], created: list[Load]) -> None:
    fault = {"method": "GET", "path": "/api/v3/loads*", "status": 503, "times": 2, "retry_after": 0}
    httpx.post(f"{server.url}/_emulator/faults", json=fault).raise_for_status()
    result = cli(["loads", "list", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert all(line.startswith("warning: retrying") and "503" in line for line in lines)
    assert len(json.loads(result.stdout)) == len(created)


RFC3339_UTC = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b")


def test_timestamps_are_rfc3339_utc(env: dict[str, str | None], created: list[Load]) -> None:
    load_id = str(created[0].id)
    result = cli(["loads", "run", load_id, "--wait", "--poll-interval", "0.05"], env)
    assert result.exit_code == 0, result.output
    assert RFC3339_UTC.search(result.stdout.splitlines()[-1]), result.stdout
    shown = [cli(["loads", "get", load_id], env).stdout, cli(["loads", "list"], env).stdout]
    for output in shown:
        last_update = next(line for line in output.splitlines() if load_id in line or "Last update" in line)
        assert RFC3339_UTC.search(output), output
        assert " UTC" not in output and "+00:00" not in output, last_update
    as_json = json.loads(cli(["loads", "get", load_id, "-o", "json"], env).stdout)
    assert RFC3339_UTC.fullmatch(as_json["last_update"]), as_json["last_update"]


@pytest.mark.parametrize(("index", "reason"), [(2, "is a lifetime table"), (1, "is loaded by accounts")])
def test_a_range_on_a_whole_table_warns_it_is_ignored(
    env: dict[str, str | None], created: list[Load], index: int, reason: str
) -> None:
    load = created[index]
    args = ["loads", "run", str(load.id), "--from", "2026-01-01", "--to", "2026-01-31", "--wait"]
    result = cli([*args, "--poll-interval", "0.05"], env)
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning:"))
    assert reason in warning and "2026-01-01..2026-01-31 is ignored" in warning
    assert "0 rows:" not in result.stdout


def test_a_range_without_data_says_so(env: dict[str, str | None], created: list[Load]) -> None:
    args = ["loads", "run", str(created[0].id), "--from", "2001-01-01", "--to", "2001-01-31", "--wait"]
    result = cli([*args, "--poll-interval", "0.05"], env)
    assert result.exit_code == 0, result.output
    assert "0 rows: no data in that range (2001-01-01..2001-01-31)" in result.stdout
    assert "warning" not in result.stderr


def test_errors_of_the_client_are_said_in_words() -> None:
    def not_found(path: str) -> str:
        return describe(NotFoundError("raw", method="GET", path=path, status_code=404))

    assert not_found(contract.load_action_path(99, "run")).startswith("load 99 does not exist in ")
    assert not_found(f"{contract.DATA_TABLES_PATH}/7").startswith("data table 7 does not exist in ")
    recheck = contract.destination_connection_recheck_path("postgresql", 5)
    assert not_found(recheck).startswith("destination connection 5 (postgresql) does not exist in ")
    running = ConflictError("raw", method="PUT", path=contract.load_action_path(3, "run"), status_code=409)
    assert "load 3 is already queued or running" in describe(running)
    twin = ConflictError("raw", existing_load_id=4, method="POST", path=contract.LOADS_PATH, status_code=409)
    assert "load 4" in describe(twin) and "already exists" in describe(twin)
    limited = RateLimitedError("raw", retry_after=30, method="GET", path=contract.LOADS_PATH, status_code=429)
    assert "rate limiting" in describe(limited) and "30s" in describe(limited)
    failed = ServerError("raw", method="GET", path=contract.LOADS_PATH, status_code=503, body={"detail": "Down."})
    assert "still failed after every retry: Down" in describe(failed)
    for error in (running, twin, limited, failed):
        assert "raw" not in describe(error) and "/api/v3" not in describe(error)


# --- credentials and connectivity -------------------------------------------


def test_wrong_token_is_one_line_and_not_echoed(env: dict[str, str | None], cli_token: str) -> None:
    wrong = f"wrong-{secrets.token_hex(16)}"
    result = cli(["loads", "list", "--token", wrong], env)
    assert result.exit_code == 1, result.output
    assert_one_error_line(result.stderr, "401")
    assert wrong not in result.output and cli_token not in result.output

    result = cli(["data-tables", "list"], {**env, "IMPROVADO_API_TOKEN": wrong})
    assert result.exit_code == 1, result.output
    assert_one_error_line(result.stderr, "401")
    assert wrong not in result.output


def test_wrong_token_in_a_subprocess(env: dict[str, str | None]) -> None:
    wrong = f"wrong-{secrets.token_hex(16)}"
    done = script(["loads", "list", "--output", "json"], {**env, "IMPROVADO_API_TOKEN": wrong})
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert_one_error_line(done.stderr, "401")
    assert wrong not in done.stdout + done.stderr


def test_password_credentials_work_and_a_wrong_password_is_not_echoed(server: EmulatorServer) -> None:
    base = {**dict.fromkeys(CREDENTIAL_VARS), "IMPROVADO_API_URL": server.url, "COLUMNS": "200"}
    username, password = server.settings.username, server.settings.password
    good = {**base, "IMPROVADO_USERNAME": username, "IMPROVADO_PASSWORD": password}
    result = cli(["data-tables", "list", "--workspace-id", "2", "-o", "json"], good)
    assert result.exit_code == 0, result.output
    assert [item["id"] for item in json.loads(result.stdout)] == [4, 5, 6]

    wrong = f"pw-{secrets.token_hex(12)}"
    result = cli(["data-tables", "list", "--workspace-id", "2"], {**good, "IMPROVADO_PASSWORD": wrong})
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "401")
    assert wrong not in result.output
    assert password not in result.output


def test_missing_credentials_is_a_usage_error(server: EmulatorServer) -> None:
    env = {**dict.fromkeys(CREDENTIAL_VARS), "IMPROVADO_API_URL": server.url}
    result = cli(["loads", "list"], env)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "no Improvado credentials", "IMPROVADO_API_TOKEN")


def test_bad_api_url_and_workspace_id_are_usage_errors(env: dict[str, str | None]) -> None:
    result = cli(["loads", "list", "--api-url", "127.0.0.1:8765"], env)
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "http://")

    result = cli(["loads", "list"], {**env, "IMPROVADO_WORKSPACE_ID": "abc"})
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "workspace")


def test_unreachable_api_is_one_line(env: dict[str, str | None], cli_token: str) -> None:
    done = script(["loads", "list", "--api-url", "http://127.0.0.1:9"], env)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    # Nothing listens there: said at once, without retries (retries of 5xx show one warning line each,
    # test_retries_show_one_line_each).
    [line] = done.stderr.splitlines()
    assert_one_error_line(line, "cannot connect to http://127.0.0.1:9: connection refused")
    assert cli_token not in done.stdout + done.stderr


# --- catalog -----------------------------------------------------------------


def test_data_tables_list(env: dict[str, str | None]) -> None:
    result = cli(["data-tables", "list"], env)
    assert result.exit_code == 0, result.output
    for title in ("Google Ads campaign performance", "Facebook Ads by account", "Campaign lifetime totals"):
        assert title in result.stdout

    result = cli(["data-tables", "list", "--output", "json"], env)
    assert result.exit_code == 0, result.output
    tables = json.loads(result.stdout)
    assert [table["id"] for table in tables] == [1, 2, 3]
    assert tables[1]["by_accounts"] is True


def test_destinations_list(env: dict[str, str | None]) -> None:
    result = cli(["destinations", "list", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    connections = {item["id"]: item for item in json.loads(result.stdout)}
    assert set(connections) == {1, 2, 3}
    assert connections[1]["destination_name"] == "sqlite" and connections[1]["status"] == "active"
    assert connections[3]["status"] == "error"

    result = cli(["destinations", "list", "--destination-name", "postgresql", "-o", "json"], env)
    assert result.exit_code == 0, result.output
    assert [item["id"] for item in json.loads(result.stdout)] == [2, 3]

    result = cli(["destinations", "list"], env)
    assert result.exit_code == 0, result.output
    assert "sqlite" in result.stdout and "postgresql" in result.stdout and "error" in result.stdout


# --- export: tests/test_export.py ------------------------------------------


# --- subprocesses of the installed script -------------------------------------


def test_script_lists_loads_as_json(env: dict[str, str | None], created: list[Load]) -> None:
    done = script(["loads", "list", "--output", "json"], env)
    assert done.returncode == 0, done.stderr
    assert [item["id"] for item in json.loads(done.stdout)] == [load.id for load in created]


def test_script_run_wait_failure(
    server: EmulatorServer, env: dict[str, str | None], created: list[Load], cli_token: str
) -> None:
    break_connection(server)
    done = script(["loads", "run", str(created[0].id), "--wait", "--poll-interval", "0.05"], env)
    assert done.returncode == 1, done.stderr
    assert "the run failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli_token not in done.stdout + done.stderr


def test_module_entry_point_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "improvado_loads.cli", "export", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Examples:" in done.stdout and "--map-destination" in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_emulator_serve(tmp_path: Path) -> None:
    token = f"serve-tok-{secrets.token_hex(12)}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["emulator", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS} | {"IMPROVADO_EMULATOR_TOKEN": token}
    process = subprocess.Popen(
        [str(SCRIPT), *args, "--run-seconds", "0.05"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if httpx.get(f"{url}/api/v3/data-tables", headers={"Authorization": f"Bearer {token}"}).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        result = cli(["data-tables", "list", "-o", "json"], {"IMPROVADO_API_URL": url, "IMPROVADO_API_TOKEN": token})
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == 3
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    assert url in stdout + stderr
    assert "IMPROVADO_API_URL" in stdout + stderr
    assert token not in stdout + stderr


def test_emulator_serve_needs_username_and_password_together(tmp_path: Path) -> None:
    result = cli(["emulator", "serve", "--username", "ana", "--data-dir", str(tmp_path)], {})
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "--username and --password-file (or IMPROVADO_EMULATOR_PASSWORD) go together")


def test_deploy_bad_inputs_are_one_line(tmp_path: Path) -> None:
    no_program = cli(["deploy", "preview", "--stack", "dev", "--cwd", str(tmp_path)], {})
    assert no_program.exit_code == 2
    assert_one_error_line(no_program.stderr, "no Pulumi.yaml in")

    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    bad_pair = cli(["deploy", "up", "--stack", "dev", "--cwd", str(tmp_path), "-c", "novalue"], {})
    assert bad_pair.exit_code == 2
    assert_one_error_line(bad_pair.stderr, "--config takes KEY=VALUE")

    missing_env = ["deploy", "up", "--stack", "dev", "--cwd", str(tmp_path),
                   "--secret-from-env", "improvado:token=SURELY_NOT_SET_ANYWHERE"]
    result = cli(missing_env, {"SURELY_NOT_SET_ANYWHERE": None})
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "SURELY_NOT_SET_ANYWHERE is not set")

    no_engine = cli(["deploy", "preview", "--stack", "dev", "--cwd", str(tmp_path)], {"PATH": "/nonexistent"})
    assert no_engine.exit_code == 1
    assert_one_error_line(no_engine.stderr, "the pulumi CLI is not on PATH")


def test_deploy_engine_failure_is_one_line(tmp_path: Path, pulumi_on_path: None) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    gone = {"PULUMI_BACKEND_URL": (tmp_path / "no-such-dir").as_uri(), "PULUMI_CONFIG_PASSPHRASE": "x"}
    no_backend = cli(["deploy", "preview", "--stack", "dev", "--cwd", str(tmp_path)], gone)
    assert no_backend.exit_code == 1
    assert_one_error_line(no_backend.stderr, "pulumi could not open stack 'dev'", "unable to open state directory")
