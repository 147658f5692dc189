"""Lazy iteration over ``{count, next, previous, results}`` lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from improvado_loads import contract
from improvado_loads.client._core import HTTPCore
from improvado_loads.models import Page

M = TypeVar("M", bound=BaseModel)


class PageIterator(Generic[M]):
    """Iterates over every item of a list, fetching the next page only when needed.

    ``count`` is the total the service reported, known once the first page is in.
    """

    def __init__(
        self,
        core: HTTPCore,
        path: str,
        model: type[M],
        params: dict[str, Any] | None = None,
        page_size: int = contract.DEFAULT_PAGE_SIZE,
    ) -> None:
        self._core = core
        self._path = path
        self._model = model
        self._params = {k: v for k, v in (params or {}).items() if v is not None}
        self._params[contract.PAGE_SIZE_PARAM] = page_size
        self.count: int | None = None

    def pages(self) -> Iterator[Page[M]]:
        """Each page in turn, following ``next`` as the service gives it."""
        url: str | None = self._path
        params: dict[str, Any] | None = self._params
        while url is not None:
            page = Page[self._model].model_validate(self._core.request("GET", url, params=params))  # type: ignore[name-defined]
            self.count = page.count
            yield page
            url, params = page.next, None

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            yield from page.results

    def to_list(self) -> list[M]:
        """Every item, all pages fetched."""
        return list(self)


