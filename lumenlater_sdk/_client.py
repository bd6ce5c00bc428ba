"""The two public clients: :class:`LumenLater` (blocking) and :class:`AsyncLumenLater`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._core import AsyncCore, AsyncSleep, SyncCore, SyncSleep
from ._http import AsyncHTTP, SyncHTTP
from ._logging import setup_logging
from ._options import ClientOptions
from ._signing import make_signer
from .resources import (
    Accounts,
    Analytics,
    AsyncAccounts,
    AsyncAnalytics,
    AsyncBills,
    AsyncChains,
    AsyncCheckout,
    AsyncEvents,
    AsyncTestHelpers,
    AsyncWebhookEndpoints,
    Bills,
    Chains,
    Checkout,
    Events,
    TestHelpers,
    WebhookEndpoints,
)
from .resources.api_keys import ApiKeys, AsyncApiKeys
from .resources.request_logs import AsyncRequestLogs, RequestLogs

if TYPE_CHECKING:
    from stellar_sdk import Keypair

__all__ = ["AsyncLumenLater", "LumenLater"]


class LumenLater:
    """Blocking LumenLater API client. Thread-safe; reuses connections.

    Args:
        api_key: a secret key (``sk_test_…``/``sk_live_…``); defaults to the
            ``LUMENLATER_API_KEY`` environment variable. Missing → ``LumenLaterError``.
        base_url: the API root; defaults to ``LUMENLATER_BASE_URL`` or the local
            sandbox ``http://127.0.0.1:8787``.
        timeout: seconds per attempt.
        max_retries: retries after the first attempt for retryable failures.
        http_client: an ``httpx.Client`` (``httpx.AsyncClient`` for the async client) to
            send through, e.g. with proxies or custom TLS. The SDK never closes an
            injected client.
        default_headers: extra headers sent on every request.
        app_info: for a plugin or platform built on the SDK: ``{"name": ..., "version":
            ..., "url": ...}`` (``name`` required), appended to the User-Agent as
            ``Name/version (url)`` so LumenLater can tell integrations apart.
        stellar_signer: the merchant's Stellar key, for a self-custody account (one whose
            backend holds no key): a ``stellar_sdk.Keypair`` with its secret, or any
            callable ``(payload: bytes) -> bytes`` that returns the 64-byte ed25519
            signature of the 32-byte payload (a KMS or hardware signer). With it,
            ``bills.create`` checks and signs the bill's ``create_bill`` authorization
            itself; without it, such a bill raises ``AuthorizationRequiredError``. Needs
            ``pip install 'lumenlater-sdk[stellar]'``. Never shown in a repr or log.
    """

    bills: Bills
    checkout: Checkout
    analytics: Analytics
    events: Events
    webhook_endpoints: WebhookEndpoints
    api_keys: ApiKeys
    account: Accounts
    chain: Chains
    test_helpers: TestHelpers
    request_logs: RequestLogs

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        http_client: Any = None,
        *,
        default_headers: Mapping[str, str] | None = None,
        stellar_signer: Keypair | Callable[[bytes], bytes] | None = None,
        app_info: Mapping[str, str | None] | None = None,
        _sleep: SyncSleep | None = None,
    ) -> None:
        setup_logging()
        opts = ClientOptions(api_key, base_url, timeout, max_retries, default_headers, app_info)
        signer = make_signer(stellar_signer)
        self._setup(SyncCore(opts, SyncHTTP(http_client), _sleep, signer), owns_http=True)

    def _setup(self, core: SyncCore, *, owns_http: bool) -> None:
        self._core = core
        # Clients made by with_options share the pool but must not close it.
        self._owns_http = owns_http and core.http.owned
        self.bills = Bills(core)
        self.checkout = Checkout(core)
        self.analytics = Analytics(core)
        self.events = Events(core)
        self.webhook_endpoints = WebhookEndpoints(core)
        self.api_keys = ApiKeys(core)
        self.account = Accounts(core)
        self.chain = Chains(core)
        self.test_helpers = TestHelpers(core)
        self.request_logs = RequestLogs(core)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.opts.base_url

    @property
    def timeout(self) -> float:
        """Seconds allowed per attempt."""
        return self._core.opts.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._core.opts.max_retries

    def with_options(
        self,
        *,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        stellar_signer: Keypair | Callable[[bytes], bytes] | None = None,
    ) -> LumenLater:
        """A client with other settings that shares this one's connection pool.

        ``api_key`` acts for another merchant (a platform holding many merchants'
        keys): the new client sends that key and, unless ``stellar_signer`` is given
        too, has no Stellar signer (this one's belongs to another merchant). Cheap:
        make one per merchant or per call; only the original closes the pool.
        """
        core = self._core
        new = LumenLater.__new__(LumenLater)
        opts = core.opts.replace(api_key=api_key, timeout=timeout, max_retries=max_retries)
        signer = core.signer if api_key is None else None
        if stellar_signer is not None:
            signer = make_signer(stellar_signer)
        new._setup(SyncCore(opts, core.http, core.sleep, signer), owns_http=False)
        return new

    def close(self) -> None:
        """Close the connection pool if this client created it (injected clients stay open)."""
        if self._owns_http:
            self._core.http.close()

    def __enter__(self) -> LumenLater:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LumenLater base_url={self.base_url!r}>"


class AsyncLumenLater:
    """Asyncio LumenLater API client: the same resources as :class:`LumenLater`, awaited.

    Args:
        api_key: a secret key (``sk_test_…``/``sk_live_…``); defaults to the
            ``LUMENLATER_API_KEY`` environment variable. Missing → ``LumenLaterError``.
        base_url: the API root; defaults to ``LUMENLATER_BASE_URL`` or the local
            sandbox ``http://127.0.0.1:8787``.
        timeout: seconds per attempt.
        max_retries: retries after the first attempt for retryable failures.
        http_client: an ``httpx.Client`` (``httpx.AsyncClient`` for the async client) to
            send through, e.g. with proxies or custom TLS. The SDK never closes an
            injected client.
        default_headers: extra headers sent on every request.
        app_info: for a plugin or platform built on the SDK: ``{"name": ..., "version":
            ..., "url": ...}`` (``name`` required), appended to the User-Agent as
            ``Name/version (url)`` so LumenLater can tell integrations apart.
        stellar_signer: the merchant's Stellar key, for a self-custody account (one whose
            backend holds no key): a ``stellar_sdk.Keypair`` with its secret, or any
            callable ``(payload: bytes) -> bytes`` that returns the 64-byte ed25519
            signature of the 32-byte payload (a KMS or hardware signer). With it,
            ``bills.create`` checks and signs the bill's ``create_bill`` authorization
            itself; without it, such a bill raises ``AuthorizationRequiredError``. Needs
            ``pip install 'lumenlater-sdk[stellar]'``. Never shown in a repr or log.
    """

    bills: AsyncBills
    checkout: AsyncCheckout
    analytics: AsyncAnalytics
    events: AsyncEvents
    webhook_endpoints: AsyncWebhookEndpoints
    api_keys: AsyncApiKeys
    account: AsyncAccounts
    chain: AsyncChains
    test_helpers: AsyncTestHelpers
    request_logs: AsyncRequestLogs

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        http_client: Any = None,
        *,
        default_headers: Mapping[str, str] | None = None,
        stellar_signer: Keypair | Callable[[bytes], bytes] | None = None,
        app_info: Mapping[str, str | None] | None = None,
        _sleep: AsyncSleep | None = None,
    ) -> None:
        setup_logging()
        opts = ClientOptions(api_key, base_url, timeout, max_retries, default_headers, app_info)
        signer = make_signer(stellar_signer)
        self._setup(AsyncCore(opts, AsyncHTTP(http_client), _sleep, signer), owns_http=True)

    def _setup(self, core: AsyncCore, *, owns_http: bool) -> None:
        self._core = core
        self._owns_http = owns_http and core.http.owned
        self.bills = AsyncBills(core)
        self.checkout = AsyncCheckout(core)
        self.analytics = AsyncAnalytics(core)
        self.events = AsyncEvents(core)
        self.webhook_endpoints = AsyncWebhookEndpoints(core)
        self.api_keys = AsyncApiKeys(core)
        self.account = AsyncAccounts(core)
        self.chain = AsyncChains(core)
        self.test_helpers = AsyncTestHelpers(core)
        self.request_logs = AsyncRequestLogs(core)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.opts.base_url

    @property
    def timeout(self) -> float:
        """Seconds allowed per attempt."""
        return self._core.opts.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._core.opts.max_retries

    def with_options(
        self,
        *,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        stellar_signer: Keypair | Callable[[bytes], bytes] | None = None,
    ) -> AsyncLumenLater:
        """A client with other settings that shares this one's connection pool.

        ``api_key`` acts for another merchant (a platform holding many merchants'
        keys): the new client sends that key and, unless ``stellar_signer`` is given
        too, has no Stellar signer (this one's belongs to another merchant). Cheap:
        make one per merchant or per call; only the original closes the pool.
        """
        core = self._core
        new = AsyncLumenLater.__new__(AsyncLumenLater)
        opts = core.opts.replace(api_key=api_key, timeout=timeout, max_retries=max_retries)
        signer = core.signer if api_key is None else None
        if stellar_signer is not None:
            signer = make_signer(stellar_signer)
        new._setup(AsyncCore(opts, core.http, core.sleep, signer), owns_http=False)
        return new

    async def close(self) -> None:
        """Close the connection pool if this client created it (injected clients stay open)."""
        if self._owns_http:
            await self._core.http.aclose()

    async def __aenter__(self) -> AsyncLumenLater:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncLumenLater base_url={self.base_url!r}>"
