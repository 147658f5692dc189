"""Where the provider and the look-ups find the API URL and credentials.

Stack config under the ``improvado:`` namespace wins (``improvado:apiUrl``,
``improvado:token`` as a secret, ``improvado:workspaceId``,
``improvado:username``, ``improvado:password``); the client's ``IMPROVADO_*``
environment variables fill the gaps. The credentials are one unit: a stack that
names its own (a token, or a username and password) never has them completed
from the environment, so an exported ``IMPROVADO_API_TOKEN`` of one workspace
cannot outrank a stack's username, password and ``workspaceId`` of another.
Nothing read here is ever stored on a provider instance that gets pickled, nor
written into the stack state.
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

#: The client arguments that are credentials: taken all from the stack, or all from the environment.
_CREDENTIALS = ("token", "username", "password")


def client_from_config(lookup: ConfigLookup) -> ImprovadoClient:
    """A client from stack config (``lookup("improvado:token")``), then the environment."""
    values: dict[str, str | None] = {}
    for arg, key in CONFIG_KEYS.items():
        value = lookup(f"{CONFIG_NAMESPACE}:{key}")
        # Stripped here and validated by the client: a pasted newline never reaches a header.
        values[arg] = (str(value).strip() if value is not None else "") or None
    # The stack's own credentials are not mixed with the environment's.
    stack_credentials = any(values[arg] for arg in _CREDENTIALS)
    for arg, current in values.items():
        if current is None and not (stack_credentials and arg in _CREDENTIALS):
            values[arg] = (os.environ.get(ENV_VARS[arg]) or "").strip() or None
    from improvado_loads.client import ImprovadoClient  # the HTTP stack, only once a call is to be made

    return ImprovadoClient(
        base_url=values["base_url"] or contract.DEFAULT_BASE_URL,
        token=values["token"],
        username=values["username"],
        password=values["password"],
        workspace_id=values["workspace_id"],
    )
