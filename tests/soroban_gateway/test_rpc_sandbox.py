"""Sandbox powers over RPC: a soroban-chain backend on a sandbox chain has test helpers;
a live one, or one on a network without the ``lumenlater_*`` methods, has none."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumenlater_sdk.backend.app import Backend
from lumenlater_sdk.backend.chain import INDEX_SCALE, SandboxControls
from lumenlater_sdk.backend.chain._sandbox import (
    LIMITED_BORROWING,
    builtin_wallet_funds,
    deposit_for_balance,
)
from lumenlater_sdk.backend.chain.local._math import amount_for_shares, shares_for_amount
from lumenlater_sdk.backend.chain.soroban import RpcSandbox
from lumenlater_sdk.backend.services.errors import SandboxOnly
from lumenlater_sdk.backend.testing import SandboxHandle

from .backend_support import soroban_config
from .test_gateway import USDC


@given(
    balance=st.integers(1, 10**15),
    index=st.integers(INDEX_SCALE, 3 * INDEX_SCALE),
)
def test_deposit_for_balance_buys_the_fewest_shares_worth_it(balance: int, index: int) -> None:
    deposit = deposit_for_balance(balance, index)
    shares = shares_for_amount(deposit, index)
    value = amount_for_shares(shares, index)
    assert value >= balance
    assert amount_for_shares(shares - 1, index) < balance  # no fewer shares would do
    assert deposit_for_balance(balance, index) - 1 < -(-shares * index // INDEX_SCALE)
    if value > balance:  # only when no share count is worth *balance* exactly
        assert amount_for_shares(shares - 1, index) < balance < value


def test_a_sandbox_chain_gives_the_backend_its_powers(
    soroban_chain: SandboxHandle, tmp_path: Path
) -> None:
    config = soroban_config(soroban_chain, tmp_path)
    backend = Backend(config)
    try:
        sandbox = backend.sandbox
        assert isinstance(sandbox, RpcSandbox) and isinstance(sandbox, SandboxControls)
        assert backend.genesis is None  # the chain's admin and treasury stay the chain's
        wallets = sandbox.builtin_wallets()
        read = backend.gateway.read
        power = {
            n: read("bnpl_core", "get_user_borrowing_power", [kp.public_key])
            for n, kp in wallets.items()
        }
        funds = builtin_wallet_funds(backend.gateway.constants())
        assert power["limited"]["available_borrowing"] == LIMITED_BORROWING
        assert power["decline"]["available_borrowing"] == 0
        assert power["approve"]["lp_balance"] >= funds["approve"][1]
        liquidator = sandbox.liquidator()
        assert read("lp_token", "balance", [liquidator.public_key]) > 0
        sent = len(backend.gateway.submissions())  # type: ignore[attr-defined]
        credentials = backend.create_merchant("Chain Shop")
        merchant = read("bnpl_core", "get_merchant", [credentials.merchant_id])
        assert merchant["status"] == "Approved"
        # The merchant's enrollment is its own transaction, sent by this backend, and so
        # are the LP deposits of its own approve and limited wallets (decline has none).
        assert len(backend.gateway.submissions()) == sent + 3  # type: ignore[attr-defined]
    finally:
        backend.close()
    # A restarted backend keeps its accounts (sealed in its journal): nothing is funded again.
    again = Backend(config)
    try:
        assert isinstance(again.sandbox, RpcSandbox)
        assert again.sandbox.builtin_wallets() == wallets
        assert again.sandbox.liquidator().public_key == liquidator.public_key
        assert len(again.gateway.submissions()) == sent + 3  # type: ignore[attr-defined]
    finally:
        again.close()


def test_a_live_backend_never_uses_sandbox_powers(
    soroban_chain: SandboxHandle, tmp_path: Path
) -> None:
    backend = Backend(soroban_config(soroban_chain, tmp_path, livemode=True))
    try:
        assert backend.sandbox is None and backend.ctx.sandbox is None
        with pytest.raises(SandboxOnly):
            backend.create_merchant("Live Shop")
        assert backend.gateway.submissions() == []  # type: ignore[attr-defined]
    finally:
        backend.close()


def test_advancing_the_clock_moves_the_backends_ledger_time(
    soroban_chain: SandboxHandle, tmp_path: Path
) -> None:
    backend = Backend(soroban_config(soroban_chain, tmp_path))
    try:
        assert backend.sandbox is not None
        before = backend.gateway.now()
        moved = backend.sandbox.advance_clock(3600)
        assert before + 3600 <= moved == backend.gateway.now()  # not the cached time
        with pytest.raises(ValueError, match="seconds"):
            backend.sandbox.advance_clock(-1)
        with pytest.raises(ValueError, match="usdc"):
            backend.sandbox.fund_wallet(backend.sandbox.liquidator(), usdc=USDC * 1.0)  # type: ignore[arg-type]
    finally:
        backend.close()
