"""``page``/``page_size`` pagination: ``{"count", "next", "previous", "results"}``.

``page_size`` defaults to and is capped at the contract's 100 (more, less than
1 or not a number is a 400 naming ``page_size``). ``next``/``previous`` are
absolute URLs built from the request's own URL, filters kept. A page past the
end (or not a positive number) is a 404 ``Invalid page.``; page 1 always exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from improvado_loads import contract
from improvado_loads.emulator.http_errors import ApiError, bad_request

__all__ = ["paginate"]

T = TypeVar("T")


def _page_size(request: Request) -> int:
    raw = request.query_params.get(contract.PAGE_SIZE_PARAM)
    if raw is None:
        return contract.DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= contract.MAX_PAGE_SIZE:
        raise bad_request(
            {contract.PAGE_SIZE_PARAM: [f"Ensure this value is an integer from 1 to {contract.MAX_PAGE_SIZE}."]}
        )
    return size


def _page(request: Request) -> int:
    raw = request.query_params.get(contract.PAGE_PARAM, "1")
    try:
        page = int(raw)
    except ValueError:
        page = 0
    if page < 1:
        raise ApiError(404, "Invalid page.")
    return page


def paginate(
    session: Session, request: Request, statement: Select[T], serialize: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of ``statement`` (already ordered by id), serialized."""
    size = _page_size(request)
    page = _page(request)
    count = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, -(-count // size))
    if page > pages:
        raise ApiError(404, "Invalid page.")
    items = session.scalars(statement.offset((page - 1) * size).limit(size)).all()

    def link(number: int) -> str:
        return str(request.url.include_query_params(**{contract.PAGE_PARAM: number}))

    return {
        "count": count,
        "next": link(page + 1) if page < pages else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": [serialize(item) for item in items],
    }
