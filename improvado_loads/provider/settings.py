"""Where the provider and the look-ups find the API URL and credentials.

Stack config under the ``improvado:`` namespace wins (``improvado:apiUrl``,
``improvado:token`` as a secret, ``improvado:workspaceId``,
``improvado:username``, ``improvado:password``); the client's ``IMPROVADO_*``
environment variables fill the gaps. Nothing read here is ever stored on a
provider instance that gets pickled, nor written into the stack state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from improvado_loads import contract
from improvado_loads.contract import ENV_VARS

if TYPE_CHECKING:
    from improvado_loads.client import ImprovadoClient

CONFIG_NAMESPACE = "improvado"

#: Stack config key (without namespace) for each client argument.
CONFIG_KEYS = {
    "base_url": "apiUrl",
    "token": "token",
    "username": "username",
    "password": "password",
    "workspace_id": "workspaceId",
}

ConfigLookup = Callable[[str], object]


def client_from_config(lookup: ConfigLookup) -> ImprovadoClient:
    """A client from stack config (``lookup("improvado:token")``), then the environment."""
    values: dict[str, str | None] = {}
    for arg, key in CONFIG_KEYS.items():
        value = lookup(f"{CONFIG_NAMESPACE}:{key}")
        text = str(value).strip() if value is not None else ""
        # Stripped here and validated by the client: a pasted newline never reaches a header.
        values[arg] = text or (os.environ.get(ENV_VARS[arg]) or "").strip() or None
    from improvado_loads.client import ImprovadoClient  # the HTTP stack, only once a call is to be made

    return ImprovadoClient(
        base_url=values["base_url"] or contract.DEFAULT_BASE_URL,
        token=values["token"],
        username=values["username"],
        password=values["password"],
        workspace_id=values["workspace_id"],
    )
