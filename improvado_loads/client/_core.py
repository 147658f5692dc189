"""The HTTP core shared by every API resource: one pool, timeouts, retries, errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from improvado_loads import contract
from improvado_loads.client.auth import WorkspaceAuth
from improvado_loads.client.retry import (
    NOT_SENT_ERRORS,
    RETRY_STATUSES,
    RetryableResponse,
    RetryPolicy,
    certificate_rejected,
    refused,
)
from improvado_loads.client.secrets import scrub
from improvado_loads.client.throttle import RateGate
from improvado_loads.client.tls import DeferredCAContext
from improvado_loads.errors import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    ImprovadoError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TableInUseError,
)

logger = logging.getLogger("improvado_loads")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class HTTPCore:
    """Sends requests to the API and turns every failure into a typed error."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: WorkspaceAuth,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._auth = auth
        #: Shared by every request of this client: a 429's Retry-After pauses them all.
        self.gate = RateGate(max_pause=self.retry.retry_after_max)
        # Certificates verified against httpx's default CAs, loaded at the first TLS handshake:
        # a client of a plain http:// URL (the emulator) never reads them.
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            verify=DeferredCAContext(),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "improvado-loads"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
        recover: Callable[[], Any] | None = None,
        gone_is_done: bool = False,
    ) -> Any:
        """Send one request (see :meth:`_request`); no error it raises shows a credential."""
        try:
            return self._request(
                method, url, json=json, params=params, idempotent=idempotent, recover=recover,
                gone_is_done=gone_is_done,
            )
        except ImprovadoError as exc:
            forms = self._auth.secret_forms()
            text = f"{exc.message}\n{exc.body!r}\n{exc.__cause__!r}\n{exc.__context__!r}"
            if any(form in text for form in forms):
                exc.message = scrub(exc.message, forms)
                exc.args = (exc.message,)
                exc.body = scrub(str(exc.body), forms) if exc.body is not None else None
                # The original exception (httpx quoting a header) goes: neither cause nor context.
                exc.__cause__ = exc.__context__ = None
                exc.__suppress_context__ = True
            raise

    def _request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
        recover: Callable[[], Any] | None = None,
        gone_is_done: bool = False,
    ) -> Any:
        """Send one request (with retries) and return its decoded JSON body, or None.

        After an attempt whose outcome is unknown (its answer was lost, or a
        5xx), the request is never resent blindly when ``recover`` is given:
        ``recover()`` looks whether it took effect and returns the result if so
        (else None, and the request is sent again); a 409 after such an attempt
        is recovered the same way (the conflict is with our own first attempt).
        With ``gone_is_done`` (a delete), a 404 after such an attempt means the
        first attempt did it: the request is done.
        """
        path = httpx.URL(url).path if url.startswith("http") else url
        lost = False
        retrying = self.retry.retrying(idempotent=idempotent, recoverable=recover is not None)
        try:
            for attempt in retrying:
                with attempt:
                    if lost and recover is not None:
                        found = recover()
                        if found is not None:
                            return found
                    try:
                        self.gate.pass_()
                        response = self._http.request(method, url, json=json, params=params)
                    except httpx.TransportError as exc:
                        lost = lost or not isinstance(exc, NOT_SENT_ERRORS)
                        raise
                    except RetryableResponse as exc:  # the token exchange was throttled or failed
                        if exc.response.status_code == 429:
                            self.gate.hold(exc.retry_after or 0.0)
                        raise
                    if lost and gone_is_done and response.status_code == 404:
                        logger.info("%s %s: 404 after a lost answer; the first attempt did it", method, path)
                        return None
                    if lost and recover is not None and response.status_code == 409:
                        found = recover()
                        if found is not None:
                            return found
                    if response.status_code == 429:
                        self.gate.hold(RetryableResponse(response).retry_after or 0.0)
                    if response.status_code in RETRY_STATUSES:
                        lost = lost or response.status_code >= 500
                        raise RetryableResponse(response)
        except RetryableResponse as exc:
            response = exc.response
            if not exc.sent:  # the budget ran out on the token exchange, not on the request
                method, path = response.request.method, response.request.url.path
        except httpx.TransportError as exc:
            if refused(exc):
                raise APIConnectionError(
                    f"{method} {path}: cannot connect to {self.base_url}: connection refused "
                    "(nothing listens there: is the API URL right and the service running?)",
                    method=method,
                    path=path,
                    refused=True,
                ) from exc
            rejected = certificate_rejected(exc)
            if rejected is not None:
                raise APIConnectionError(
                    f"{method} {path}: the TLS certificate of {self.base_url} is not trusted "
                    f"({rejected.verify_message or rejected.reason}); if it is signed by your own CA, "
                    "set SSL_CERT_FILE to that CA's certificate",
                    method=method,
                    path=path,
                    untrusted_certificate=True,
                ) from exc
            if isinstance(exc, httpx.ConnectTimeout):
                tries = int(retrying.statistics.get("attempt_number", 1))
                each = self._http.timeout.connect
                raise APIConnectionError(
                    f"{method} {path}: cannot connect to {self.base_url}: the host did not answer within "
                    + (f"the connect timeout ({each:g} s)" if each is not None else "the system's connect timeout")
                    + f", after {tries} attempt{'s' if tries > 1 else ''} "
                    "(is the API URL right and the host reachable from here?)",
                    method=method,
                    path=path,
                    unreachable=True,
                ) from exc
            raise APIConnectionError(
                f"{method} {path}: no complete answer from {self.base_url} ({type(exc).__name__}: {exc})",
                method=method,
                path=path,
            ) from exc
        if response.is_success:
            return response.json() if response.content else None
        raise error_for(method, path, response)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        for key in contract.ERROR_DETAIL_KEYS:
            if body.get(key):
                return str(body[key])
        return ""
    return str(body or "").strip()


def _field_errors(body: Any) -> dict[str, list[str]]:
    raw = body.get(contract.ERROR_FIELDS_KEY) if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return {}
    return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


def error_for(method: str, path: str, response: httpx.Response) -> ImprovadoError:
    """The typed error for a failed answer; its message says what was asked and answered."""
    status = response.status_code
    body = _body(response)
    detail = _detail(body)
    fields = _field_errors(body)
    message = f"{method} {path} failed with {status} {response.reason_phrase}"
    if detail:
        message += f": {detail}"
    if fields:
        message += " (" + "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()) + ")"
    common: dict[str, Any] = {"method": method, "path": path, "status_code": status, "body": body}
    if status == 400 or status == 422:
        return InvalidRequestError(message, errors=fields, **common)
    if status == 401:
        return AuthenticationError(message + " — check the token or credentials", **common)
    if status == 403:
        return PermissionDeniedError(message, **common)
    if status == 404:
        return NotFoundError(message, **common)
    if status == 409:
        existing = body.get(contract.CONFLICT_LOAD_ID_KEY) if isinstance(body, dict) else None
        code = body.get(contract.CONFLICT_CODE_KEY) if isinstance(body, dict) else None
        kind = TableInUseError if code == contract.TABLE_IN_USE_CODE else ConflictError
        return kind(message, existing_load_id=int(existing) if existing else None, **common)
    if status == 429:
        retry_after = RetryableResponse(response).retry_after
        return RateLimitedError(message, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(message, **common)
    return ImprovadoError(message, **common)
