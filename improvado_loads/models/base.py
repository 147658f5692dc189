"""What every typed body shares: the request and response bases, ids, and a page of a list."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict

from improvado_loads import contract

__all__ = ["Id", "Page", "RequestBody", "ResponseBody"]

#: An id in a request: a JSON integer from 1 to ``contract.MAX_ID`` (``true``,
#: ``1.0`` and ``"1"`` are not ids).
Id = Annotated[int, Strict(), Field(gt=0, le=contract.MAX_ID)]


class ResponseBody(BaseModel):
    """Base of the API's answers: extra fields are kept; a model is built on first use."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class RequestBody(BaseModel):
    """Base of request bodies: strict, unknown keys refused; a model is built on first use."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


T = TypeVar("T")


class Page(ResponseBody, Generic[T]):
    """One page of a list response."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]
