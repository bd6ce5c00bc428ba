"""For plugins and platforms built on the SDK: ``with_options(api_key=...)`` acting for many
merchants over one connection pool (a real sandbox, SQLite and PostgreSQL), and
``app_info=`` in the User-Agent."""

from __future__ import annotations

import platform
from typing import Any

import httpx
import pytest
from client_support import API_KEY, Api, Server

from lumenlater_sdk import AsyncLumenLater, AuthenticationError, LumenLater, __version__


@pytest.fixture(params=["sqlite", "postgresql"])
def any_sandbox(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sandbox" if request.param == "sqlite" else "sandbox_pg")


def test_with_options_api_key_acts_for_another_merchant_over_one_pool(any_sandbox: Any) -> None:
    other = any_sandbox.create_merchant("Other Shop")
    seen: list[tuple[str, object]] = []

    def record(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        seen.append(
            (response.request.headers["authorization"], stream.get_extra_info("client_addr"))
        )

    with httpx.Client(event_hooks={"response": [record]}) as http:
        platform_client = LumenLater(
            api_key=any_sandbox.secret_key, base_url=any_sandbox.base_url, http_client=http
        )
        theirs = platform_client.with_options(api_key=other.secret_key)
        names = [
            platform_client.account.retrieve().business_name,
            theirs.account.retrieve().business_name,
            platform_client.account.retrieve().business_name,
        ]
    assert names == ["Sandbox Shop", "Other Shop", "Sandbox Shop"]
    keys = [auth for auth, _ in seen]
    assert keys == [f"Bearer {k}" for k in (any_sandbox.secret_key, other.secret_key,
                                              any_sandbox.secret_key)]  # fmt: skip
    # One keep-alive connection carried all three calls, whichever merchant they were for.
    assert len({addr for _, addr in seen}) == 1


def test_with_options_shares_the_owned_pool_and_leaves_it_to_the_original(sandbox: Any) -> None:
    other = sandbox.create_merchant("Other Shop")
    original = LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url)
    child = original.with_options(api_key=other.secret_key, timeout=5.0)
    assert child._core.http is original._core.http
    assert (child.timeout, original.timeout) == (5.0, 30.0)
    child.close()  # not the child's pool to close
    assert child.account.retrieve().business_name == "Other Shop"
    assert original.account.retrieve().business_name == "Sandbox Shop"
    original.close()
    with pytest.raises(RuntimeError):  # httpx refuses a closed client
        child.account.retrieve()


async def test_async_with_options_api_key(sandbox: Any) -> None:
    other = sandbox.create_merchant("Other Shop")
    async with AsyncLumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as ll:
        theirs = ll.with_options(api_key=other.secret_key)
        assert theirs._core.http is ll._core.http
        assert (await theirs.account.retrieve()).business_name == "Other Shop"
        assert (await ll.account.retrieve()).business_name == "Sandbox Shop"
        wrong = ll.with_options(api_key="sk_test_not_a_real_key")
        with pytest.raises(AuthenticationError):
            await wrong.account.retrieve()


@pytest.mark.parametrize("cls", [LumenLater, AsyncLumenLater])
def test_with_options_api_key_drops_the_other_merchants_signer(cls: type) -> None:
    def sign(payload: bytes) -> bytes:
        return b"\0" * 64

    def sign_other(payload: bytes) -> bytes:
        return b"\1" * 64

    ll = cls(api_key=API_KEY, stellar_signer=sign)
    assert ll.with_options(timeout=3.0)._core.signer is ll._core.signer
    assert ll.with_options(api_key="sk_test_other")._core.signer is None
    mine = ll.with_options(api_key="sk_test_other", stellar_signer=sign_other)._core.signer
    assert mine is not None and mine.sign(b"x" * 32) == b"\1" * 64
    for bad in ("", "sk_test with space", "sk_test_\n", 42):
        with pytest.raises(ValueError):
            ll.with_options(api_key=bad)


async def test_with_options_api_key_on_the_wire(api: Api, server: Server) -> None:
    other = api.client.with_options(api_key="sk_test_other_merchant")
    await api(lambda c: other.bills.retrieve("bill_1"))
    await api(lambda c: other.bills.cancel("bill_1"))
    await api(lambda c: c.bills.cancel("bill_1"))
    get, post, mine = server.requests
    assert get.headers["authorization"] == post.headers["authorization"]
    assert post.headers["authorization"] == "Bearer sk_test_other_merchant"
    assert mine.headers["authorization"] == f"Bearer {API_KEY}"
    assert get.headers["user-agent"] == mine.headers["user-agent"]


# --- app_info ------------------------------------------------------------------------

BASE_UA = f"lumenlater-python/{__version__} python/{platform.python_version()}"


@pytest.mark.parametrize(
    ("info", "suffix"),
    [
        ({"name": "WooBridge", "version": "1.2.0", "url": "https://woo.example"},
         " WooBridge/1.2.0 (https://woo.example)"),
        ({"name": "WooBridge", "version": "1.2.0"}, " WooBridge/1.2.0"),
        ({"name": "WooBridge"}, " WooBridge"),
        ({"name": "WooBridge", "version": None, "url": "https://woo.example/p?x=1"},
         " WooBridge (https://woo.example/p?x=1)"),
    ],
)  # fmt: skip
async def test_app_info_is_appended_to_the_user_agent(
    kind: str, server: Server, info: dict[str, Any], suffix: str
) -> None:
    api = Api(kind, server, app_info=info)
    await api(lambda c: c.bills.retrieve("bill_1"))
    await api(lambda c: c.with_options(max_retries=0).bills.cancel("bill_1"))
    for request in server.requests:
        assert request.headers["user-agent"] == BASE_UA + suffix


@pytest.mark.parametrize(
    ("info", "error", "words"),
    [
        ({}, ValueError, "needs a 'name'"),
        ({"version": "1.0"}, ValueError, "needs a 'name'"),
        ({"name": ""}, ValueError, "needs a 'name'"),
        ({"name": "A", "verison": "1"}, ValueError, "not ['verison']"),
        ({"name": "My Plugin"}, ValueError, "must not contain spaces"),
        ({"name": "A/B"}, ValueError, "must not contain"),
        ({"name": "A", "url": "https://x.example (evil)"}, ValueError, "must not contain"),
        ({"name": "A\r\nX-Injected: 1"}, ValueError, "printable ASCII"),
        ({"name": "Ünï"}, ValueError, "printable ASCII"),
        ({"name": 3}, TypeError, "must be a string"),
        ("WooBridge", TypeError, "must be a dict"),
    ],
)
@pytest.mark.parametrize("cls", [LumenLater, AsyncLumenLater])
def test_app_info_is_checked_when_the_client_is_made(
    cls: type, info: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("[", r"\[").replace("(", r"\(")):
        cls(api_key=API_KEY, app_info=info)
