"""Command groups build only the command that runs, and read exactly as Typer's own groups.

:class:`~improvado_loads.cli.common.CommandGroup` leaves a group's commands
unbuilt until one is used (``loads list`` builds ``list``, not the other seven).
Its help, command list, each command's help and Typer's "did you mean" must be
what the eagerly built group of the same app gives.
"""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from improvado_loads.cli import app
from improvado_loads.cli.catalog import data_tables_app
from improvado_loads.cli.common import CommandGroup, readable_placeholders
from improvado_loads.cli.destinations import destinations_app
from improvado_loads.cli.loads import app as loads_app

APPS = {"loads": loads_app, "destinations": destinations_app, "data-tables": data_tables_app}


def _help(command: Any, path: list[str]) -> str:
    with command.make_context(" ".join(path), [], resilient_parsing=True) as ctx:
        return str(command.get_help(ctx))


@pytest.mark.parametrize("name", sorted(APPS))
def test_a_group_builds_a_command_only_when_it_is_used(name: str) -> None:
    lazy = CommandGroup.of(APPS[name])
    eager = typer.main.get_group(APPS[name])
    assert lazy.commands == {}
    first = eager.list_commands(None)[0]
    assert lazy.get_command(None, first) is not None
    assert list(lazy.commands) == [first]
    assert lazy.list_commands(None) == eager.list_commands(None)


@pytest.mark.parametrize("name", sorted(APPS))
def test_a_lazy_group_reads_as_the_eager_one(name: str) -> None:
    lazy = CommandGroup.of(APPS[name])
    eager = typer.main.get_group(APPS[name])
    readable_placeholders(lazy)
    readable_placeholders(eager)
    path = ["improvado-loads", name]
    assert _help(lazy, path) == _help(eager, path)
    for command in eager.list_commands(None):
        built = lazy.get_command(None, command)
        assert _help(built, [*path, command]) == _help(eager.get_command(None, command), [*path, command])
    assert lazy.pending == {}


def test_loads_list_builds_no_other_command(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = CommandGroup._build

    def recording(self: CommandGroup, name: str) -> None:
        built.append(name)
        real(self, name)

    monkeypatch.setattr(CommandGroup, "_build", recording)
    done = CliRunner().invoke(app, ["loads", "list", "--help"], prog_name="improvado-loads")
    assert done.exit_code == 0, done.output
    assert built == ["list"]


def test_an_unknown_command_still_gets_typer_suggestion() -> None:
    done = CliRunner().invoke(app, ["loads", "lsit"], prog_name="improvado-loads")
    assert done.exit_code == 2
    assert "No such command 'lsit'. Did you mean 'list'?" in done.output
