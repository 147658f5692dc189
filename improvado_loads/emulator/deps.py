"""Request dependencies shared by the routes: the emulator, the JSON body, the workspace."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Path, Request

from improvado_loads import contract
from improvado_loads.emulator.auth import TokenError
from improvado_loads.emulator.core import Emulator
from improvado_loads.emulator.http_errors import ApiError
from improvado_loads.emulator.inputs import parse_json
from improvado_loads.emulator.journal import note_workspace

__all__ = ["EmulatorDep", "JsonBody", "PathId", "WorkspaceId", "current_workspace", "emulator_of", "json_body"]


def emulator_of(request: Request) -> Emulator:
    """The emulator serving this request."""
    return cast(Emulator, request.app.state.emulator)


EmulatorDep = Annotated[Emulator, Depends(emulator_of)]

#: An id in a path: 1..``contract.MAX_ID``, else a 400 naming the parameter.
PathId = Annotated[int, Path(ge=1, le=contract.MAX_ID)]


async def json_body(request: Request) -> Any:
    """The decoded JSON body; None when empty; 400 when malformed or nested too deeply."""
    return parse_json(await request.body())


JsonBody = Annotated[Any, Depends(json_body)]


def current_workspace(request: Request, emulator: EmulatorDep) -> int:
    """The workspace of the request's bearer token (401 when missing, wrong or expired)."""
    header = request.headers.get("authorization")
    failure: TokenError | None = None
    with emulator.store.session() as session:
        try:
            workspace_id = emulator.tokens.workspace_of(session, header)
        except TokenError as exc:
            failure = exc
    if failure is not None:
        raise ApiError(401, str(failure), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    note_workspace(request.scope, workspace_id)
    return workspace_id


WorkspaceId = Annotated[int, Depends(current_workspace)]
