"""Ids on the command line are checked before any request: one ``error:`` line naming the argument."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from improvado_loads.cli import app
from tests.conftest import cli_env

#: Nothing listens here: a command that sent a request would say it cannot connect.
NOWHERE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["loads", "get", "--", "-1"], "LOAD_ID"),
        (["loads", "get", "0"], "LOAD_ID"),
        (["loads", "update", "0", "--run-policy", "daily"], "LOAD_ID"),
        (["loads", "run", "--", "-5"], "LOAD_ID"),
        (["loads", "pause", "0"], "LOAD_ID"),
        (["loads", "delete", "0", "--yes"], "LOAD_ID"),
        (["destinations", "get", "0"], "ID"),
    ],
)
def test_an_id_below_1_is_refused_before_any_request(args: list[str], name: str) -> None:
    result = CliRunner().invoke(app, args, env=cli_env(NOWHERE, "ids-token"), prog_name="improvado-loads")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert f"'{name}'" in lines[0] and "greater than or equal to 1" in lines[0], lines[0]
    assert "connect" not in result.output and "Traceback" not in result.output
