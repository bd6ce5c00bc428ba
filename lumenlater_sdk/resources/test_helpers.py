"""``client.test_helpers``: drive the sandbox (clock, wallets, merchants, customer actions,
events).

Test mode only: the API answers 404 to live keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core import AsyncCore, SyncCore
from .._money import check_amount
from .._pagination import AsyncPaginator, SyncPage
from ..types import Account, Bill, LumenLaterObject, TestClock, TestMerchant, Wallet, parse_event
from ._base import AsyncAPIResource, SyncAPIResource, compact, path_id
from .dashboard_links import AsyncTestDashboardLinks, TestDashboardLinks

__all__ = [
    "AsyncTestBills",
    "AsyncTestClocks",
    "AsyncTestEvents",
    "AsyncTestHelpers",
    "AsyncTestMerchants",
    "AsyncTestWallets",
    "TestBills",
    "TestClocks",
    "TestEvents",
    "TestHelpers",
    "TestMerchants",
    "TestWallets",
]

_P = "/v1/test_helpers"


def _seconds(seconds: int) -> dict[str, int]:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError(f"seconds must be an int, not {type(seconds).__name__}")
    return {"seconds": seconds}


def _wallet_body(name: str | None, collateral: int | None, external: bool) -> dict[str, object]:
    check_amount("collateral", collateral, optional=True)
    if not isinstance(external, bool):
        raise TypeError(f"external must be a bool, not {type(external).__name__}")
    return compact(name=name, collateral=collateral, external=external or None)


def _merchant_body(
    business_name: str, custody: str | None, stellar_address: str | None
) -> dict[str, object]:
    return compact(business_name=business_name, custody=custody, stellar_address=stellar_address)


def _trigger_body(type: str, overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    if overrides is None:
        return {"type": type}
    for kind, fields in overrides.items():
        check_amount(f"overrides.{kind}.amount", fields.get("amount"), optional=True)
    return {"type": type, "overrides": {k: dict(v) for k, v in overrides.items()}}


def _triggered(content: bytes) -> LumenLaterObject:
    # The sandbox answers with the event it caused; anything else is kept as a plain object.
    data = json.loads(content)
    if isinstance(data, dict) and data.get("object") == "event":
        return parse_event(data)
    return LumenLaterObject.model_validate(data)


class TestClocks(SyncAPIResource):
    """The sandbox ledger clock."""

    __test__ = False
    __slots__ = ()

    def retrieve(self) -> TestClock:
        """The sandbox's current ledger time."""
        return self._core.request("GET", f"{_P}/clock", TestClock.model_validate_json)

    def advance(self, *, seconds: int, idempotency_key: str | None = None) -> TestClock:
        """Move time forward, running whatever it triggers (expiry, overdue, liquidation)."""
        return self._core.request(
            "POST",
            f"{_P}/clock/advance",
            TestClock.model_validate_json,
            body=_seconds(seconds),
            idempotency_key=idempotency_key,
        )


class TestWallets(SyncAPIResource):
    """Funded sandbox customers (``approve``, ``decline``, ``limited`` are built in)."""

    __test__ = False
    __slots__ = ()

    def create(
        self,
        *,
        name: str | None = None,
        collateral: int | None = None,
        external: bool = False,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """A new funded customer wallet holding *collateral* LP tokens.

        *external*: the wallet signs for itself (in a browser wallet, on the hosted page's
        "Pay with your Stellar wallet"); its ``secret_seed`` is in this answer only, and the
        sandbox never signs as it."""
        return self._core.request(
            "POST",
            f"{_P}/wallets",
            Wallet.model_validate_json,
            body=_wallet_body(name, collateral, external),
            idempotency_key=idempotency_key,
        )

    def list(self) -> SyncPage[Wallet]:
        """Every sandbox wallet, the built-in ones included."""
        return self._core.page(f"{_P}/wallets", {}, Wallet.model_validate)

    def retrieve(self, id: str) -> Wallet:
        """One wallet by id or name."""
        return self._core.request("GET", f"{_P}/wallets/{path_id(id)}", Wallet.model_validate_json)


class TestBills(SyncAPIResource):
    """Act as the customer or a liquidator on a bill, without a browser."""

    __test__ = False
    __slots__ = ()

    def pay(self, id: str, *, wallet: str, idempotency_key: str | None = None) -> Bill:
        """Pay the bill with BNPL from *wallet* (a wallet id or name)."""
        return self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/pay",
            Bill.model_validate_json,
            body={"wallet": wallet},
            idempotency_key=idempotency_key,
        )

    def repay(self, id: str, *, idempotency_key: str | None = None) -> Bill:
        """Repay the bill (principal plus any late fee) as its customer."""
        return self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/repay",
            Bill.model_validate_json,
            idempotency_key=idempotency_key,
        )

    def liquidate(
        self, id: str, *, wallet: str | None = None, idempotency_key: str | None = None
    ) -> Bill:
        """Liquidate a bill 28+ days old, as *wallet* (id or name; it must hold LP tokens).

        Without a wallet the sandbox's own liquidity provider liquidates.
        """
        return self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/liquidate",
            Bill.model_validate_json,
            body=compact(wallet=wallet),
            idempotency_key=idempotency_key,
        )


class TestEvents(SyncAPIResource):
    """Make the sandbox produce events."""

    __test__ = False
    __slots__ = ()

    def trigger(
        self,
        *,
        type: str,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> LumenLaterObject:
        """Create whatever objects cause an event of *type*; returns that event when given.

        *overrides* sets fields of the object made, by its kind: ``{"bill": {"amount":
        usdc("50"), "metadata": {"k": "v"}}}`` (``bill`` or ``checkout_session``; fields
        ``amount``, ``order_id``, ``description``, ``metadata``)."""
        return self._core.request(
            "POST",
            f"{_P}/events/trigger",
            _triggered,
            body=_trigger_body(type, overrides),
            idempotency_key=idempotency_key,
        )


class TestMerchants(SyncAPIResource):
    """More sandbox merchants, and the protocol admin's approval of a self-custody one."""

    __test__ = False
    __slots__ = ()

    def create(
        self,
        *,
        business_name: str,
        custody: str | None = None,
        stellar_address: str | None = None,
        idempotency_key: str | None = None,
    ) -> TestMerchant:
        """A new sandbox merchant with its API keys (shown this once).

        ``custody="managed"`` (the default): the backend makes and keeps its key and it is
        approved at once. ``custody="self"`` with *stellar_address* (the ``G…`` address of
        a key you keep): status ``pending``; it enrolls with
        ``LumenLater(api_key=merchant.secret_key, stellar_signer=...).account.enroll()``
        and is then approved with :meth:`approve`.
        """
        return self._core.request(
            "POST",
            f"{_P}/merchants",
            TestMerchant.model_validate_json,
            body=_merchant_body(business_name, custody, stellar_address),
            idempotency_key=idempotency_key,
        )

    def approve(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Approve the enrolled merchant *id* (its ``G…`` address) as the protocol admin;
        its account then (``merchant.approved`` reaches that merchant)."""
        return self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/approve",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )

    def suspend(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Suspend the merchant *id* as the protocol admin (it can no longer create bills);
        its account then (``merchant.suspended`` reaches that merchant)."""
        return self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/suspend",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )

    def reject(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Reject the enrolled merchant *id* as the protocol admin; its account then
        (``merchant.rejected`` reaches that merchant)."""
        return self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/reject",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )


class TestHelpers(SyncAPIResource):
    """``client.test_helpers``: :attr:`clock`, :attr:`wallets`, :attr:`merchants`,
    :attr:`bills`, :attr:`events`."""

    __test__ = False
    __slots__ = ("bills", "clock", "dashboard_links", "events", "merchants", "wallets")

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core)
        self.dashboard_links = TestDashboardLinks(core)
        self.clock = TestClocks(core)
        self.wallets = TestWallets(core)
        self.merchants = TestMerchants(core)
        self.bills = TestBills(core)
        self.events = TestEvents(core)


class AsyncTestClocks(AsyncAPIResource):
    """The sandbox ledger clock."""

    __slots__ = ()

    async def retrieve(self) -> TestClock:
        """The sandbox's current ledger time."""
        return await self._core.request("GET", f"{_P}/clock", TestClock.model_validate_json)

    async def advance(self, *, seconds: int, idempotency_key: str | None = None) -> TestClock:
        """Move time forward, running whatever it triggers (expiry, overdue, liquidation)."""
        return await self._core.request(
            "POST",
            f"{_P}/clock/advance",
            TestClock.model_validate_json,
            body=_seconds(seconds),
            idempotency_key=idempotency_key,
        )


class AsyncTestWallets(AsyncAPIResource):
    """Funded sandbox customers (``approve``, ``decline``, ``limited`` are built in)."""

    __slots__ = ()

    async def create(
        self,
        *,
        name: str | None = None,
        collateral: int | None = None,
        external: bool = False,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """A new funded customer wallet holding *collateral* LP tokens.

        *external*: the wallet signs for itself (in a browser wallet, on the hosted page's
        "Pay with your Stellar wallet"); its ``secret_seed`` is in this answer only, and the
        sandbox never signs as it."""
        return await self._core.request(
            "POST",
            f"{_P}/wallets",
            Wallet.model_validate_json,
            body=_wallet_body(name, collateral, external),
            idempotency_key=idempotency_key,
        )

    def list(self) -> AsyncPaginator[Wallet]:
        """Every sandbox wallet, the built-in ones included."""
        return self._core.paginator(f"{_P}/wallets", {}, Wallet.model_validate)

    async def retrieve(self, id: str) -> Wallet:
        """One wallet by id or name."""
        return await self._core.request(
            "GET", f"{_P}/wallets/{path_id(id)}", Wallet.model_validate_json
        )


class AsyncTestBills(AsyncAPIResource):
    """Act as the customer or a liquidator on a bill, without a browser."""

    __slots__ = ()

    async def pay(self, id: str, *, wallet: str, idempotency_key: str | None = None) -> Bill:
        """Pay the bill with BNPL from *wallet* (a wallet id or name)."""
        return await self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/pay",
            Bill.model_validate_json,
            body={"wallet": wallet},
            idempotency_key=idempotency_key,
        )

    async def repay(self, id: str, *, idempotency_key: str | None = None) -> Bill:
        """Repay the bill (principal plus any late fee) as its customer."""
        return await self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/repay",
            Bill.model_validate_json,
            idempotency_key=idempotency_key,
        )

    async def liquidate(
        self, id: str, *, wallet: str | None = None, idempotency_key: str | None = None
    ) -> Bill:
        """Liquidate a bill 28+ days old, as *wallet* (id or name; it must hold LP tokens).

        Without a wallet the sandbox's own liquidity provider liquidates.
        """
        return await self._core.request(
            "POST",
            f"{_P}/bills/{path_id(id)}/liquidate",
            Bill.model_validate_json,
            body=compact(wallet=wallet),
            idempotency_key=idempotency_key,
        )


class AsyncTestEvents(AsyncAPIResource):
    """Make the sandbox produce events."""

    __slots__ = ()

    async def trigger(
        self,
        *,
        type: str,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> LumenLaterObject:
        """Create whatever objects cause an event of *type*; returns that event when given.

        *overrides* sets fields of the object made, by its kind: ``{"bill": {"amount":
        usdc("50"), "metadata": {"k": "v"}}}`` (``bill`` or ``checkout_session``; fields
        ``amount``, ``order_id``, ``description``, ``metadata``)."""
        return await self._core.request(
            "POST",
            f"{_P}/events/trigger",
            _triggered,
            body=_trigger_body(type, overrides),
            idempotency_key=idempotency_key,
        )


class AsyncTestMerchants(AsyncAPIResource):
    """More sandbox merchants, and the protocol admin's approval of a self-custody one."""

    __slots__ = ()

    async def create(
        self,
        *,
        business_name: str,
        custody: str | None = None,
        stellar_address: str | None = None,
        idempotency_key: str | None = None,
    ) -> TestMerchant:
        """A new sandbox merchant with its API keys (shown this once).

        ``custody="managed"`` (the default): the backend makes and keeps its key and it is
        approved at once. ``custody="self"`` with *stellar_address* (the ``G…`` address of
        a key you keep): status ``pending``; it enrolls with
        ``AsyncLumenLater(api_key=merchant.secret_key, stellar_signer=...).account.enroll()``
        and is then approved with :meth:`approve`.
        """
        return await self._core.request(
            "POST",
            f"{_P}/merchants",
            TestMerchant.model_validate_json,
            body=_merchant_body(business_name, custody, stellar_address),
            idempotency_key=idempotency_key,
        )

    async def approve(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Approve the enrolled merchant *id* (its ``G…`` address) as the protocol admin;
        its account then (``merchant.approved`` reaches that merchant)."""
        return await self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/approve",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )

    async def suspend(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Suspend the merchant *id* as the protocol admin (it can no longer create bills);
        its account then (``merchant.suspended`` reaches that merchant)."""
        return await self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/suspend",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )

    async def reject(self, id: str, *, idempotency_key: str | None = None) -> Account:
        """Reject the enrolled merchant *id* as the protocol admin; its account then
        (``merchant.rejected`` reaches that merchant)."""
        return await self._core.request(
            "POST",
            f"{_P}/merchants/{path_id(id)}/reject",
            Account.model_validate_json,
            idempotency_key=idempotency_key,
        )


class AsyncTestHelpers(AsyncAPIResource):
    """``client.test_helpers``: :attr:`clock`, :attr:`wallets`, :attr:`merchants`,
    :attr:`bills`, :attr:`events`."""

    __slots__ = ("bills", "clock", "dashboard_links", "events", "merchants", "wallets")

    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core)
        self.dashboard_links = AsyncTestDashboardLinks(core)
        self.clock = AsyncTestClocks(core)
        self.wallets = AsyncTestWallets(core)
        self.merchants = AsyncTestMerchants(core)
        self.bills = AsyncTestBills(core)
        self.events = AsyncTestEvents(core)
