"""The root ``improvado-loads`` app: every command group, registered lazily.

Each group's module is imported only when that group runs or shows its own
help, so ``improvado-loads --help`` and ``--version`` import Typer and nothing
else, ``loads list`` imports the client but never Pulumi or the emulator, and
a group whose optional dependency is missing fails with one line naming the
extra to install.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import typer

from improvado_loads import __version__
from improvado_loads.cli.common import CLIGroup, LazyCommand, configure_logging, new_app

__all__ = ["HELP", "app"]

HELP = """Improvado load orders from the command line, and as Pulumi code.

\b
Examples:
  export IMPROVADO_API_URL=http://127.0.0.1:8765 IMPROVADO_API_TOKEN=...
  improvado-loads loads list
  improvado-loads loads run 12 --wait
  improvado-loads export --out infra/loads
  improvado-loads deploy up --stack dev --cwd infra/loads
  improvado-loads emulator serve
"""


class RootGroup(CLIGroup):
    """``improvado-loads``: its command groups, each imported when used."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "loads": LazyCommand(
            "improvado_loads.cli.loads:app", "Create, list, show, change, run, pause and delete loads."
        ),
        "data-tables": LazyCommand(
            "improvado_loads.cli.catalog:data_tables_app",
            "List the data tables of the workspace: the sources of loads.",
        ),
        "destinations": LazyCommand(
            "improvado_loads.cli.destinations:destinations_app",
            "Destination connections (warehouses): list, show, create, change, test, delete.",
        ),
        "export": LazyCommand(
            "improvado_loads.cli.export:export_command",
            "Write a ready Pulumi project for the loads a workspace already has.",
            single=True,
        ),
        "deploy": LazyCommand(
            "improvado_loads.cli.deploy:app", "Run a Pulumi program directory: preview, up, refresh, destroy, recover."
        ),
        "emulator": LazyCommand(
            "improvado_loads.cli.emulator:app",
            "Run a local emulator of the Improvado Loads API, for demos and tests.",
        ),
    }


app = new_app(HELP, name="improvado-loads", cls=RootGroup)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"improvado-loads {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show the client's debug log (retries always show).")
    ] = False,
) -> None:
    """Set up what every command shares (the help text is ``HELP``)."""
    configure_logging(verbose)
