"""Sandbox test-helper models: the ledger clock and test wallets."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject


class TestClock(LumenLaterObject):
    """The sandbox ledger time (``now``, Unix seconds)."""

    __test__ = False  # not a pytest test class
    object: Literal["test_helpers.clock"] | str = "test_helpers.clock"
    now: int


class Wallet(LumenLaterObject):
    """A funded sandbox customer (``wal_…``) with LP collateral."""

    id: str
    object: Literal["test_helpers.wallet"] | str = "test_helpers.wallet"
    name: str
    address: str
    lp_balance: int
    available_borrowing: int
    created: int | None = None
    livemode: bool = False
