"""What every command shares: the app factory, client options, error handling and output.

Errors end a command in one place (:func:`handle_errors`): one ``error: ...`` line
on stderr, in words (:func:`describe`), exit status 2 for a usage problem and 1 for
a failure of the API or of a run. No traceback, and never a credential: every
message is scrubbed of the token and password values the command was given or
could read from the environment.

This module is imported by ``improvado-loads --help``: it imports only Typer.
httpx, Rich, pydantic and the client are imported inside the functions that use them.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, ParamSpec, TypeVar

import typer
from typer.core import TyperGroup

from improvado_loads import contract
from improvado_loads.cli import startup
from improvado_loads.contract import ENV_VARS
from improvado_loads.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ImprovadoError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TableInUseError,
)

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console
    from rich.text import Text

    from improvado_loads.client import ImprovadoClient

__all__ = [
    "FAILURE_EXIT",
    "USAGE_EXIT",
    "ApiUrlOption",
    "CLIGroup",
    "CommandFailed",
    "CommandGroup",
    "LazyCommand",
    "MissingExtra",
    "OutputFormat",
    "OutputOption",
    "TokenOption",
    "UsageProblem",
    "WorkspaceIdOption",
    "client_for",
    "configure_logging",
    "confirm",
    "describe",
    "error_line",
    "handle_errors",
    "new_app",
    "print_json",
    "print_list",
    "readable_placeholders",
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

#: The extra that brings each optional top-level package, named when it is missing.
EXTRAS = {
    "pulumi": "pulumi",
    "yaml": "cli",
    "typer": "cli",
    "rich": "cli",
    "fastapi": "emulator",
    "uvicorn": "emulator",
    "sqlalchemy": "emulator",
    "psycopg": "emulator",
}


class UsageProblem(Exception):
    """Raised by a command for bad input; ends it with exit status 2."""


class CommandFailed(Exception):
    """Raised by a command for a failure that is not the user's input; exit status 1."""


class MissingExtra(CommandFailed):
    """A command needs an optional dependency that is not installed; the message names the extra."""

    def __init__(self, command: str, exc: ImportError) -> None:
        package = (exc.name or "").split(".")[0]
        extra = EXTRAS.get(package, "all")
        super().__init__(
            f"{command} needs the optional dependency {package or 'it imports'}, which is not installed: "
            f"pip install 'improvado-loads[{extra}]'"
        )


class OutputFormat(str, Enum):
    """How a command prints what it read or did."""

    TABLE = "table"
    JSON = "json"


ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        envvar=ENV_VARS["base_url"],
        metavar="URL",
        show_default=False,
        help="API root, e.g. http://127.0.0.1:8765 (default: https://embedded.improvado.io).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=ENV_VARS["token"],
        metavar="TOKEN",
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
        metavar="ID",
        show_default=False,
        help="Workspace to use with username/password credentials.",
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", case_sensitive=False, metavar="table|json", help="table (readable) or json (for scripts)."
    ),
]


# --- error lines ---------------------------------------------------------------


def error_line(message: str, secrets: Iterable[str | None] = ()) -> str:
    """``error: <message>`` on one line, with every known secret replaced by ``***``."""
    return "error: " + _scrub(message, secrets)


def _scrub(message: str, secrets: Iterable[str | None] = ()) -> str:
    # As the client's scrub: a secret under 4 characters is not masked, since masking it inside
    # ordinary words ("--***en" for a token "tok") would both garble the line and give it away.
    known = {s for s in (*secrets, *(os.environ.get(name) for name in _SECRET_ENV)) if s and len(s) >= 4}
    for secret in sorted(known, key=len, reverse=True):
        message = message.replace(secret, "***")
    return " ".join(message.split()) or "unknown error"


def _say_error(message: str, secrets: Iterable[str | None] = ()) -> None:
    typer.echo(error_line(message, secrets), err=True)


def warn(message: str) -> None:
    """Print ``warning: <message>`` on stderr."""
    typer.echo("warning: " + _scrub(message), err=True)


#: What the command line knows of the API it talks to, for error messages (set by :func:`client_for`).
_target: dict[str, Any] = {"base_url": None, "workspace_id": None}

_LOAD_PATH_RE = re.compile(rf"^{re.escape(contract.LOADS_PATH)}/(\d+)(?:/(\w+))?/?$")
_DATA_TABLE_PATH_RE = re.compile(rf"^{re.escape(contract.DATA_TABLES_PATH)}/(\d+)/?$")
_CONNECTION_PATH_RE = re.compile(
    rf"^{re.escape(contract.API_PREFIX)}/destinations/([^/]+)/connections(?:/(\d+)(?:/\w+)?)?/?$"
)


def _workspace() -> str:
    workspace_id = _target["workspace_id"]
    return f"workspace {workspace_id}" if workspace_id is not None else "the token's workspace"


def _api() -> str:
    return f"the API at {_target['base_url']}" if _target["base_url"] else "the API"


def _detail(exc: ImprovadoError) -> str:
    """The service's own explanation (the ``detail`` of the body, and the fields at fault)."""
    body = exc.body
    parts: list[str] = []
    if isinstance(body, dict):
        for key in contract.ERROR_DETAIL_KEYS:
            if body.get(key):
                parts.append(str(body[key]).rstrip("."))
                break
        fields = body.get(contract.ERROR_FIELDS_KEY)
        if isinstance(fields, dict):
            for name, messages in fields.items():
                listed = messages if isinstance(messages, list) else [messages]
                parts.append(f"{name}: {' '.join(str(m).rstrip('.') for m in listed)}")
    elif isinstance(body, str) and body.strip():
        parts.append(body.strip()[:200])
    return "; ".join(parts)


def _missing(path: str | None) -> str | None:
    """What a 404 on ``path`` means, in words."""
    if not path:
        return None
    if match := _LOAD_PATH_RE.match(path):
        return f"load {match.group(1)} does not exist in {_workspace()}"
    if match := _DATA_TABLE_PATH_RE.match(path):
        return f"data table {match.group(1)} does not exist in {_workspace()}"
    if match := _CONNECTION_PATH_RE.match(path):
        if match.group(2):
            return f"destination connection {match.group(2)} ({match.group(1)}) does not exist in {_workspace()}"
        return f"there is no destination type {match.group(1)!r} in {_workspace()}"
    return None


def describe(exc: ImprovadoError) -> str:
    """An error of the client in words: what went wrong, in terms of loads and workspaces, not HTTP.

    The one mapping from the client's typed errors to what the command line says;
    the HTTP status stays at the end, in parentheses, for whoever reads logs.
    """
    detail = _detail(exc)
    status = f" (HTTP {exc.status_code})" if exc.status_code else ""
    load_match = _LOAD_PATH_RE.match(exc.path or "")
    if isinstance(exc, NotFoundError):
        missing = _missing(exc.path)
        if missing:
            return missing + status
        return f"not found in {_workspace()}" + (f": {detail}" if detail else "") + status
    if isinstance(exc, PermissionDeniedError):
        return f"the credentials are valid but not allowed in {_workspace()}" + status
    if isinstance(exc, AuthenticationError):
        if exc.status_code is None:  # the client could not get a token (refused exchange, bad answer)
            return str(exc)
        return (
            f"{_api()} refused the credentials: check IMPROVADO_API_TOKEN (or IMPROVADO_USERNAME, "
            f"IMPROVADO_PASSWORD and IMPROVADO_WORKSPACE_ID)" + status
        )
    if isinstance(exc, ConflictError):
        if load_match and load_match.group(2) == "run":
            load_id = load_match.group(1)
            return (
                f"load {load_id} is already queued or running: follow it with "
                f"'improvado-loads loads run {load_id} --wait'" + status
            )
        if isinstance(exc, TableInUseError):
            other = f"load {exc.existing_load_id}" if exc.existing_load_id is not None else "another load"
            return (
                f"{other} already loads into that destination table; choose another table "
                "(or allow a shared table)" + status
            )
        if exc.existing_load_id is not None:
            return (
                f"that load already exists: load {exc.existing_load_id} has the same data table, "
                f"destination connection and destination table" + status
            )
        return "conflict" + (f": {detail}" if detail else "") + status
    if isinstance(exc, InvalidRequestError):
        if exc.status_code is None:  # refused before sending: the client's own words
            return str(exc)
        what = f"load {load_match.group(1)}" if load_match else "the request"
        return f"{_api()} refused {what}" + (f": {detail}" if detail else "") + status
    if isinstance(exc, RateLimitedError):
        wait = f"; it asks to wait {exc.retry_after:g}s" if exc.retry_after is not None else ""
        return f"{_api()} is rate limiting this workspace and still refused after every retry{wait}" + status
    if isinstance(exc, ServerError):
        return f"{_api()} failed and still failed after every retry" + (f": {detail}" if detail else "") + status
    if isinstance(exc, APIConnectionError):
        if exc.refused:
            where = _target["base_url"] or "the API URL"
            return f"cannot connect to {where}: connection refused (is the API URL right and the service running?)"
        if exc.untrusted_certificate or exc.unreachable:
            return exc.message.partition(": ")[2]  # the message without its request line
        cause = exc.__cause__
        reason = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        where = _target["base_url"] or "the API"
        return f"no answer from {where}, even after retrying{reason}"
    return str(exc)


# --- logging: the client's retries, one line each ------------------------------------


class _EchoHandler(logging.Handler):
    """Log records of the client, one line each on the current stderr, scrubbed of secrets."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"{record.levelname.lower()}: {_scrub(self.format(record))}", err=True)


def configure_logging(verbose: bool) -> None:
    """Show the client's warnings (each retry) on stderr, one line each; with ``verbose``, its debug log too."""
    logger = logging.getLogger("improvado_loads")
    for handler in list(logger.handlers):
        if isinstance(handler, _EchoHandler):
            logger.removeHandler(handler)
    logger.addHandler(_EchoHandler())
    # NOTSET: the root's WARNING applies, so warnings show and debug records do not; records still
    # propagate (the command line configures no other handler, so nothing prints twice).
    logger.setLevel(logging.DEBUG if verbose else logging.NOTSET)


# --- the command wrapper -------------------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound="BaseModel")


#: Commands (by the first word of their function's name) whose request may have taken effect when cut.
_WRITES = frozenset({"create", "update", "pause", "unpause", "delete", "run", "reauthorize", "recheck", "export"})


def _interrupted(command: str) -> str:
    """What to say after Ctrl-C: a write already sent may have been made, so look before sending it again."""
    if command.split("_", 1)[0] in _WRITES:
        return ("interrupted; what was already sent may have taken effect in Improvado: look (list or get) "
                "before running the command again")
    return "interrupted"


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command body: every expected failure becomes one ``error:`` line and an exit status.

    :class:`UsageProblem`, :class:`~improvado_loads.errors.ConfigurationError` and a request
    refused before sending exit 2; any other :class:`~improvado_loads.errors.ImprovadoError`
    (said in words by :func:`describe`), an HTTP or file system error, Ctrl-C (``interrupted``)
    and :class:`CommandFailed` exit 1.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        secrets = [str(kwargs[name]) for name in _SECRET_PARAMS if kwargs.get(name)]
        try:
            with startup.work(func):  # start-up is over (improvado_loads.cli.startup)
                return func(*args, **kwargs)
        except UsageProblem as exc:
            _say_error(str(exc), secrets)
            raise typer.Exit(USAGE_EXIT) from None
        except ImprovadoError as exc:
            local = isinstance(exc, ConfigurationError) or (
                isinstance(exc, InvalidRequestError) and exc.status_code is None
            )
            _say_error(describe(exc), secrets)
            raise typer.Exit(USAGE_EXIT if local else FAILURE_EXIT) from None
        except CommandFailed as exc:
            _say_error(str(exc), secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except ImportError as exc:
            _say_error(str(MissingExtra("this command", exc)), secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except OSError as exc:
            _say_error(f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}", secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except KeyboardInterrupt:
            _say_error(_interrupted(func.__name__), secrets)
            raise typer.Exit(FAILURE_EXIT) from None
        except Exception as exc:
            httpx = sys.modules.get("httpx")
            if httpx is not None and isinstance(exc, httpx.HTTPError):
                _say_error(f"{type(exc).__name__}: {exc}", secrets)
                raise typer.Exit(FAILURE_EXIT) from None
            raise

    return wrapper


# --- the root group: lazy subcommands, one-line usage errors --------------------------


class LazyCommand:
    """A subcommand imported only when it runs or shows its own help.

    ``target`` is ``"module:attribute"``: a :class:`typer.Typer` app, or a command
    function (``single=True``). ``help`` is the line shown in the root's command list.
    """

    def __init__(self, target: str, help: str, *, single: bool = False) -> None:
        self.target = target
        self.help = help
        self.single = single

    def load(self, name: str) -> Any:
        """The Click command, imported now; :class:`MissingExtra` when an optional dependency is missing."""
        import importlib

        module_name, _, attribute = self.target.partition(":")
        try:
            value = getattr(importlib.import_module(module_name), attribute)
        except ImportError as exc:
            raise MissingExtra(f"improvado-loads {name}", exc) from None
        if self.single:  # a command function: a one-command app is that command
            app = new_app(self.help, no_args_is_help=False)
            app.command(name)(value)
            command = typer.main.get_command(app)
        else:  # a group, even of one command (``emulator serve``): its commands built when used
            command = CommandGroup.of(value)
        command.name = name
        readable_placeholders(command)
        return command


#: Words for option values, by the last word of the option's name (``--data-dir`` → ``DIR``).
_PLACEHOLDER_WORDS = {"id": "ID", "dir": "DIR", "cwd": "DIR", "out": "DIR", "port": "PORT", "dsn": "DSN"}
_PAIR_RE = re.compile(r"^([A-Z][A-Z_]*=[A-Z][A-Z_]*)\b")


def _is_choice(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)  # Typer's own types
    if descriptor is not None:
        return bool(getattr(descriptor, "is_choice", False))
    return str(getattr(getattr(param, "type", None), "name", "")) == "choice"  # Click's types


def _placeholder(param: Any) -> str | None:
    """A placeholder that reads like a word, from the option's name, for a parameter without a metavar."""
    if param.metavar is not None or getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if _is_choice(param):  # shown as its choices: [manual|daily|...]
        return None
    name = param.name or "value"
    if getattr(param, "param_type_name", "") == "argument":
        return name.upper()
    words = name.lower().split("_")
    if getattr(param, "multiple", False):
        pair = _PAIR_RE.match(getattr(param, "help", None) or "")
        return pair.group(1) if pair else words[-1].upper()
    if {"seconds", "timeout", "interval"} & set(words):
        return "SECONDS"
    return _PLACEHOLDER_WORDS.get(words[-1], words[-1].upper())


def _no_type(ctx: Any) -> None:
    """The type column of an argument's help line: empty (its name says what it is)."""
    return None


def readable_placeholders(command: Any) -> None:
    """Give every option and argument of ``command`` (and its subcommands) a placeholder in words.

    Typer shows ``<list[str]>``, ``<float range>``, ``<int>`` where no metavar was
    set; this sets ``KEY=VALUE``, ``SECONDS``, ``ID``… instead. An explicit metavar stays.
    """
    for param in getattr(command, "params", []):
        placeholder = _placeholder(param)
        if placeholder is not None:
            param.metavar = placeholder
        if getattr(param, "param_type_name", "") == "argument" and not _is_choice(param):
            # An argument's name is its placeholder (``LOAD_ID``): no ``<int>`` type column beside it.
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        readable_placeholders(sub)


class CommandGroup(TyperGroup):
    """A command group whose commands are built only when used.

    Typer builds a command by reading its function's signature and annotations;
    a group of eight commands paid that eight times where a run needs one (about
    5 ms of ``loads list``'s start-up). :meth:`of` makes the group of a Typer app
    with its commands pending; one is built when it runs, all of them for the
    group's help (so the help is Typer's own) or for an unknown name (so Typer
    can suggest the closest).
    """

    #: Commands registered on the app and not built yet, by name, in the app's order.
    pending: dict[str, Any]
    #: Every command's name, in the app's order (its commands, then its groups, as Typer lists them).
    order: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending = {}
        self.order = list(self.commands)
        self._app: typer.Typer | None = None

    @classmethod
    def of(cls, app: typer.Typer) -> Any:
        """The Click group of ``app``, its commands (``app.registered_commands``) built on use."""
        shell = copy.copy(app)
        shell.registered_commands = []
        group = typer.main.get_group(shell)
        if not isinstance(group, CommandGroup):  # an app made without new_app: everything now
            return typer.main.get_group(app)
        group._app = app
        group.pending = {
            info.name or typer.main.get_command_name(info.callback.__name__): info
            for info in app.registered_commands
            if info.callback is not None
        }
        group.order = [*group.pending, *(name for name in group.order if name not in group.pending)]
        return group

    def _build(self, name: str) -> None:
        info = self.pending.pop(name)
        assert self._app is not None
        command = typer.main.get_command_from_info(
            info,
            pretty_exceptions_short=self._app.pretty_exceptions_short,
            rich_markup_mode=self._app.rich_markup_mode,
        )
        readable_placeholders(command)
        self.commands[name] = command

    def list_commands(self, ctx: Any) -> list[str]:
        """Every subcommand's name, built or not, in the app's order."""
        return [*self.order, *(name for name in self.commands if name not in self.order)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A subcommand, built now if it was pending."""
        if cmd_name in self.pending:
            self._build(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Typer's; before an unknown name, every command is built, for Typer's "did you mean"."""
        if args and args[0] not in self.commands and args[0] not in self.pending:
            for name in list(self.pending):
                self._build(name)
        return super().resolve_command(ctx, args)


class CLIGroup(TyperGroup):
    """The root command group.

    Subcommands listed in ``lazy`` are imported only when used, so ``--help``,
    ``--version`` and ``loads list`` never import Pulumi or the emulator. Click's
    usage errors end as one ``error:`` line (exit 2), and a missing optional
    dependency as one line naming the extra to install (exit 1).
    """

    #: Subcommands imported on use, in the order of the command list.
    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        """Every subcommand: the eager ones, then the lazy ones."""
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """A subcommand, importing a lazy one now."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = self.lazy[cmd_name].load(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list, with each lazy command's line read from ``lazy`` (nothing imported)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None:
                if not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, self.lazy[name].help))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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
        except MissingExtra as exc:
            _say_error(str(exc))
            sys.exit(FAILURE_EXIT)
        except (typer.Abort, KeyboardInterrupt, EOFError):
            _say_error("aborted")
            sys.exit(FAILURE_EXIT)
        except Exception as exc:
            # Click's own errors (usage, bad parameter, no arguments), recognised by their public
            # interface rather than by importing Typer's private copy of Click.
            if not (hasattr(exc, "exit_code") and hasattr(exc, "format_message")):
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # type: ignore[attr-defined]  # the help: a group run without a command
            else:
                context = getattr(exc, "ctx", None)
                hint = f" (see '{context.command_path} --help')" if context is not None else ""
                _say_error(exc.format_message() + hint)
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def new_app(help: str, **kwargs: Any) -> typer.Typer:
    """A Typer app with this CLI's settings: plain help (newlines kept), no pretty tracebacks.

    Its group is a :class:`CommandGroup` (commands built on use) unless ``cls`` says otherwise.
    """
    settings: dict[str, Any] = {
        "cls": CommandGroup,
        "no_args_is_help": True,
        "rich_markup_mode": None,
        "pretty_exceptions_enable": False,
        "add_completion": False,
        "context_settings": {"help_option_names": ["-h", "--help"]},
    }
    settings.update(kwargs)
    return typer.Typer(help=help, **settings)


def client_for(api_url: str | None, token: str | None, workspace_id: int | None) -> ImprovadoClient:
    """A client from the options, the ``IMPROVADO_*`` environment variables filling the gaps."""
    from improvado_loads.client import ImprovadoClient

    client = ImprovadoClient.from_env(base_url=api_url, token=token, workspace_id=workspace_id)
    _target.update(base_url=client.base_url, workspace_id=client.workspace_id)
    return client


# --- output --------------------------------------------------------------------------

#: Width of tables written to a pipe or a file (a terminal's own width is used as is).
PIPE_WIDTH = 200


def stdout_console() -> Console:
    """A Rich console on the current stdout; wide when not a terminal, so rows stay whole.

    No highlighting and no ``:emoji:`` codes: what is printed is what the API said (cells are
    :func:`text`), and Rich's table of emoji codes (about 2 ms to import) is never read.
    """
    from rich.console import Console

    console = Console(highlight=False, emoji=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, emoji=False, width=PIPE_WIDTH)
    return console


def stderr_console() -> Console:
    """A Rich console on the current stderr, for progress."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def confirm(question: str, *, unanswered: str, err: bool = True) -> bool:
    """Ask ``question`` (default no) on stderr, or stdout with ``err=False``; the answer.

    With nothing to answer it (stdin closed, not a terminal), the prompt's line is
    ended and a :class:`UsageProblem` says ``unanswered``.
    """
    try:
        answer: bool = typer.confirm(question, default=False, err=err)
    except typer.Abort:
        typer.echo("", err=err)  # end the unanswered prompt's line
        raise UsageProblem(unanswered) from None
    return answer


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout (no colours, no wrapping: for scripts)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_list(items: list[M], output: OutputFormat, table: Callable[[list[M]], Any], empty: str) -> None:
    """Print API objects on stdout: a JSON array, else the readable ``table`` of them, or ``empty`` if none."""
    if output is OutputFormat.JSON:
        print_json([item.model_dump(mode="json") for item in items])
    elif not items:
        typer.echo(empty)
    else:
        stdout_console().print(table(items))


def text(value: object) -> Text:
    """A table cell shown literally (no Rich markup): ``-`` for nothing, ``yes``/``no`` for booleans."""
    from rich.text import Text

    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text("-" if value is None or value == "" else str(value))


def when(value: datetime | None) -> str:
    """A timestamp as everywhere in this CLI's output: RFC 3339 in UTC, ``2026-10-01T12:00:00Z``.

    A timestamp without an offset is taken as UTC (the API's own zone).
    """
    if value is None:
        return "-"
    moment = value.replace(tzinfo=timezone.utc) if value.utcoffset() is None else value.astimezone(timezone.utc)
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
