"""``improvado-loads emulator serve``: the local emulator of the Improvado Loads API.

The emulator's dependencies are an optional extra, so it is imported only when
the command runs. Secrets never come from the command line (``ps`` shows it to
every user): the static token, the Basic password and a PostgreSQL DSN with a
password are read from the environment or from a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

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
#: Environment variables the secrets of ``emulator serve`` are read from.
TOKEN_ENV = "IMPROVADO_EMULATOR_TOKEN"
PASSWORD_ENV = "IMPROVADO_EMULATOR_PASSWORD"
POSTGRES_DSN_ENV = "IMPROVADO_EMULATOR_POSTGRES_DSN"


def _secret(name: str, env: str, file: Path | None) -> str | None:
    """A secret from its file (first line) or its environment variable; None when neither is given."""
    if file is not None:
        try:
            lines = file.read_text().splitlines()
        except OSError as exc:
            raise UsageProblem(f"--{name}-file {file}: {exc.strerror or exc}") from None
        value = lines[0].strip() if lines else ""
        if not value:
            raise UsageProblem(f"--{name}-file {file} is empty")
        return value
    value = os.environ.get(env, "").strip()
    return value or None


def _refuse_in_argv(value: str | None, option: str, env: str) -> None:
    if value is not None:
        raise UsageProblem(
            f"{option} on the command line would show in `ps`: put it in {env} or give {option}-file instead"
        )


@app.command("serve")
@handle_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback only without --allow-remote).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8765,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the emulator keeps its state and SQLite destinations.")
    ] = Path(".emulator-data"),
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            show_default=False,
            help=f"File whose first line is the static bearer token of workspace 1 (or set {TOKEN_ENV}; "
            "default: the demo token, emulator-token).",
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--username", show_default=False, help="Basic-auth user for token exchange (default: demo)."),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            show_default=False,
            help=f"File whose first line is the Basic-auth password, with --username (or set {PASSWORD_ENV}; "
            "default: demo).",
        ),
    ] = None,
    postgres_dsn: Annotated[
        str | None,
        typer.Option(
            "--postgres-dsn",
            show_default=False,
            help=f"PostgreSQL for destination connection 2, without a password (a DSN with one goes in "
            f"{POSTGRES_DSN_ENV}); without it, connection 2 stays initializing.",
        ),
    ] = None,
    run_seconds: Annotated[
        float | None,
        typer.Option("--run-seconds", min=0, show_default=False, help="How long a simulated run takes."),
    ] = None,
    destination_timeout: Annotated[
        float | None,
        typer.Option(
            "--destination-timeout",
            min=0.1,
            show_default=False,
            help="Longest wait, in seconds, on a destination (connect, lock; a statement gets three times "
            "that) before its run fails (default 30).",
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Listen on an address beyond loopback. The /_emulator surface has no authentication: "
            "anyone who reaches it can point a connection at any database.",
        ),
    ] = False,
    token: Annotated[str | None, typer.Option("--token", hidden=True)] = None,
    password: Annotated[str | None, typer.Option("--password", hidden=True)] = None,
) -> None:
    """Serve the emulator until interrupted (Ctrl+C).

    Its workspace 1 is seeded with data tables 1-3 and destination connections
    1 (sqlite), 2 (postgresql) and 3 (postgresql, in error). Point the CLI or a
    Pulumi stack at it with IMPROVADO_API_URL and IMPROVADO_API_TOKEN. It listens
    on loopback only, unless --allow-remote.

    \b
    Examples:
      improvado-loads emulator serve
      IMPROVADO_EMULATOR_TOKEN=my-token improvado-loads emulator serve --port 9000 --data-dir /tmp/improvado
      improvado-loads emulator serve --postgres-dsn postgresql://me@127.0.0.1:5432/warehouse
    """
    _refuse_in_argv(token, "--token", TOKEN_ENV)
    _refuse_in_argv(password, "--password", PASSWORD_ENV)
    if postgres_dsn is not None and urlsplit(postgres_dsn).password:
        raise UsageProblem(
            f"--postgres-dsn holds a password, which would show in `ps`: put the DSN in {POSTGRES_DSN_ENV} instead"
        )
    static_token = _secret("token", TOKEN_ENV, token_file)
    basic_password = _secret("password", PASSWORD_ENV, password_file)
    dsn = postgres_dsn or os.environ.get(POSTGRES_DSN_ENV) or None
    if (username is None) != (basic_password is None):
        raise UsageProblem(f"--username and --password-file (or {PASSWORD_ENV}) go together: give both, or neither")
    try:
        from improvado_loads.emulator import EmulatorSettings, serve
        from improvado_loads.emulator.listen import is_loopback
    except ImportError as exc:
        missing = f" ({exc.name} is missing)" if exc.name else ""
        raise CommandFailed(f"the emulator needs its optional dependencies{missing}: {INSTALL_HINT}") from None

    given: dict[str, Any] = {
        "token": static_token,
        "username": username,
        "password": basic_password,
        "postgres_dsn": dsn,
        "run_seconds": run_seconds,
        "destination_timeout_seconds": destination_timeout,
    }
    settings = EmulatorSettings(
        data_dir=data_dir,
        host=host,
        port=port,
        allow_remote=allow_remote,
        **{k: v for k, v in given.items() if v is not None},
    )
    bare = host.strip("[]")  # `--host [::1]` as written in a URL
    shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{bare}]" if ":" in bare else bare

    def announce(bound_port: int) -> None:
        url = f"http://{shown_host}:{bound_port}"
        typer.echo(f"Improvado Loads API emulator on {url} (state in {data_dir}); Ctrl+C stops it.", err=True)
        if is_loopback(host):
            typer.echo("Listening on loopback only; --allow-remote would open it to other machines.", err=True)
        else:
            typer.echo(
                f"warning: listening on {host} beyond loopback (--allow-remote): the /_emulator surface has no "
                "authentication.",
                err=True,
            )
        typer.echo(
            f"Use it: export IMPROVADO_API_URL={url} and IMPROVADO_API_TOKEN=<the emulator's token: "
            f"{'the one you gave' if static_token else 'emulator-token'}>, or IMPROVADO_USERNAME, "
            "IMPROVADO_PASSWORD and IMPROVADO_WORKSPACE_ID.",
            err=True,
        )

    try:
        serve(settings, on_listen=announce)
    except RuntimeError as exc:  # it could not start: the port is taken, the data dir is in use…
        raise CommandFailed(str(exc)) from None
