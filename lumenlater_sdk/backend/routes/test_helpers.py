"""Sandbox test helpers (404 with live keys): clock, wallets, merchants, bill actions,
event triggers.

Those that use a sandbox power (moving the clock, funding a wallet, the genesis
liquidity provider) answer 403 ``sandbox_only`` when the backend runs on a real chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from ...types import Account, Bill, Event, TestClock, TestMerchant, Wallet
from ..http import (
    CHAIN_ERRORS,
    SANDBOX_ERRORS,
    Amount,
    Body,
    Call,
    EmptyBody,
    Metadata,
    RouteSpec,
    ShortText,
    StellarAddress,
)
from ..services import clock, events_api, merchant_enrollment, merchants, wallets
from ._lists import list_body

__all__ = ["ROUTES"]

WalletRef = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ClockAdvance(Body):
    """Seconds to move the ledger clock forward."""

    seconds: Annotated[StrictInt, Field(ge=1, le=315_360_000)]


class WalletCreate(Body):
    """A new funded customer."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="A name to use instead of its id (wallet=NAME in the helpers)."
    )
    collateral: Annotated[StrictInt, Field(ge=0, le=10**15)] | None = Field(
        None,
        description="LP tokens it holds, in stroops (default 10,000 USDC worth); it can "
        "borrow 90 % of them.",
    )
    external: StrictBool = Field(
        False,
        description="Signs for itself in the shopper's browser wallet: its secret_seed is "
        "in the create answer only, and the sandbox never signs as it (default false).",
    )


class WalletAction(Body):
    """The wallet (id or name) acting as the customer."""

    wallet: WalletRef = Field(description="The wallet acting, by id or name (approve).")


class OptionalWallet(Body):
    """Optionally, the wallet acting (defaults to the bill's customer)."""

    wallet: WalletRef | None = Field(
        None, description="The wallet acting, by id or name (default: the bill's customer)."
    )


class MerchantCreate(Body):
    """A new sandbox merchant: ``managed`` (a key the backend keeps) or ``self`` custody
    (only its ``stellar_address``)."""

    # For the OpenAPI document: an address with self custody, and only then.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {
                        "custody": {"const": "managed"},
                        "stellar_address": {"type": "null"},
                    }
                },
                {
                    "required": ["custody", "stellar_address"],
                    "properties": {
                        "custody": {"const": "self"},
                        "stellar_address": {"type": "string"},
                    },
                },
            ]
        }
    )

    business_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The merchant's name, shown to its customers."
    )
    custody: Literal["managed", "self"] = Field(
        "managed",
        description="managed: the backend keeps the merchant's key (default); self: the "
        "merchant signs for itself at stellar_address.",
    )
    stellar_address: StellarAddress | None = Field(
        None, description="The self-custody merchant's account (G…); only with custody self."
    )


class TriggerObject(Body):
    """Fields of an object a trigger creates, instead of the sandbox's defaults."""

    amount: Amount | None = None
    order_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: ShortText | None = None
    metadata: Metadata | None = None


class TriggerOverrides(Body):
    """Per object the trigger creates (``bill`` or ``checkout_session``), its fields."""

    bill: TriggerObject | None = None
    checkout_session: TriggerObject | None = None


class Trigger(Body):
    """The event type to cause, and optionally fields of the objects made for it."""

    type: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100),
        Field(json_schema_extra={"enum": list(events_api.TRIGGERABLE)}),
    ]
    overrides: TriggerOverrides | None = None


def _clock(call: Call) -> dict[str, Any]:
    return clock.clock(call.ctx)


def _advance(call: Call) -> dict[str, Any]:
    return clock.advance(call.ctx, call.body.seconds, call.merchant_id)


def _create_wallet(call: Call) -> dict[str, Any]:
    body: WalletCreate = call.body
    return wallets.create_wallet(
        call.ctx, call.merchant_id, body.name, body.collateral, external=body.external
    )


def _list_wallets(call: Call) -> dict[str, Any]:
    data = wallets.list_wallets(call.ctx, call.merchant_id)
    return list_body(data, False, "/v1/test_helpers/wallets")


def _retrieve_wallet(call: Call) -> dict[str, Any]:
    return wallets.retrieve_wallet(call.ctx, call.merchant_id, call.path["id"])


def _bill_action(action: str) -> Any:
    def handler(call: Call) -> dict[str, Any]:
        ref = getattr(call.body, "wallet", None)
        return wallets.act_on_bill(
            call.ctx, call.merchant_id, call.path["id"], action, ref, call.request
        )

    return handler


def _create_merchant(call: Call) -> dict[str, Any]:
    b: MerchantCreate = call.body
    return merchants.create_test_merchant(call.ctx, b.business_name, b.custody, b.stellar_address)


def _decide_merchant(decision: str) -> Callable[[Call], dict[str, Any]]:
    def handler(call: Call) -> dict[str, Any]:
        return merchant_enrollment.decide_merchant(
            call.ctx, call.path["id"], decision, call.request
        )

    return handler


def _trigger(call: Call) -> dict[str, Any]:
    b: Trigger = call.body
    overrides = {
        name: fields.model_dump(exclude_none=True)
        for name, fields in (b.overrides or TriggerOverrides()).__dict__.items()
        if fields is not None
    }
    return events_api.trigger(call.ctx, call.merchant_id, b.type, call.request, overrides)


_TAG = "test_helpers"

ROUTES = [
    RouteSpec(
        "GET",
        "/v1/test_helpers/clock",
        _clock,
        "retrieveTestClock",
        "The sandbox ledger time.",
        _TAG,
        response=TestClock,
        test_only=True,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/clock/advance",
        _advance,
        "advanceTestClock",
        "Move ledger time forward and run what it triggers.",
        _TAG,
        body=ClockAdvance,
        response=TestClock,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/wallets",
        _create_wallet,
        "createTestWallet",
        "A funded test customer.",
        _TAG,
        body=WalletCreate,
        response=Wallet,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
    RouteSpec(
        "GET",
        "/v1/test_helpers/wallets",
        _list_wallets,
        "listTestWallets",
        "Test wallets, built-in ones included.",
        _TAG,
        list_of=Wallet,
        test_only=True,
    ),
    RouteSpec(
        "GET",
        "/v1/test_helpers/wallets/{id}",
        _retrieve_wallet,
        "retrieveTestWallet",
        "A test wallet by id or name.",
        _TAG,
        response=Wallet,
        test_only=True,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/merchants",
        _create_merchant,
        "createTestMerchant",
        "Another sandbox merchant (managed, or self custody at a given address); its API"
        " keys are shown this once.",
        _TAG,
        body=MerchantCreate,
        response=TestMerchant,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
    *(
        RouteSpec(
            "POST",
            f"/v1/test_helpers/merchants/{{id}}/{decision}",
            _decide_merchant(decision),
            f"{decision}TestMerchant",
            f"{decision.capitalize()} an enrolled merchant as the protocol admin"
            f" (update_merchant_status to {status}).",
            _TAG,
            body=EmptyBody,
            response=Account,
            test_only=True,
            errors=SANDBOX_ERRORS,
        )
        for decision, status in merchant_enrollment.ADMIN_DECISIONS.items()
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/bills/{id}/pay",
        _bill_action("pay"),
        "payTestBill",
        "Pay a bill as a wallet.",
        _TAG,
        body=WalletAction,
        response=Bill,
        test_only=True,
        errors=CHAIN_ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/bills/{id}/repay",
        _bill_action("repay"),
        "repayTestBill",
        "Repay a bill as its customer.",
        _TAG,
        body=OptionalWallet,
        response=Bill,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/bills/{id}/liquidate",
        _bill_action("liquidate"),
        "liquidateTestBill",
        "Liquidate a bill as an LP.",
        _TAG,
        body=OptionalWallet,
        response=Bill,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/test_helpers/events/trigger",
        _trigger,
        "triggerTestEvent",
        "Create whatever objects cause an event type.",
        _TAG,
        body=Trigger,
        response=Event,
        test_only=True,
        errors=SANDBOX_ERRORS,
    ),
]
