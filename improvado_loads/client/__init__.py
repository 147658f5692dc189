"""The typed Improvado Loads API client.

Names are imported on first use (:pep:`562`), so that a module of this package
(``improvado_loads.client.validation``, say) can be imported without the HTTP
stack: the Pulumi provider checks and diffs inputs without ever loading httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from improvado_loads.client.client import ImprovadoClient
    from improvado_loads.client.pagination import PageIterator
    from improvado_loads.client.retry import RetryPolicy
    from improvado_loads.contract import ENV_VARS

__all__ = ["ENV_VARS", "ImprovadoClient", "PageIterator", "RetryPolicy"]

_HOMES = {
    "ENV_VARS": "improvado_loads.contract",
    "ImprovadoClient": "improvado_loads.client.client",
    "PageIterator": "improvado_loads.client.pagination",
    "RetryPolicy": "improvado_loads.client.retry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
