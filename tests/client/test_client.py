"""Client construction, lifecycle, public surface and sync/async parity."""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from client_support import CUSTOMER, Server

import lumenlater_sdk
import lumenlater_sdk.checkout
from lumenlater_sdk import AsyncLumenLater, LumenLater, LumenLaterError, resources
from lumenlater_sdk._pagination import AsyncPaginator


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUMENLATER_API_KEY", raising=False)
    for cls in (LumenLater, AsyncLumenLater):
        with pytest.raises(LumenLaterError, match="LUMENLATER_API_KEY"):
            cls()


def test_environment_fallbacks_and_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMENLATER_API_KEY", "sk_test_env")
    monkeypatch.delenv("LUMENLATER_BASE_URL", raising=False)
    assert LumenLater().base_url == "http://127.0.0.1:8787"
    monkeypatch.setenv("LUMENLATER_BASE_URL", "https://api.example/")
    client = AsyncLumenLater()
    assert client.base_url == "https://api.example"
    assert LumenLater(api_key="sk_test_arg", base_url="http://x").base_url == "http://x"
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"object": "account", "id": "G", "status": "approved"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        LumenLater(http_client=http).account.retrieve()
        LumenLater(api_key="sk_test_arg", http_client=http).account.retrieve()
    assert [r.headers["authorization"] for r in sent] == [
        "Bearer sk_test_env",
        "Bearer sk_test_arg",
    ]
    assert [str(r.url) for r in sent] == ["https://api.example/v1/account"] * 2


@pytest.mark.parametrize("kw", [{"timeout": 0}, {"timeout": -1.0}, {"max_retries": -1},
                                {"max_retries": 1.5}])  # fmt: skip
def test_bad_settings_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LumenLater(api_key="sk_test_x", **kw)  # type: ignore[arg-type]


def test_wrong_http_client_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="AsyncClient"):
        AsyncLumenLater(api_key="sk_test_x", http_client=httpx.Client())
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        LumenLater(api_key="sk_test_x", http_client=object())


def test_context_manager_closes_only_an_owned_pool() -> None:
    with LumenLater(api_key="sk_test_x") as owned:
        derived = owned.with_options(max_retries=0)
        derived.close()  # shares the pool: must not close it
        assert not owned._core.http._client.is_closed
    assert owned._core.http._client.is_closed

    injected = httpx.Client()
    with LumenLater(api_key="sk_test_x", http_client=injected):
        pass
    assert not injected.is_closed
    injected.close()


async def test_async_context_manager_closes_only_an_owned_pool() -> None:
    async with AsyncLumenLater(api_key="sk_test_x") as owned:
        pass
    assert owned._core.http._client.is_closed
    injected = httpx.AsyncClient()
    async with AsyncLumenLater(api_key="sk_test_x", http_client=injected):
        pass
    assert not injected.is_closed
    await injected.aclose()


def test_one_client_serves_many_threads() -> None:
    server = Server()
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            return server(request)

    client = LumenLater(
        api_key="sk_test_x", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with ThreadPoolExecutor(8) as pool:
        bills = list(
            pool.map(lambda i: client.bills.create(customer=CUSTOMER, amount=i), range(1, 65))
        )
    assert len(bills) == 64
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(keys) == 64


# --- sync/async parity -------------------------------------------------------------------


def _resource_pairs() -> list[tuple[type, type]]:
    pairs = []
    for name in resources.__all__:
        if not name.startswith("Async"):
            pairs.append((getattr(resources, name), getattr(resources, "Async" + name)))
    return pairs


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        n: inspect.signature(f)
        for n, f in inspect.getmembers(cls, inspect.isfunction)
        if not n.startswith("_")
    }


def _params(sig: inspect.Signature) -> list[tuple[str, object, object, object]]:
    return [(p.name, p.kind, p.default, p.annotation) for p in sig.parameters.values()]


def test_every_resource_has_an_async_twin() -> None:
    names = set(resources.__all__)
    sync_names = {n for n in names if not n.startswith("Async")}
    assert {"Async" + n for n in sync_names} == names - sync_names
    assert len(sync_names) >= 12


@pytest.mark.parametrize(("sync_cls", "async_cls"), _resource_pairs(),
                         ids=[p[0].__name__ for p in _resource_pairs()])  # fmt: skip
def test_sync_and_async_resources_have_identical_signatures(
    sync_cls: type, async_cls: type
) -> None:
    sync_methods = _public_methods(sync_cls)
    async_methods = _public_methods(async_cls)
    assert sync_methods.keys() == async_methods.keys()
    for name, sig in sync_methods.items():
        assert _params(sig) == _params(async_methods[name]), name
        afn = getattr(async_cls, name)
        returns_paginator = str(async_methods[name].return_annotation).startswith("AsyncPaginator")
        assert inspect.iscoroutinefunction(afn) or returns_paginator, name
        assert not inspect.iscoroutinefunction(getattr(sync_cls, name)), name
    # Sub-resources (client.checkout.sessions, client.test_helpers.clock, ...) match too.
    assert getattr(sync_cls, "__slots__", ()) == getattr(async_cls, "__slots__", ())


def test_clients_expose_the_same_resources() -> None:
    sync = LumenLater(api_key="sk_test_x")
    asyn = AsyncLumenLater(api_key="sk_test_x")
    attrs = ["bills", "checkout", "analytics", "events", "webhook_endpoints", "account",
             "chain", "test_helpers"]  # fmt: skip
    for a in attrs:
        assert "Async" + type(getattr(sync, a)).__name__ == type(getattr(asyn, a)).__name__
    # Same constructor parameters (only the injected sleep's type differs).
    sync_init = [p[:3] for p in _params(inspect.signature(LumenLater))]
    assert sync_init == [p[:3] for p in _params(inspect.signature(AsyncLumenLater))]
    assert {n for n in dir(LumenLater) if not n.startswith("_")} == {
        n for n in dir(AsyncLumenLater) if not n.startswith("_")
    }
    sync.close()


def test_async_list_result_is_awaitable_and_async_iterable() -> None:
    assert hasattr(AsyncPaginator, "__await__") and hasattr(AsyncPaginator, "__aiter__")


# --- public surface ----------------------------------------------------------------------


def _isort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("module", [lumenlater_sdk, lumenlater_sdk.resources,
                                    lumenlater_sdk.checkout])  # fmt: skip
def test_all_is_sorted_unique_public_and_importable(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names, key=_isort_key)  # ruff RUF022's order
    assert len(names) == len(set(names))
    for n in names:
        assert hasattr(module, n), n
        assert not n.startswith("_") or n == "__version__", n


def test_top_level_exports_the_clients() -> None:
    for n in ["LumenLater", "AsyncLumenLater", "SyncPage", "AsyncPage", "usdc", "APIError"]:
        assert n in lumenlater_sdk.__all__


def test_httpx_lives_in_one_module() -> None:
    import pathlib

    root = pathlib.Path(lumenlater_sdk.__file__).parent
    mine = [
        *root.glob("_*.py"),
        *(root / "resources").glob("*.py"),
        *(root / "checkout").glob("*.py"),
    ]
    users = sorted(p.name for p in mine if "import httpx" in p.read_text())
    assert users == ["_http.py"]
