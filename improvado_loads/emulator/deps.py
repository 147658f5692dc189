"""Request dependencies shared by the routes: the emulator, the JSON body, the workspace."""

from __future__ import annotations

import json
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from improvado_loads.emulator.auth import TokenError
from improvado_loads.emulator.core import Emulator
from improvado_loads.emulator.http_errors import ApiError, bad_request
from improvado_loads.emulator.journal import note_workspace

__all__ = ["EmulatorDep", "JsonBody", "WorkspaceId", "current_workspace", "emulator_of", "json_body"]


def emulator_of(request: Request) -> Emulator:
    """The emulator serving this request."""
    return cast(Emulator, request.app.state.emulator)


EmulatorDep = Annotated[Emulator, Depends(emulator_of)]


async def json_body(request: Request) -> Any:
    """The decoded JSON body; None when empty; 400 when malformed."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request({"non_field_errors": [f"JSON parse error: {exc}"]}, detail="Malformed JSON body.") from None


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
