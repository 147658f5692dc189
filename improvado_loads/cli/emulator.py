"""``improvado-loads emulator serve``: the local emulator of the Improvado Loads API.

The emulator's dependencies are an optional extra, so it is imported only when
the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from improvado_loads.cli.common import CommandFailed, UsageProblem, handle_errors, new_app

app = new_app(
    """Run a local emulator of the Improvado Loads API, for demos and tests.

\b
Examples:
  improvado-loads emulator serve
  improvado-loads emulator serve --port 9000 --data-dir /tmp/improvado
"""
)

INSTALL_HINT = "pip install 'improvado-loads[emulator]'"


@app.command("serve")
@handle_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8765,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the emulator keeps its state and SQLite destinations.")
    ] = Path(".emulator-data"),
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            show_default=False,
            help="Static bearer token for workspace 1 (default: the emulator's demo token, emulator-token).",
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--username", show_default=False, help="Basic-auth user for token exchange (default: demo)."),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", show_default=False, help="Basic-auth password, with --username (default: demo)."),
    ] = None,
    postgres_dsn: Annotated[
        str | None,
        typer.Option(
            "--postgres-dsn",
            show_default=False,
            help="PostgreSQL for destination connection 2 (without it, connection 2 stays initializing).",
        ),
    ] = None,
    run_seconds: Annotated[
        float | None,
        typer.Option("--run-seconds", min=0, show_default=False, help="How long a simulated run takes."),
    ] = None,
) -> None:
    """Serve the emulator until interrupted (Ctrl+C).

    Its workspace 1 is seeded with data tables 1-3 and destination connections
    1 (sqlite), 2 (postgresql) and 3 (postgresql, in error). Point the CLI or a
    Pulumi stack at it with IMPROVADO_API_URL and IMPROVADO_API_TOKEN.

    \b
    Examples:
      improvado-loads emulator serve
      improvado-loads emulator serve --port 9000 --data-dir /tmp/improvado
      improvado-loads emulator serve --postgres-dsn postgresql://me@127.0.0.1:5432/warehouse
    """
    if (username is None) != (password is None):
        raise UsageProblem("--username and --password go together: give both, or neither")
    try:
        from improvado_loads.emulator import EmulatorSettings, serve
    except ImportError as exc:
        missing = f" ({exc.name} is missing)" if exc.name else ""
        raise CommandFailed(f"the emulator needs its optional dependencies{missing}: {INSTALL_HINT}") from None

    given: dict[str, Any] = {
        "token": token,
        "username": username,
        "password": password,
        "postgres_dsn": postgres_dsn,
        "run_seconds": run_seconds,
    }
    settings = EmulatorSettings(
        data_dir=data_dir, host=host, port=port, **{k: v for k, v in given.items() if v is not None}
    )
    shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}" if port else f"http://{shown_host}:<the port in the log below>"
    typer.echo(f"Improvado Loads API emulator on {url} (state in {data_dir}); Ctrl+C stops it.", err=True)
    typer.echo(
        f"Use it: export IMPROVADO_API_URL={url} and IMPROVADO_API_TOKEN=<the emulator's token: "
        f"{'the --token you gave' if token else 'see --help'}>, or IMPROVADO_USERNAME, IMPROVADO_PASSWORD "
        "and IMPROVADO_WORKSPACE_ID.",
        err=True,
    )
    try:
        serve(settings)
    except RuntimeError as exc:  # it could not start: the port is taken, the data dir unusable…
        raise CommandFailed(str(exc)) from None
