"""Drive a program directory's stack from Python, through the Automation API (tests, benchmarks).

Where Pulumi's Python language host (``pulumi-language-python``) is installed,
the directory runs as a local program, exactly as ``pulumi up`` runs it. Where
it is not (it cannot be built on machines without internet: its Go module is
not served by the module proxy), the directory's ``__main__.py`` runs in this
process through the Automation API's own in-process language server; the
engine, the state, the config and the providers are the same.

Either way the dynamic providers run in this interpreter's environment
(``PULUMI_PYTHON_CMD``), so ``improvado_loads`` is importable by reference.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from pulumi import automation as auto

from improvado_loads.deploy.engine import has_language_host

__all__ = ["program_from_dir", "project_name", "stack_for"]


def project_name(work_dir: Path) -> str:
    """The project name from ``Pulumi.yaml``."""
    settings = yaml.safe_load((work_dir / "Pulumi.yaml").read_text())
    return str(settings["name"])


def program_from_dir(work_dir: Path, env: Mapping[str, str] | None = None) -> Callable[[], None]:
    """The directory's ``__main__.py`` as an inline program, run as ``pulumi up`` would run it.

    ``env`` is set while it runs, as ``pulumi up`` gives the program the workspace's
    environment (look-ups in the program read ``IMPROVADO_*`` credentials from it).
    """
    main = work_dir / "__main__.py"

    def program() -> None:
        saved = {key: os.environ.get(key) for key in env or {}}
        os.environ.update(env or {})
        sys.path.insert(0, str(work_dir))
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            sys.path.remove(str(work_dir))
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    return program


def stack_for(
    work_dir: Path | str,
    stack_name: str,
    *,
    env: Mapping[str, str] | None = None,
    create: bool = True,
    force_inline: bool = False,
    pulumi_command: auto.PulumiCommand | None = None,
    new: bool = False,
) -> auto.Stack:
    """Select (or create) ``stack_name`` of the program in ``work_dir``.

    ``env`` adds environment variables for the engine and the providers (e.g.
    ``PULUMI_BACKEND_URL``, ``PULUMI_CONFIG_PASSPHRASE``, ``IMPROVADO_API_TOKEN``).
    ``pulumi_command`` is a :class:`pulumi.automation.PulumiCommand` to reuse: each new
    one runs ``pulumi version`` first (a caller making many stacks makes it once).
    ``new`` says the stack does not exist yet: it is created without a ``pulumi stack select``
    tried first (which fails on a new stack).
    """
    work_dir = Path(work_dir).resolve()
    env_vars = {"PULUMI_PYTHON_CMD": sys.executable, "PULUMI_SKIP_UPDATE_CHECK": "1", **(env or {})}
    opts = auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=env_vars, pulumi_command=pulumi_command)
    select = auto.create_stack if new else auto.create_or_select_stack if create else auto.select_stack
    if has_language_host() and not force_inline:
        return select(stack_name, work_dir=str(work_dir), opts=opts)
    return select(
        stack_name,
        project_name=project_name(work_dir),
        program=program_from_dir(work_dir, env),
        opts=opts,
    )
