"""``improvado-loads deploy``: preview, up, refresh and destroy a program directory.

Runs the real Pulumi engine through the Automation API (see
:mod:`improvado_loads.deploy`), so it works whether or not Pulumi's Python
language host is installed. Config given here is written to the stack first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pulumi import automation as auto

from improvado_loads.cli.common import CommandFailed, UsageProblem, handle_errors, new_app
from improvado_loads.deploy import stack_for

app = new_app(
    """Run a Pulumi program directory: preview, up, refresh, destroy.

\b
Examples:
  improvado-loads deploy preview --stack dev
  improvado-loads deploy up --stack dev --yes --config improvado:apiUrl=http://127.0.0.1:8765 \\
      --secret-from-env improvado:token=IMPROVADO_API_TOKEN
  improvado-loads deploy refresh --stack dev --yes --cwd infra/loads
  improvado-loads deploy destroy --stack dev --yes
"""
)

StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name (created when missing).")]
CwdOption = Annotated[Path, typer.Option("--cwd", "-C", help="The program directory (holds Pulumi.yaml).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without asking.")]
ConfigOption = Annotated[
    list[str] | None, typer.Option("--config", "-c", help="KEY=VALUE stack config to set first (repeatable).")
]
SecretEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret-from-env",
        help="KEY=ENV_VAR: set secret stack config KEY from that environment variable (repeatable).",
    ),
]


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise UsageProblem(f"{option} takes KEY=VALUE, got {value.split('=')[0]!r}=…")
        pairs.append((key, rest))
    return pairs


def _stack(
    cwd: Path, stack: str, config: list[str] | None, secret_env: list[str] | None, *, create: bool = True
) -> auto.Stack:
    if not (cwd / "Pulumi.yaml").is_file():
        raise UsageProblem(f"no Pulumi.yaml in {cwd.resolve()}: give the program directory with --cwd")
    secrets = []
    for key, env_name in _pairs(secret_env, "--secret-from-env"):
        value = os.environ.get(env_name)
        if not value:
            raise UsageProblem(f"--secret-from-env {key}: the environment variable {env_name} is not set")
        secrets.append((key, value))
    plain = _pairs(config, "--config")
    if shutil.which("pulumi") is None:
        raise CommandFailed(
            "the pulumi CLI is not on PATH: install Pulumi (see the README) or run scripts/ensure-pulumi"
        )
    try:
        selected = stack_for(cwd, stack, create=create)
    except auto.StackNotFoundError:
        raise UsageProblem(f"no stack {stack!r} for the program in {cwd.resolve()}") from None
    except auto.CommandError as exc:
        raise CommandFailed(f"pulumi could not open stack {stack!r}: {_first_error(exc)}") from None
    for key, value in plain:
        selected.set_config(key, auto.ConfigValue(value))
    for key, value in secrets:
        selected.set_config(key, auto.ConfigValue(value, secret=True))
    return selected


def _first_error(exc: auto.CommandError) -> str:
    """The engine's own error line (``error: …``) from a failed command."""
    lines = [line.strip() for line in str(exc).splitlines()]
    errors = [line.removeprefix("stderr:").strip() for line in lines if "error:" in line]
    return errors[0].split("error:", 1)[1].strip() if errors else "see the output above"


def _run(operation: str, action: Callable[[], object]) -> None:
    """Run one engine operation; its failure (already printed by the engine) ends the command."""
    try:
        action()
    except auto.CommandError:
        raise CommandFailed(f"pulumi {operation} failed (the engine's output is above)") from None


def _confirm(yes: bool, what: str) -> None:
    if not yes and not typer.confirm(f"Do you want to perform this {what}?", default=False):
        raise typer.Exit(1)


@app.command("preview")
@handle_errors
def preview(
    stack: StackOption, cwd: CwdOption = Path("."), config: ConfigOption = None, secret_from_env: SecretEnvOption = None
) -> None:
    """Show what `up` would change; change nothing.

    \b
    Examples:
      improvado-loads deploy preview --stack dev
      improvado-loads deploy preview --stack prod --cwd examples/multi-environment
    """
    selected = _stack(cwd, stack, config, secret_from_env)
    _run("preview", lambda: selected.preview(on_output=typer.echo, diff=True))


@app.command("up")
@handle_errors
def up(
    stack: StackOption,
    cwd: CwdOption = Path("."),
    yes: YesOption = False,
    config: ConfigOption = None,
    secret_from_env: SecretEnvOption = None,
) -> None:
    """Create or update the stack's resources (after a preview, unless --yes).

    \b
    Examples:
      improvado-loads deploy up --stack dev --yes
      improvado-loads deploy up --stack dev -c improvado:apiUrl=http://127.0.0.1:8765
    """
    selected = _stack(cwd, stack, config, secret_from_env)
    if not yes:
        _run("preview", lambda: selected.preview(on_output=typer.echo))
        _confirm(yes, "update")
    _run("up", lambda: selected.up(on_output=typer.echo))


@app.command("refresh")
@handle_errors
def refresh(stack: StackOption, cwd: CwdOption = Path("."), yes: YesOption = False) -> None:
    """Read every resource's live state into the stack (drift made outside Pulumi).

    \b
    Examples:
      improvado-loads deploy refresh --stack dev --yes
    """
    selected = _stack(cwd, stack, None, None, create=False)
    _confirm(yes, "refresh")
    _run("refresh", lambda: selected.refresh(on_output=typer.echo))


@app.command("destroy")
@handle_errors
def destroy(stack: StackOption, cwd: CwdOption = Path("."), yes: YesOption = False) -> None:
    """Remove every resource of the stack (each Load per its deletion_policy).

    \b
    Examples:
      improvado-loads deploy destroy --stack dev --yes
    """
    selected = _stack(cwd, stack, None, None, create=False)
    _confirm(yes, "destroy")
    _run("destroy", lambda: selected.destroy(on_output=typer.echo))
