"""Strict validation of request bodies before anything is sent."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import pydantic

from improvado_loads.errors import ConfigurationError, InvalidRequestError

R = TypeVar("R", bound=pydantic.BaseModel)


def field_errors(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> dict[str, list[str]]:
    """Pydantic's errors as ``{field: [message, ...]}``.

    A whole-body error is filed under the field its message starts with, else ``__root__``.
    """
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        field = ".".join(str(p) for p in err["loc"])
        if not field:
            first = message.split(" ", 1)[0]
            field = first if first in model.model_fields else "__root__"
        errors.setdefault(field, []).append(message)
    return errors


def validated(model: type[R], **values: Any) -> R:
    """Build a request body, or raise :class:`InvalidRequestError` naming each bad field."""
    try:
        return model.model_validate(values)
    except pydantic.ValidationError as exc:
        errors = field_errors(exc, model)
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        raise InvalidRequestError(f"invalid {model.__name__}: {summary}", errors=errors) from None


def _without_userinfo(url: str) -> str:
    """The URL with any ``user:password@`` part masked, for messages."""
    return re.sub(r"(?<=//)[^/?#]*@", "***@", url)


def checked_base_url(base_url: str) -> str:
    """The API URL when it is a usable http(s) URL; else :class:`ConfigurationError` saying why.

    The message never repeats a password the URL may hold.
    """
    shown = repr(_without_userinfo(base_url))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the API URL must start with http:// or https://, got {shown}")
    import httpx  # here, not at import: the provider validates inputs without the HTTP stack

    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        reason = str(exc) if "@" not in base_url else "it cannot be parsed"
        raise ConfigurationError(f"the API URL {shown} is malformed: {reason}") from None
    if not url.host:
        raise ConfigurationError(f"the API URL {shown} has no host")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigurationError(f"the API URL {shown} has port {url.port}: a port is from 1 to 65535")
    return base_url
