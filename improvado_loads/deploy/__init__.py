"""Running program directories with the real Pulumi engine.

:mod:`~improvado_loads.deploy.engine` runs the ``pulumi`` CLI itself (what
``improvado-loads deploy`` does); :mod:`~improvado_loads.deploy.langhost` stands in
for Pulumi's Python language host where it is not installed;
:mod:`~improvado_loads.deploy.stacks` lists, creates, exports and imports stacks;
:mod:`~improvado_loads.deploy.recover` repairs a stack after a crash;
:mod:`~improvado_loads.deploy.inline` drives a stack through the Automation API
(tests and benchmarks). Pulumi is imported only by the module that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from improvado_loads.deploy.engine import has_language_host
    from improvado_loads.deploy.inline import program_from_dir, project_name, stack_for

__all__ = ["has_language_host", "program_from_dir", "project_name", "stack_for"]


def __getattr__(name: str) -> Any:
    if name == "has_language_host":
        from improvado_loads.deploy import engine

        return engine.has_language_host
    if name in ("program_from_dir", "project_name", "stack_for"):
        from improvado_loads.deploy import inline

        return getattr(inline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
