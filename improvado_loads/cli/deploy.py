"""``improvado-loads deploy``: preview, up, refresh, destroy and recover a program directory.

Each operation runs the real ``pulumi`` CLI on the directory (see
:mod:`improvado_loads.deploy.engine`), so its output, colours, errors and exit
status are exactly those of ``pulumi``; where Pulumi's Python language host is
not installed the program still runs with the project's own Python. A stack is
created only when asked (``--create``). Config given here is written to the
stack first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import pulumi  # noqa: F401  (the [pulumi] extra: deploy's language host stand-in and recover need it)
import typer

from improvado_loads.cli.common import CommandFailed, UsageProblem, confirm, handle_errors, new_app
from improvado_loads.contract import holds_credential
from improvado_loads.deploy.stacks import PulumiFailed, Stacks, project_name

app = new_app(
    """Run a Pulumi program directory with the real engine: preview, up, refresh, destroy, recover.

Output, errors and exit status are pulumi's own. Without --yes, up, refresh and
destroy show what they will change and ask before doing it.

\b
Examples:
  improvado-loads deploy up --stack dev --create --yes --config improvado:apiUrl=http://127.0.0.1:8765 \\
      --secret-from-env improvado:token=IMPROVADO_API_TOKEN
  improvado-loads deploy preview --stack dev --diff
  improvado-loads deploy refresh --stack dev --cwd infra/loads
  improvado-loads deploy destroy --stack dev --yes
  improvado-loads deploy recover --stack dev
"""
)

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130

StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name (must exist unless --create).")]
ExistingStackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name (an existing stack).")]
CwdOption = Annotated[Path, typer.Option("--cwd", "-C", help="The program directory (holds Pulumi.yaml).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without showing a preview and asking.")]
CreateOption = Annotated[
    bool, typer.Option("--create", help="Create the stack when it does not exist (like `pulumi stack init`).")
]
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
TargetOption = Annotated[
    list[str] | None,
    typer.Option("--target", "-t", metavar="URN", help="Only this resource URN (repeatable); as pulumi's --target."),
]
ReplaceOption = Annotated[
    list[str] | None,
    typer.Option("--replace", metavar="URN", help="Replace this resource URN (repeatable); as pulumi's --replace."),
]
RefreshOption = Annotated[bool, typer.Option("--refresh", "-r", help="Refresh the resources' state first.")]
DiffOption = Annotated[bool, typer.Option("--diff", help="Show each change as a property-level diff.")]
ParallelOption = Annotated[
    int | None,
    typer.Option(
        "--parallel", "-p", min=1, metavar="N", help="At most N resource operations at once (else pulumi's default)."
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", "-j", help="Pulumi's JSON document instead of the display (up, refresh, destroy: with --yes)."
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def _pulumi_failures(func: Callable[P, R]) -> Callable[P, R]:
    """A failed ``pulumi`` bookkeeping command (stack ls, config, export) ends as its own error line."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PulumiFailed as exc:
            raise CommandFailed(str(exc)) from None

    return wrapper


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise UsageProblem(f"{option} takes KEY=VALUE, got {value.split('=')[0]!r}=…")
        pairs.append((key, rest))
    return pairs


def _open(
    cwd: Path, stack: str, config: list[str] | None, secret_env: list[str] | None, *, create: bool = False
) -> Stacks:
    """The program's stacks, ``stack`` checked to exist (or created with ``create``) and configured."""
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
    stacks = Stacks(cwd.resolve())
    try:
        names = stacks.names()
    except PulumiFailed as exc:
        raise CommandFailed(f"pulumi could not open stack {stack!r}: {exc}") from None
    if not any(name == stack or name.rsplit("/", 1)[-1] == stack for name in names):
        if not create:
            known = ", ".join(names) if names else "none yet"
            raise UsageProblem(
                f"no stack {stack!r} for the program in {cwd.resolve()} (its stacks: {known}); "
                f"to create it, add --create (or run `pulumi stack init {stack}`)"
            )
        stacks.init(stack)
        typer.echo(f"Created stack {stack!r}", err=True)
    for key, value in plain:
        stacks.set_config(stack, key, value, secret=holds_credential(key, value))  # a credential is always a secret
    for key, value in secrets:
        stacks.set_config(stack, key, value, secret=True)
    return stacks


def _colour() -> str:
    """Colour only on a terminal (and never with NO_COLOR set)."""
    return "always" if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else "never"


def _flags(
    stack: str,
    *,
    target: list[str] | None = None,
    replace: list[str] | None = None,
    refresh: bool = False,
    diff: bool = False,
    json_: bool = False,
    parallel: int | None = None,
) -> list[str]:
    flags = ["--stack", stack, "--color", _colour()]
    if parallel is not None:
        flags += ["--parallel", str(parallel)]
    for urn in target or []:
        flags += ["--target", urn]
    for urn in replace or []:
        flags += ["--replace", urn]
    flags += [flag for flag, on in (("--refresh", refresh), ("--diff", diff), ("--json", json_)) if on]
    return flags


def _engine(stacks: Stacks, stack: str, operation: str, args: list[str]) -> None:
    """Run one engine operation, its output the user's; a failure exits with pulumi's status."""
    from improvado_loads.deploy.engine import run_pulumi
    from improvado_loads.deploy.langhost import NoProjectPython

    try:
        run, _ = run_pulumi(args, stacks.work_dir)
    except NoProjectPython as exc:
        raise CommandFailed(str(exc)) from None
    if run.interrupted:
        _say_interrupted(stacks, stack, operation)
        raise typer.Exit(INTERRUPTED_EXIT)
    if run.returncode != 0:
        raise typer.Exit(run.returncode)


def _say_interrupted(stacks: Stacks, stack: str, operation: str) -> None:
    """After Ctrl-C: what state the stack is in, and the one command that goes on from there."""
    where = f"--stack {shlex.quote(stack)} --cwd {shlex.quote(str(stacks.work_dir))}"
    try:
        deployment = stacks.export(stack).get("deployment") or {}
        locks = stacks.file_locks(stack, project_name(stacks.work_dir))
    except PulumiFailed as exc:
        typer.echo(f"error: deploy {operation} was interrupted and the stack cannot be read ({exc}); "
                   f"repair it with: improvado-loads deploy recover {where}", err=True)  # fmt: skip
        return
    pending = deployment.get("pending_operations") or []
    loads = [r for r in deployment.get("resources") or [] if str(r.get("type", "")).endswith(":Load")]
    if pending or locks:
        state = f"{len(pending)} operation(s) whose outcome is unknown" + (" and is still locked" if locks else "")
        typer.echo(f"error: deploy {operation} was interrupted: stack {stack!r} has {state}. "
                   f"Repair it with: improvado-loads deploy recover {where}", err=True)  # fmt: skip
    else:
        typer.echo(f"error: deploy {operation} was cancelled: stack {stack!r} is unlocked, has no pending "
                   f"operations and records {len(loads)} load(s), every change made before the cancel. "
                   f"Finish with: improvado-loads deploy {operation} {where}", err=True)  # fmt: skip


def _confirm(what: str) -> None:
    unanswered = f"no {what} done: nothing answered the confirmation (pass --yes to go ahead without asking)"
    if not confirm(f"Do you want to perform this {what}?", unanswered=unanswered, err=False):
        typer.echo("Nothing changed.", err=True)
        raise typer.Exit(1)


def _apply(stacks: Stacks, stack: str, operation: str, flags: list[str], *, yes: bool) -> None:
    """Run ``pulumi <operation>`` (up, refresh, destroy); unless ``yes``, show its preview and ask first."""
    if not yes:
        if operation == "up":
            _engine(stacks, stack, "preview", ["preview", *flags])
        else:
            _engine(stacks, stack, operation, [operation, "--preview-only", *flags])
        _confirm("update" if operation == "up" else operation)
    _engine(stacks, stack, operation, [operation, "--yes", "--skip-preview", *flags])


def _no_json_prompt(json_: bool, yes: bool) -> None:
    if json_ and not yes:
        raise UsageProblem("--json needs --yes: a JSON document cannot stop to ask for confirmation")


@app.command("preview")
@handle_errors
@_pulumi_failures
def preview(
    stack: StackOption,
    cwd: CwdOption = Path("."),
    create: CreateOption = False,
    config: ConfigOption = None,
    secret_from_env: SecretEnvOption = None,
    target: TargetOption = None,
    replace: ReplaceOption = None,
    refresh: RefreshOption = False,
    diff: DiffOption = False,
    json_: JsonOption = False,
    parallel: ParallelOption = None,
) -> None:
    """Show what `up` would change; change nothing (`pulumi preview`).

    \b
    Examples:
      improvado-loads deploy preview --stack dev
      improvado-loads deploy preview --stack prod --diff --cwd examples/multi-environment
      improvado-loads deploy preview --stack dev --json > plan.json
    """
    stacks = _open(cwd, stack, config, secret_from_env, create=create)
    flags = _flags(stack, target=target, replace=replace, refresh=refresh, diff=diff, json_=json_, parallel=parallel)
    _engine(stacks, stack, "preview", ["preview", *flags])


@app.command("up")
@handle_errors
@_pulumi_failures
def up(
    stack: StackOption,
    cwd: CwdOption = Path("."),
    yes: YesOption = False,
    create: CreateOption = False,
    config: ConfigOption = None,
    secret_from_env: SecretEnvOption = None,
    target: TargetOption = None,
    replace: ReplaceOption = None,
    refresh: RefreshOption = False,
    diff: DiffOption = False,
    json_: JsonOption = False,
    parallel: ParallelOption = None,
) -> None:
    """Create or update the stack's resources (`pulumi up`): a preview, a question, then the update.

    Ctrl-C cancels cleanly: the operations in flight finish and are recorded, the
    stack is unlocked, and the command says how to go on.

    \b
    Examples:
      improvado-loads deploy up --stack dev
      improvado-loads deploy up --stack dev --create --yes -c improvado:apiUrl=http://127.0.0.1:8765
      improvado-loads deploy up --stack dev --yes \\
          --replace 'urn:pulumi:dev::loads::pulumi-python:dynamic/improvado:Load::ads'
    """
    _no_json_prompt(json_, yes)
    stacks = _open(cwd, stack, config, secret_from_env, create=create)
    flags = _flags(stack, target=target, replace=replace, refresh=refresh, diff=diff, json_=json_, parallel=parallel)
    _apply(stacks, stack, "up", flags, yes=yes)


@app.command("refresh")
@handle_errors
@_pulumi_failures
def refresh(
    stack: ExistingStackOption,
    cwd: CwdOption = Path("."),
    yes: YesOption = False,
    target: TargetOption = None,
    diff: DiffOption = False,
    json_: JsonOption = False,
    parallel: ParallelOption = None,
) -> None:
    """Read every resource's live state into the stack (`pulumi refresh`): what changes is shown first.

    \b
    Examples:
      improvado-loads deploy refresh --stack dev
      improvado-loads deploy refresh --stack dev --yes
    """
    _no_json_prompt(json_, yes)
    stacks = _open(cwd, stack, None, None)
    flags = _flags(stack, target=target, diff=diff, json_=json_, parallel=parallel)
    _apply(stacks, stack, "refresh", flags, yes=yes)


@app.command("destroy")
@handle_errors
@_pulumi_failures
def destroy(
    stack: ExistingStackOption,
    cwd: CwdOption = Path("."),
    yes: YesOption = False,
    target: TargetOption = None,
    refresh: RefreshOption = False,
    diff: DiffOption = False,
    json_: JsonOption = False,
    parallel: ParallelOption = None,
) -> None:
    """Remove the stack's resources (`pulumi destroy`), each Load per its deletion_policy; shown first.

    \b
    Examples:
      improvado-loads deploy destroy --stack dev
      improvado-loads deploy destroy --stack dev --yes
    """
    _no_json_prompt(json_, yes)
    stacks = _open(cwd, stack, None, None)
    flags = _flags(stack, target=target, refresh=refresh, diff=diff, json_=json_, parallel=parallel)
    _apply(stacks, stack, "destroy", flags, yes=yes)


@app.command("recover")
@handle_errors
@_pulumi_failures
def recover(
    stack: ExistingStackOption,
    cwd: CwdOption = Path("."),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Also release a lock taken on another machine (or held in a Pulumi Cloud backend): "
            "only when that update is known to be gone.",
        ),
    ] = False,
) -> None:
    """Repair a stack after a crash: unlock it and settle its pending operations against the API.

    A create that was in flight is looked up by the load's identity (data table,
    connection, table): a load that exists is recorded in the stack as `up` would
    have recorded it, so the next `up` neither duplicates it nor leaves it
    orphaned. Refuses while the update that holds the lock is still running on
    this machine; a lock from another machine is released only with --force.

    \b
    Examples:
      improvado-loads deploy recover --stack dev
    """
    from improvado_loads.deploy.recover import recover_state
    from improvado_loads.provider.settings import client_from_config

    stacks = _open(cwd, stack, None, None)
    locks = stacks.file_locks(stack, project_name(stacks.work_dir))
    running = [lock for lock in locks or [] if lock.holder_alive()]
    if running:
        raise CommandFailed(
            f"an update of stack {stack!r} is still running (process {running[0].pid}): "
            "let it finish or stop it, then run recover again"
        )
    foreign = [lock for lock in locks or [] if not lock.on_this_host()]
    if foreign and not force:
        raise CommandFailed(
            f"stack {stack!r} is locked by an update on {foreign[0].hostname or 'another machine'} "
            f"(process {foreign[0].pid}): if that update is gone, run recover again with --force"
        )
    if locks:
        stacks.cancel(stack)
        typer.echo(f"Unlocked stack {stack!r} (the update holding it is gone).")
    elif locks is None and force:  # a service backend: cancel whatever update it still thinks runs
        with contextlib.suppress(PulumiFailed):
            stacks.cancel(stack)
    config = stacks.config(stack)
    with client_from_config(config.get) as client:
        recovery = recover_state(stacks.export(stack), client)
    for line in recovery.lines:
        typer.echo(line)
    if recovery.changed:
        stacks.import_(stack, recovery.state)
    where = f"--stack {shlex.quote(stack)} --cwd {shlex.quote(str(stacks.work_dir))}"
    typer.echo(
        f"Stack {stack!r} is unlocked and has no pending operations"
        f"{f' ({len(recovery.lines)} settled)' if recovery.changed else ''}. "
        f"Go on with: improvado-loads deploy up {where}"
    )
