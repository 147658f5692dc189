"""The token exchange's bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from improvado_loads.models.base import Id, RequestBody, ResponseBody

__all__ = ["Token", "TokenRequest"]


class Token(ResponseBody):
    """A workspace-scoped access token."""

    token: str = Field(repr=False)
    expires_at: datetime | None = None


class TokenRequest(RequestBody):
    """Body of ``POST /token`` (sent with Basic credentials)."""

    workspace_id: Id
