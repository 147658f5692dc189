"""A Python as users install this package: a venv with only the dependencies of one extra.

Users run their programs and the provider processes in a venv made from
``requirements.txt`` holding ``improvado-loads[pulumi]`` (see ``examples/``):
httpx, pydantic, tenacity, pulumi and PyYAML, and nothing of ``[dev]``. That
matters to the engine benchmark: where click, Rich and Pygments are installed
(they are in the ``[dev]`` venv), ``import httpx`` imports its own command line
and them with it, about 47 ms each provider process that no user pays. The same holds for the
command line, installed as ``improvado-loads[cli]`` (Typer, Rich, no click): its
start-up benchmark runs in ``lean_python(pyproject, "cli")``.

:func:`lean_python` makes that venv once and keeps it under
``~/.cache/improvado-loads/`` (``$XDG_CACHE_HOME`` if set), keyed by the
extra, the dependencies' text in ``pyproject.toml`` and the Python version, so a
change of any makes a new one. The package itself is not installed into it: :func:`checkout_env` readies the
checkout for that Python (bytecode compiled, the source tree on ``PYTHONPATH``),
so it always runs the code of the checkout at hand.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project's machines run 3.11
    import tomli as tomllib

__all__ = ["EXTRA", "checkout_env", "lean_python", "requirements"]

#: The extra users install for the provider (``examples/*/requirements.txt``).
EXTRA = "pulumi"
_DONE = "complete.json"


def requirements(pyproject: Path, extra: str = EXTRA) -> list[str]:
    """The core dependencies and those of ``extra`` in ``pyproject``, as pip requirement strings."""
    project = tomllib.loads(pyproject.read_text())["project"]
    name = str(project["name"])
    found: list[str] = []
    for requirement in [*project.get("dependencies", []), *project.get("optional-dependencies", {})[extra]]:
        if requirement.split("[")[0].strip() != name:  # the package itself is not installed (see above)
            found.append(str(requirement))
    return found


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "improvado-loads"


def lean_python(pyproject: Path, extra: str = EXTRA, *, log: bool = True) -> Path:
    """The cached lean venv's ``python`` for ``pyproject``'s ``extra`` (made on the first call: needs PyPI)."""
    wanted = requirements(pyproject, extra)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = hashlib.sha256(json.dumps([version, wanted]).encode()).hexdigest()[:12]
    venv = _cache_root() / f"bench-venv-{extra}-py{version}-{key}"
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # One maker at a time: another benchmark (another worktree) may be making the same venv.
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / _DONE).exists():
            return python
        if venv.exists():  # a make that was interrupted
            shutil.rmtree(venv)
        if log:
            print(f"making {venv} (once): {', '.join(wanted)}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
                       check=True)  # fmt: skip
        (venv / _DONE).write_text(json.dumps({"python": version, "extra": extra, "requirements": wanted}) + "\n")
    return python


def checkout_env(python: str, root: Path, *packages: str) -> dict[str, str]:
    """Ready ``python`` to run ``root``'s ``packages`` as an installed copy runs; the variable it needs.

    Their bytecode is compiled first, as ``pip install`` compiles what it installs (under
    ``PYTHONDONTWRITEBYTECODE`` every process would compile the sources again), and the
    returned ``PYTHONPATH`` puts ``root`` first, before any the caller already has.
    """
    subprocess.run([python, "-m", "compileall", "-q", *(str(root / package) for package in packages)], check=True)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
