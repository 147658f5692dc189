"""What every command shares: the app factory, client options, error handling and output.

Errors end a command in one place (:func:`handle_errors`): one ``error: ...`` line
on stderr, exit status 2 for a usage problem and 1 for a failure of the API or
of a run. No traceback, and never a credential: every message is scrubbed of the
token and password values the command was given or could read from the
environment.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, ParamSpec, TypeVar

import httpx
import typer
from rich.console import Console
from rich.text import Text
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from improvado_loads.client import ENV_VARS, ImprovadoClient
from improvado_loads.errors import ConfigurationError, ImprovadoError, InvalidRequestError

__all__ = [
    "USAGE_EXIT",
    "ApiUrlOption",
    "CLIGroup",
    "CommandFailed",
    "OutputFormat",
    "OutputOption",
    "TokenOption",
    "UsageProblem",
    "WorkspaceIdOption",
    "client_for",
    "configure_logging",
    "error_line",
    "handle_errors",
    "new_app",
    "print_json",
    "stderr_console",
    "stdout_console",
    "text",
    "warn",
    "when",
]

#: Exit status of a usage problem (bad option, bad value); 1 is any other failure.
USAGE_EXIT = 2
FAILURE_EXIT = 1

#: Keyword arguments of a command whose values are secrets.
_SECRET_PARAMS = ("token", "password")
#: Environment variables whose values are secrets.
_SECRET_ENV = (ENV_VARS["token"], ENV_VARS["password"])


class UsageProblem(Exception):
    """Raised by a command for bad input; ends it with exit status 2."""


class CommandFailed(Exception):
    """Raised by a command for a failure that is not the user's input; exit status 1."""


class OutputFormat(str, Enum):
    """How a command prints what it read."""

    TABLE = "table"
    JSON = "json"


ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        envvar=ENV_VARS["base_url"],
        show_default=False,
        help="API root, e.g. http://127.0.0.1:8765 (default: https://embedded.improvado.io).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=ENV_VARS["token"],
        show_default=False,
        help=(
            "Workspace bearer token. Prefer the environment variable; or set IMPROVADO_USERNAME, "
            "IMPROVADO_PASSWORD and IMPROVADO_WORKSPACE_ID to exchange credentials for one."
        ),
    ),
]
WorkspaceIdOption = Annotated[
    int | None,
    typer.Option(
        "--workspace-id",
        envvar=ENV_VARS["workspace_id"],
        show_default=False,
        help="Workspace to use with username/password credentials.",
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", case_sensitive=False, help="table (readable) or json (for scripts)."),
]


def error_line(message: str, secrets: Iterable[str | None] = ()) -> str:
    """``error: <message>`` on one line, with every known secret replaced by ``***``."""
    return "error: " + _scrub(message, secrets)


def _scrub(message: str, secrets: Iterable[str | None] = ()) -> str:
    known = {s for s in (*secrets, *(os.environ.get(name) for name in _SECRET_ENV)) if s and len(s) >= 3}
    for secret in sorted(known, key=len, reverse=True):
        message = message.replace(secret, "***")
    return " ".join(message.split()) or "unknown error"


def _say_error(message: str, secrets: Iterable[str | None] = ()) -> None:
    typer.echo(error_line(message, secrets), err=True)


def warn(message: str) -> None:
    """Print ``warning: <message>`` on stderr."""
    typer.echo("warning: " + _scrub(message), err=True)


class _EchoHandler(logging.Handler):
    """Log records of the client on the current stderr, scrubbed of secrets."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"{record.levelname.lower()}: {_scrub(self.format(record))}", err=True)


class _Quiet(logging.NullHandler):
    """Keeps the client's log records (retries) off stderr, where only the error line belongs."""


def configure_logging(verbose: bool) -> None:
    """Show the client's log (retries…) on stderr with ``verbose``; otherwise keep it quiet."""
    logger = logging.getLogger("improvado_loads")
    for handler in list(logger.handlers):
        if isinstance(handler, (_EchoHandler, _Quiet)):
            logger.removeHandler(handler)
    logger.addHandler(_EchoHandler() if verbose else _Quiet())
    logger.setLevel(logging.DEBUG if verbose else logging.NOTSET)


P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command body: every expected failure becomes one ``error:`` line and an exit status.

    :class:`UsageProblem`, :class:`~improvado_loads.errors.ConfigurationError` and a request
    refused before sending exit 2; any other :class:`~improvado_loads.errors.ImprovadoError`,
    an HTTP or file system error, and :class:`CommandFailed` exit 1.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        secrets = [str(kwargs[name]) for name in _SECRET_PARAMS if kwargs.get(name)]
        try:
            return func(*args, **kwargs)
        except UsageProblem as exc:
            _say_error(str(exc), secrets)
            raise typer.Exit(USAGE_EXIT) from None
        except ImprovadoError as exc:
            local = isinstance(exc, ConfigurationError) or (
                isinstance(exc, InvalidRequestError) and exc.status_code is None
            )
            _say_error(str(exc), secrets)
            raise typer.Exit(USAGE_EXIT if local else FAILURE_EXIT) from None
        except CommandFailed as exc:
            _say_error(str(exc), secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except httpx.HTTPError as exc:
            _say_error(f"{type(exc).__name__}: {exc}", secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except OSError as exc:
            _say_error(f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}", secrets)
            raise typer.Exit(FAILURE_EXIT) from None

    return wrapper


class CLIGroup(TyperGroup):
    """The root command group: Click's usage errors also end as one ``error:`` line (exit 2)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode, exit with its status."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _say_error(exc.format_message() + hint)
            sys.exit(exc.exit_code)
        except ClickException as exc:
            _say_error(exc.format_message())
            sys.exit(exc.exit_code)
        except typer.Abort:
            _say_error("aborted")
            sys.exit(FAILURE_EXIT)
        sys.exit(result if isinstance(result, int) else 0)


def new_app(help: str, **kwargs: Any) -> typer.Typer:
    """A Typer app with this CLI's settings: plain help (newlines kept), no pretty tracebacks."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        **kwargs,
    )


def client_for(api_url: str | None, token: str | None, workspace_id: int | None) -> ImprovadoClient:
    """A client from the options, the ``IMPROVADO_*`` environment variables filling the gaps."""
    return ImprovadoClient.from_env(base_url=api_url, token=token, workspace_id=workspace_id)


#: Width of tables written to a pipe or a file (a terminal's own width is used as is).
PIPE_WIDTH = 200


def stdout_console() -> Console:
    """A Rich console on the current stdout (no highlighting); wide when not a terminal, so rows stay whole."""
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


def stderr_console() -> Console:
    """A Rich console on the current stderr, for progress."""
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout (no colours, no wrapping: for scripts)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def text(value: object) -> Text:
    """A table cell shown literally (no Rich markup): ``-`` for nothing, ``yes``/``no`` for booleans."""
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text("-" if value is None or value == "" else str(value))


def when(value: datetime | None) -> str:
    """A timestamp for tables: ``2026-10-01 12:00:00 UTC``."""
    if value is None:
        return "-"
    suffix = " UTC" if value.utcoffset() is not None and not value.utcoffset() else ""
    rendered = value.replace(microsecond=0).isoformat(sep=" ")
    return rendered.removesuffix("+00:00") + suffix
