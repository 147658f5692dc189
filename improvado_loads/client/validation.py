"""Strict validation of request bodies before anything is sent."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from improvado_loads.errors import InvalidRequestError

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
