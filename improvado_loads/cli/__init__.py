"""The ``improvado-loads`` command line: loads, the catalog, export to Pulumi, the emulator.

Every API command takes ``--api-url``, ``--token`` and ``--workspace-id``, or
reads ``IMPROVADO_API_URL``, ``IMPROVADO_API_TOKEN``, ``IMPROVADO_USERNAME``,
``IMPROVADO_PASSWORD`` and ``IMPROVADO_WORKSPACE_ID``. A failure prints one
``error: ...`` line on stderr and exits 2 (bad input) or 1 (anything else).
"""

from __future__ import annotations

from typing import Annotated

import typer

from improvado_loads import __version__
from improvado_loads.cli import catalog, deploy, emulator, export, loads
from improvado_loads.cli.common import CLIGroup, configure_logging, new_app

__all__ = ["app", "main"]

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

app = new_app(
    HELP,
    name="improvado-loads",
    cls=CLIGroup,
)
app.add_typer(loads.app, name="loads")
app.add_typer(catalog.data_tables_app, name="data-tables")
app.add_typer(catalog.destinations_app, name="destinations")
app.command("export")(export.export_command)
app.add_typer(deploy.app, name="deploy")
app.add_typer(emulator.app, name="emulator")


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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show the client's log (retries).")] = False,
) -> None:
    """Set up what every command shares (the help text is ``HELP``)."""
    configure_logging(verbose)


def main() -> None:
    """Run the command line (the ``improvado-loads`` console script); exits with its status."""
    app(prog_name="improvado-loads")
