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
import math
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.orm import Session

from improvado_loads import contract
from improvado_loads.emulator.clock import iso_utc
from improvado_loads.emulator.store import TokenRow

__all__ = ["STATIC_TOKEN_WORKSPACE", "LoginThrottle", "TokenError", "Tokens", "basic_credentials"]

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


class LoginThrottle:
    """Counts failed token exchanges per client address and slows a guesser down.

    After ``contract.TOKEN_FAILURES_ALLOWED`` failures within
    ``contract.TOKEN_FAILURE_WINDOW_SECONDS``, :meth:`retry_after` says how many
    seconds the client must wait; a success clears its count.
    """

    def __init__(
        self,
        allowed: int = contract.TOKEN_FAILURES_ALLOWED,
        window: float = contract.TOKEN_FAILURE_WINDOW_SECONDS,
    ) -> None:
        self._allowed = allowed
        self._window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int | None:
        """Whole seconds the client must wait before trying again, or None when it may try now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self._allowed:
                return None
            return max(1, math.ceil(failures[-self._allowed] + self._window - now))

    def failed(self, client: str) -> None:
        """Record a failed attempt."""
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # bounded memory: forget clients with nothing recent
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]

    def succeeded(self, client: str) -> None:
        """Forget the client's failures."""
        with self._lock:
            self._failures.pop(client, None)
