"""The typed errors of the Improvado client.

Every error says what was asked (method and path) and what the service
answered. None of them ever carries a token or a password: messages are
built from the path, the status and the response body only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ImprovadoError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RunFailedError",
    "ServerError",
    "TableInUseError",
    "WaitTimeoutError",
]


class ImprovadoError(Exception):
    """Base of every error raised by this package's client."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.body = body

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ImprovadoError):
    """The client was not given what it needs (URL, credentials) or got bad values."""


class APIConnectionError(ImprovadoError):
    """The service could not be reached, or the connection dropped (after retries).

    ``refused`` is true when the connection was refused (nothing listens at the
    API URL), ``untrusted_certificate`` when the server's TLS certificate was not
    verified: both are said at once, without retrying. ``unreachable`` is true when
    the host never answered the connection attempts (connect timeouts, see
    :attr:`~improvado_loads.RetryPolicy.connect_timeouts`).
    """

    def __init__(
        self,
        message: str,
        *,
        refused: bool = False,
        untrusted_certificate: bool = False,
        unreachable: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.refused = refused
        self.untrusted_certificate = untrusted_certificate
        self.unreachable = unreachable


class InvalidRequestError(ImprovadoError):
    """The request was refused as invalid: locally before sending, or by a 400.

    ``errors`` maps each bad field to its messages.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors: dict[str, list[str]] = errors or {}


class AuthenticationError(ImprovadoError):
    """401: the token or the credentials are wrong or expired."""


class PermissionDeniedError(AuthenticationError):
    """403: the credentials are valid but not allowed in this workspace."""


class NotFoundError(ImprovadoError):
    """404: no such object in this workspace."""


class ConflictError(ImprovadoError):
    """409: a load with the same data table, connection and table exists.

    ``existing_load_id`` names it when the service said which.
    """

    def __init__(self, message: str, *, existing_load_id: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.existing_load_id = existing_load_id


class TableInUseError(ConflictError):
    """409 (or refused before sending): another load already targets this destination table.

    ``existing_load_id`` names that load; ``allow_shared_table=True`` allows the second load.
    """


class RateLimitedError(ImprovadoError):
    """429 after every retry; ``retry_after`` is the service's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ImprovadoError):
    """5xx after every retry."""


class WaitTimeoutError(ImprovadoError):
    """A run did not end within the time given to ``wait``."""


class RunFailedError(ImprovadoError):
    """A run ended ``failed``; ``error_text`` is the destination's own error."""

    def __init__(self, message: str, *, load_id: int, error_text: str | None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.load_id = load_id
        self.error_text = error_text
