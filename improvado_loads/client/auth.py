"""Authentication: a workspace bearer token, given or exchanged for Basic credentials."""

from __future__ import annotations

import threading
from collections.abc import Generator

import httpx

from improvado_loads import contract
from improvado_loads.client.retry import RETRY_STATUSES, RetryableResponse
from improvado_loads.client.secrets import clean_credential, secret_forms
from improvado_loads.errors import AuthenticationError, ConfigurationError, PermissionDeniedError
from improvado_loads.models import Token


class WorkspaceAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` to each request.

    Given a token, it is used as is. Given username, password and workspace id,
    they are exchanged for a token via ``POST /api/v3/token`` on first use and
    again after a 401 (tokens expire after 30 minutes without use).
    """

    requires_response_body = True

    def __init__(
        self,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        workspace_id: int | None = None,
    ) -> None:
        token = clean_credential("token", token)
        username = clean_credential("username", username)
        password = clean_credential("password", password)
        self._can_exchange = bool(username and password and workspace_id is not None)
        if not token and not self._can_exchange:
            raise ConfigurationError(
                "no Improvado credentials: give a token, or a username, password and workspace id "
                "(IMPROVADO_API_TOKEN, or IMPROVADO_USERNAME, IMPROVADO_PASSWORD and IMPROVADO_WORKSPACE_ID)"
            )
        self._token = token
        self._given = (token, username, password)
        self._basic = httpx.BasicAuth(username or "", password or "") if self._can_exchange else None
        self._workspace_id = workspace_id
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WorkspaceAuth(workspace_id={self._workspace_id!r}, token=***)"

    def secret_forms(self) -> list[str]:
        """Every form of the credentials (and of the current token) that a message must not show."""
        token, username, password = self._given
        basic = (username, password) if username and password else None
        return secret_forms(token, self._token, password, basic=basic)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            yield from self._exchange(request)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and self._can_exchange:
            yield from self._exchange(request)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _exchange(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Trade the Basic credentials for a fresh workspace token."""
        assert self._basic is not None
        token_request = httpx.Request(
            "POST",
            request.url.copy_with(path=contract.TOKEN_PATH, query=None),
            json={"workspace_id": self._workspace_id},
        )
        token_request = next(self._basic.sync_auth_flow(token_request))
        response = yield token_request
        if response.status_code in RETRY_STATUSES:
            # Throttled (429 with Retry-After) or a 5xx: not a verdict on the credentials.
            # The client's retry loop waits and sends the request (and so this exchange) again.
            raise RetryableResponse(response, sent=False)
        if response.status_code != 200:
            error, reason = {
                401: (AuthenticationError, "the username or password was refused"),
                403: (PermissionDeniedError, f"these credentials may not use workspace {self._workspace_id}"),
            }.get(response.status_code, (AuthenticationError, "could not obtain a workspace token"))
            raise error(
                f"POST {contract.TOKEN_PATH} (workspace {self._workspace_id}) failed with "
                f"{response.status_code}: {reason}",
                method="POST",
                path=contract.TOKEN_PATH,
                status_code=response.status_code,
            )
        with self._lock:
            self._token = Token.model_validate(response.json()).token
