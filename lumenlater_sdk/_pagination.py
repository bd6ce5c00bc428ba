"""List results that fetch further pages on demand (``for`` / ``async for``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage", "parse_page"]

T = TypeVar("T")
Params = dict[str, Any]


def parse_page(content: bytes, item: Callable[[Any], T]) -> tuple[list[T], bool, str | None]:
    """Decode a ``{"object": "list", ...}`` body into its items, ``has_more`` and ``url``."""
    raw = json.loads(content)
    return [item(d) for d in raw.get("data") or ()], bool(raw.get("has_more")), raw.get("url")


def _next_params(params: Params, data: list[Any]) -> Params | None:
    """Cursor for the following page, walking the direction the caller started in."""
    if not data:
        return None
    backwards = params.get("ending_before") is not None and params.get("starting_after") is None
    edge = getattr(data[0] if backwards else data[-1], "id", None)
    if not edge:
        return None
    nxt = {k: v for k, v in params.items() if k not in ("starting_after", "ending_before")}
    nxt["ending_before" if backwards else "starting_after"] = edge
    return nxt


class SyncPage(Generic[T]):
    """One page of a list; iterating it yields every item, fetching later pages lazily.

    ``data`` and ``has_more`` describe this page only.
    """

    def __init__(
        self,
        data: list[T],
        has_more: bool,
        url: str | None,
        params: Params,
        fetch: Callable[[Params], SyncPage[T]],
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.url = url
        self._params = params
        self._fetch = fetch

    def has_next_page(self) -> bool:
        """Whether :meth:`next_page` would return a page."""
        return self.has_more and _next_params(self._params, self.data) is not None

    def next_page(self) -> SyncPage[T] | None:
        """Fetch the following page, or ``None`` after the last one."""
        nxt = _next_params(self._params, self.data) if self.has_more else None
        return None if nxt is None else self._fetch(nxt)

    def __iter__(self) -> Iterator[T]:
        page: SyncPage[T] | None = self
        while page is not None:
            yield from page.data
            page = page.next_page()

    def __repr__(self) -> str:
        return f"<SyncPage items={len(self.data)} has_more={self.has_more}>"


class AsyncPage(Generic[T]):
    """One page of a list; ``async for`` yields every item, fetching later pages lazily."""

    def __init__(
        self,
        data: list[T],
        has_more: bool,
        url: str | None,
        params: Params,
        fetch: Callable[[Params], Awaitable[AsyncPage[T]]],
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.url = url
        self._params = params
        self._fetch = fetch

    def has_next_page(self) -> bool:
        """Whether :meth:`next_page` would return a page."""
        return self.has_more and _next_params(self._params, self.data) is not None

    async def next_page(self) -> AsyncPage[T] | None:
        """Fetch the following page, or ``None`` after the last one."""
        nxt = _next_params(self._params, self.data) if self.has_more else None
        return None if nxt is None else await self._fetch(nxt)

    async def __aiter__(self) -> AsyncIterator[T]:
        page: AsyncPage[T] | None = self
        while page is not None:
            for item in page.data:
                yield item
            page = await page.next_page()

    def __repr__(self) -> str:
        return f"<AsyncPage items={len(self.data)} has_more={self.has_more}>"


class AsyncPaginator(Generic[T]):
    """What an async ``list()`` returns: ``await`` it for the first :class:`AsyncPage`,
    or ``async for`` over it directly for every item."""

    def __init__(self, params: Params, fetch: Callable[[Params], Awaitable[AsyncPage[T]]]) -> None:
        self._params = params
        self._fetch = fetch

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch(self._params).__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._fetch(self._params)
        async for item in page:
            yield item
