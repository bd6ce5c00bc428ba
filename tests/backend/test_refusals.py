"""Refusal reasons are decided from chain state read before the call (issue 10).

On a real network only ``enroll_merchant`` and ``update_merchant_status`` return a
typed error; every other refusal traps without a reason. So the API's codes
(``bill_expired``, ``insufficient_collateral``...) come from
``services/preconditions.py``, and these tests check the contract is never even asked
when the answer is known, and that a trap that still happens is ``contract_trapped``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.chain import AUTH_FAILED, INVALID_INPUT, TRAPPED, ContractError
from lumenlater_sdk.backend.services import wallets
from lumenlater_sdk.backend.services.relay import TRAPPED_CODE, refusal
from lumenlater_sdk.backend.testing import SandboxHandle

DAY = 86_400


@pytest.fixture
def invoked(sb_sqlite: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The state-changing functions the gateway was asked to run."""
    gateway: Any = sb_sqlite.backend.ctx.chain._gateway
    calls: list[str] = []
    real = gateway.invoke

    def spy(contract: str, function: str, *args: Any, **kw: Any) -> Any:
        calls.append(function)
        return real(contract, function, *args, **kw)

    monkeypatch.setattr(gateway, "invoke", spy)
    yield calls


def _refused(api: Api, path: str, body: dict[str, Any], code: str) -> dict[str, Any]:
    r = api.post(path, body)
    assert r.status_code == 400, r.text
    err: dict[str, Any] = r.json()["error"]
    assert (err["type"], err["code"]) == ("invalid_request_error", code), err
    return err


def _bill(api: Api, wallet: str = "approve", amount: int = 10_000_000) -> str:
    addr = api.ok("GET", f"/v1/test_helpers/wallets/{wallet}")["address"]
    return str(api.ok("POST", "/v1/bills", json={"customer": addr, "amount": amount})["id"])


def test_an_expired_bill_is_refused_before_the_call(api1: Api, invoked: list[str]) -> None:
    bill = _bill(api1)
    api1.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 2 * DAY})
    err = _refused(
        api1, f"/v1/test_helpers/bills/{bill}/pay", {"wallet": "approve"}, "bill_expired"
    )
    assert err["message"] == "Bill expired"
    assert "pay_bill_bnpl" not in invoked  # decided from get_bill and the clock


def test_every_reason_comes_from_the_chain_state(api1: Api, invoked: list[str]) -> None:
    pay = "/v1/test_helpers/bills/{}/pay"
    declined = _bill(api1, "decline")
    _refused(api1, pay.format(declined), {"wallet": "decline"}, "insufficient_collateral")
    bill = _bill(api1)
    _refused(api1, f"/v1/test_helpers/bills/{bill}/repay", {}, "bill_not_paid")
    api1.ok("POST", pay.format(bill), json={"wallet": "approve"})
    _refused(api1, pay.format(bill), {"wallet": "approve"}, "bill_not_payable")
    liquidate = f"/v1/test_helpers/bills/{bill}/liquidate"
    _refused(api1, liquidate, {}, "grace_period_not_expired")
    empty = api1.ok("POST", "/v1/test_helpers/wallets", json={"name": "empty", "collateral": 0})
    _refused(api1, liquidate, {"wallet": empty["id"]}, "not_lp_token_holder")
    api1.ok("POST", f"/v1/test_helpers/bills/{bill}/repay", json={})
    api1.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 30 * DAY})
    _refused(api1, liquidate, {}, "liquidation_not_possible")
    assert invoked.count("pay_bill_bnpl") == 1 and invoked.count("repay_bill") == 1
    assert "liquidate_bill" not in invoked


def test_a_trap_after_the_checks_is_contract_trapped(
    api1: Api, invoked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The state changed between the read and the call (here: the check is skipped),
    # so the contract traps; the API cannot know why and says so.
    monkeypatch.setattr(wallets, "check_pay", lambda *args: None)
    bill = _bill(api1)
    api1.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 2 * DAY})
    err = _refused(api1, f"/v1/test_helpers/bills/{bill}/pay", {"wallet": "approve"}, TRAPPED_CODE)
    assert "expired" not in err["message"].lower()  # the panic string stays inside
    assert invoked[-1] == "pay_bill_bnpl"
    assert api1.ok("GET", f"/v1/bills/{bill}")["status"] == "expired"


def test_the_relay_maps_refusals_by_code_and_kind_only() -> None:
    def code(exc: ContractError) -> str:
        return refusal(exc, "f").code

    assert code(ContractError("bnpl_core", 110, "MerchantAlreadyEnrolled", "x")) == (
        "merchant_already_enrolled"
    )
    assert code(ContractError("bnpl_core", 11, "NotAdmin", "x")) == "not_admin"
    assert code(ContractError("bnpl_core", 111, "MerchantNotFound", "x")) == "merchant_not_found"
    assert code(ContractError("bnpl_core", 0, AUTH_FAILED, "x")) == "unauthorized"
    assert code(ContractError("bnpl_core", 0, INVALID_INPUT, "x")) == "invalid_input"
    for message in ("Bill expired", "Insufficient collateral", "anything"):
        trapped = refusal(ContractError("bnpl_core", 0, TRAPPED, message), "pay_bill_bnpl")
        assert trapped.code == TRAPPED_CODE and message not in trapped.message
