"""``http_client=`` beyond a plain httpx client: an ``httpx2`` client, and an httpx client on
the aiohttp transport (``httpx_aiohttp``), each against a real sandbox over loopback, a
refused port and a server that never answers. A transport failure must map to the same
SDK error whichever library raised it (a refused connection is not a timeout)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

if sys.version_info < (3, 11):  # pragma: no cover
    pytest.skip("httpx2 supports Python 3.11 and later", allow_module_level=True)

import httpx2
from httpx_aiohttp import AiohttpTransport

from lumenlater_sdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncLumenLater,
    LumenLater,
    NotFoundError,
)
from lumenlater_sdk._ports import free_port
from lumenlater_sdk.types import Bill

ASYNC_CLIENTS = {
    "httpx2": lambda: httpx2.AsyncClient(),
    "aiohttp-transport": lambda: httpx.AsyncClient(transport=AiohttpTransport()),
}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_an_httpx2_client_talks_to_the_sandbox(sandbox: Any) -> None:
    with httpx2.Client() as http:
        ll = LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url, http_client=http)
        with pytest.raises(NotFoundError) as info:
            ll.bills.retrieve("bill_missing")
        assert info.value.code == "resource_missing" and info.value.request_id
        bills = ll.bills.list(limit=1)
        assert all(isinstance(b, Bill) for b in bills.data)
        ll.close()
        assert not http.is_closed  # the caller's client is the caller's to close


@pytest.mark.parametrize("kind", sorted(ASYNC_CLIENTS))
async def test_an_async_client_talks_to_the_sandbox(sandbox: Any, kind: str) -> None:
    http = ASYNC_CLIENTS[kind]()
    async with http:
        ll = AsyncLumenLater(
            api_key=sandbox.secret_key, base_url=sandbox.base_url, http_client=http
        )
        with pytest.raises(NotFoundError) as info:
            await ll.bills.retrieve("bill_missing")
        assert info.value.code == "resource_missing"
        page = await ll.bills.list(limit=1)
        assert all(isinstance(b, Bill) for b in page.data)


def test_a_refused_connection_is_a_connection_error_on_httpx2() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with httpx2.Client() as http:
        ll = LumenLater(api_key="sk_test_x", base_url=base, max_retries=0, http_client=http)
        with pytest.raises(APIConnectionError) as info:
            ll.bills.retrieve("bill_1")
    assert not isinstance(info.value, APITimeoutError)


@pytest.mark.parametrize("kind", sorted(ASYNC_CLIENTS))
async def test_a_refused_connection_is_a_connection_error(kind: str) -> None:
    # httpx-aiohttp 0.2 reports this as httpx.ConnectTimeout; the SDK must not.
    base = f"http://127.0.0.1:{free_port()}"
    async with ASYNC_CLIENTS[kind]() as http:
        ll = AsyncLumenLater(api_key="sk_test_x", base_url=base, max_retries=0, http_client=http)
        with pytest.raises(APIConnectionError) as info:
            await ll.bills.retrieve("bill_1")
    assert not isinstance(info.value, APITimeoutError)
    assert "could not connect" in str(info.value)


@pytest.mark.parametrize("kind", sorted(ASYNC_CLIENTS))
async def test_no_answer_is_a_timeout(kind: str, silent_port: int) -> None:
    base = f"http://127.0.0.1:{silent_port}"
    async with ASYNC_CLIENTS[kind]() as http:
        ll = AsyncLumenLater(
            api_key="sk_test_x", base_url=base, max_retries=0, timeout=0.3, http_client=http
        )
        with pytest.raises(APITimeoutError, match="timed out"):
            await ll.bills.retrieve("bill_1")


def test_no_answer_is_a_timeout_on_httpx2(silent_port: int) -> None:
    base = f"http://127.0.0.1:{silent_port}"
    with httpx2.Client() as http:
        ll = LumenLater(
            api_key="sk_test_x", base_url=base, max_retries=0, timeout=0.3, http_client=http
        )
        with pytest.raises(APITimeoutError, match="timed out"):
            ll.bills.retrieve("bill_1")


def test_a_client_of_the_other_kind_is_still_refused() -> None:
    with pytest.raises(TypeError, match="AsyncClient"):
        AsyncLumenLater(api_key="sk_test_x", http_client=httpx2.Client())
    with pytest.raises(TypeError, match=r"httpx2\.Client"):
        LumenLater(api_key="sk_test_x", http_client=httpx2.AsyncClient())
