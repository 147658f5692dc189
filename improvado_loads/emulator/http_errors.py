"""The contract's error bodies, and the handlers that make every error use them.

400 is ``{"detail": ..., "errors": {field: [message, ...]}}``; every other error is
``{"detail": ...}``. FastAPI's own 422 never appears: validation problems become 400.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "INVALID_INPUT",
    "NON_FIELD",
    "ApiError",
    "bad_request",
    "field_errors",
    "install_handlers",
    "not_found",
]

INVALID_INPUT = "Invalid input."
#: Key of the errors that belong to no single field.
NON_FIELD = "non_field_errors"


class ApiError(Exception):
    """An error answer: status, detail, and for 400 the field errors; ``extra`` joins the body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {"detail": self.detail}
        if self.status == 400:
            body["errors"] = self.errors or {NON_FIELD: [self.detail]}
        body.update(self.extra)
        return body


def bad_request(errors: dict[str, list[str]], detail: str = INVALID_INPUT) -> ApiError:
    """A 400 naming fields."""
    return ApiError(400, detail, errors=errors)


def not_found() -> ApiError:
    """The contract's 404."""
    return ApiError(404, "Not found.")


def field_errors(exc: pydantic.ValidationError, fields: set[str] | None = None) -> dict[str, list[str]]:
    """Pydantic's errors as ``{field: [message]}``.

    An error of the whole body is filed under the field its message starts with
    (``date_from is after ...``), else under ``non_field_errors``.
    """
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        message = str(err["msg"]).removeprefix("Value error, ")
        field = ".".join(str(p) for p in err["loc"])
        if not field:
            first = message.split(" ", 1)[0]
            field = first if fields and first in fields else NON_FIELD
        errors.setdefault(field, []).append(message)
    return errors


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        detail = "Not found."
    elif exc.status_code == 405:
        detail = f'Method "{request.method}" not allowed.'
    else:
        detail = str(exc.detail)
    error = ApiError(exc.status_code, detail, headers=dict(exc.headers) if exc.headers else None)
    return _api_error(request, error)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        message = "Malformed JSON body." if err.get("type") == "json_invalid" else str(err.get("msg", "invalid"))
        errors.setdefault(".".join(loc) or NON_FIELD, []).append(message)
    return _api_error(request, bad_request(errors))


def install_handlers(app: FastAPI) -> None:
    """Make every error answer use the contract's shapes."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
