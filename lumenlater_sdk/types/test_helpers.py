"""Sandbox test-helper models: the ledger clock, test wallets and test merchants."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject
from .account import Custody, MerchantStatus


class TestClock(LumenLaterObject):
    """The sandbox ledger time (``now``, Unix seconds)."""

    __test__ = False  # not a pytest test class
    object: Literal["test_helpers.clock"] | str = "test_helpers.clock"
    now: int


class Wallet(LumenLaterObject):
    """A funded sandbox customer (``wal_…``) with LP collateral.

    An ``external`` wallet signs for itself (the shopper's browser wallet): the sandbox
    keeps no key for it, and ``secret_seed`` (a sandbox test key) is in the answer that
    created it only."""

    id: str
    object: Literal["test_helpers.wallet"] | str = "test_helpers.wallet"
    name: str
    address: str
    lp_balance: int
    available_borrowing: int
    external: bool = False
    secret_seed: str | None = None
    created: int | None = None
    livemode: bool = False


class TestMerchant(LumenLaterObject):
    """A sandbox merchant made by ``client.test_helpers.merchants.create(...)``; ``id`` is
    its ``G…`` address.

    ``secret_key`` and ``publishable_key`` are shown only in this answer (the backend
    keeps hashes). A ``managed`` merchant is approved at once; a ``self`` custody one is
    ``pending`` until it enrolls with its own signature (``client.account.enroll()``
    with its ``stellar_signer``) and the sandbox admin approves it
    (``client.test_helpers.merchants.approve(id)``).
    """

    __test__ = False  # not a pytest test class
    id: str
    object: Literal["test_helpers.merchant"] | str = "test_helpers.merchant"
    business_name: str | None = None
    custody: Custody = "managed"
    status: MerchantStatus
    livemode: bool = False
    created: int | None = None
    secret_key: str
    publishable_key: str

    def __repr__(self) -> str:  # never print keys by accident
        return f"TestMerchant(id={self.id!r}, custody={self.custody!r}, status={self.status!r})"
