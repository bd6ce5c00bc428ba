"""One test body for both clients: the ``api`` fixture runs each test over LumenLater and
AsyncLumenLater against an ``httpx.MockTransport`` that records every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from client_support import Api, Server


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
async def api(kind: str, server: Server) -> AsyncIterator[Api]:
    a = Api(kind, server)
    yield a
    if kind == "sync":
        a.http.close()
    else:
        await a.http.aclose()


@pytest.fixture
def make_api(kind: str, server: Server) -> Iterator[Callable[..., Api]]:
    """An ``Api`` with other client settings (e.g. ``max_retries``)."""
    made: list[Api] = []

    def make(**kw: Any) -> Api:
        made.append(Api(kind, server, **kw))
        return made[-1]

    yield make
