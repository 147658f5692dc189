"""Workspace tokens: Basic-credential exchange, bearer verification, sliding expiry.

Exchanged tokens are random, stored only as SHA-256 digests, and last
``contract.TOKEN_TTL_SECONDS`` of wall-clock time from their last use. The
settings' static token belongs to workspace 1 and never expires. Nothing here
logs or echoes a token or a password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.clock import iso_utc
from improvado_loads.emulator.store import TokenRow

__all__ = ["STATIC_TOKEN_WORKSPACE", "TokenError", "Tokens", "basic_credentials"]

STATIC_TOKEN_WORKSPACE = 1


class TokenError(Exception):
    """A bearer token was missing, unknown or expired (the message is safe to show)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) of an ``Authorization: Basic`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class Tokens:
    """Issues and verifies workspace tokens."""

    def __init__(self, *, static_token: str | None, username: str, password: str) -> None:
        self._static = static_token
        self._username = username
        self._password = password

    def credentials_ok(self, header: str | None) -> bool:
        """Whether a Basic header carries the configured username and password."""
        creds = basic_credentials(header)
        if creds is None:
            return False
        user_ok = secrets.compare_digest(creds[0].encode(), self._username.encode())
        password_ok = secrets.compare_digest(creds[1].encode(), self._password.encode())
        return user_ok and password_ok

    def issue(self, session: Session, workspace_id: int) -> tuple[str, str]:
        """A new token for the workspace, and its expiry (ISO-8601 UTC)."""
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + contract.TOKEN_TTL_SECONDS
        session.execute(delete(TokenRow).where(TokenRow.expires_at < time.time()))
        session.add(TokenRow(digest=_digest(token), workspace_id=workspace_id, expires_at=expires_at))
        return token, iso_utc(datetime.fromtimestamp(expires_at, timezone.utc))

    def workspace_of(self, session: Session, header: str | None) -> int:
        """The workspace of an ``Authorization: Bearer`` header; renews the token's lifetime."""
        if not header:
            raise TokenError("Authentication credentials were not provided.")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenError("Authentication credentials were not provided (expected a Bearer token).")
        if self._static and secrets.compare_digest(token.encode(), self._static.encode()):
            return STATIC_TOKEN_WORKSPACE
        row = session.get(TokenRow, _digest(token))
        now = time.time()
        if row is None:
            raise TokenError("Invalid token.")
        if row.expires_at < now:
            session.delete(row)
            raise TokenError("Token has expired.")
        row.expires_at = now + contract.TOKEN_TTL_SECONDS
        return row.workspace_id
