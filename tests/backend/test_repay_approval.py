"""Repaying as a sandbox wallet is two calls, as on the deployed contracts: the wallet's
USDC ``approve`` of bnpl_core for principal + late fee, then ``repay_bill``, which pulls
it with ``transfer_from`` (SOROBAN.md §8). The API events do not change."""

from __future__ import annotations

from typing import Any

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle

DAY = 86_400


def test_repay_approves_what_is_owed_then_repays(
    sb_sqlite: SandboxHandle, api1: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway: Any = sb_sqlite.backend.ctx.chain._gateway
    calls: list[tuple[str, str, list[Any], str]] = []
    real = gateway.invoke

    def spy(contract: str, function: str, args: list[Any], **kw: Any) -> Any:
        calls.append((contract, function, list(args), kw["signer"].public_key))
        return real(contract, function, args, **kw)

    monkeypatch.setattr(gateway, "invoke", spy)
    wallet = api1.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    amount = 3_650_000_000
    bill = api1.ok("POST", "/v1/bills", json={"customer": wallet, "amount": amount})
    api1.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
    api1.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 16 * DAY})
    before = [e["type"] for e in api1.ok("GET", "/v1/events")["data"]]
    del calls[:]
    repaid = api1.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/repay", json={})
    core = gateway.contract_id("bnpl_core")
    chain_calls = [(c, f) for c, f, _, _ in calls if (c, f) != ("usdc", "mint")]
    assert chain_calls[-2:] == [("usdc", "approve"), ("bnpl_core", "repay_bill")]
    approve = next(c for c in calls if c[1] == "approve")
    assert approve[2][:2] == [wallet, core] and approve[3] == wallet
    days = (16 * DAY - 14 * DAY) // DAY
    fee = amount * 3_000_000 * days // (365 * 10_000_000)
    assert approve[2][2] == amount + fee
    assert (repaid["status"], repaid["late_fee"]) == ("repaid", fee)
    assert gateway.read("usdc", "allowance", [wallet, core]) == 0  # spent in full
    after = [e["type"] for e in api1.ok("GET", "/v1/events")["data"]]
    assert after[: len(after) - len(before)] == ["bill.repaid"]  # nothing else appears
