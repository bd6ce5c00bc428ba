"""Event models: a generic :class:`Event` and one typed class per known event type.

``data.object`` of a typed event is the resource model shared with the client
(:class:`Bill`, :class:`CheckoutSession`, :class:`WebhookEndpoint`,
:class:`PaymentFailure`); an event type
this SDK does not know yet parses as a plain :class:`Event` instead of failing.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from ._base import LumenLaterObject
from .account import Account
from .bill import Bill
from .checkout_session import CheckoutSession
from .payment_failure import PaymentFailure
from .webhook_endpoint import WebhookEndpoint

ObjT = TypeVar("ObjT")


class EventData(LumenLaterObject, Generic[ObjT]):
    """The snapshot of the object after the change, and what changed."""

    object: ObjT
    previous_attributes: dict[str, Any] | None = None


class EventRequest(LumenLaterObject):
    """The API request that caused the event, if any."""

    id: str | None = None
    idempotency_key: str | None = None


class EventChain(LumenLaterObject):
    """The contract event an event was derived from."""

    contract_id: str
    topic: str
    ledger: int
    tx_hash: str


class BaseEvent(LumenLaterObject):
    """Fields every event has."""

    id: str
    object: Literal["event"] | str = "event"
    type: str
    created: int
    api_version: str | None = None
    livemode: bool = False
    request: EventRequest | None = None
    chain: EventChain | None = None


class Event(BaseEvent):
    """An event of any type; ``data.object`` is left as a plain dict."""

    data: EventData[dict[str, Any]]


class BillEvent(BaseEvent):
    """An event about a bill."""

    data: EventData[Bill]


class CheckoutSessionEvent(BaseEvent):
    """An event about a checkout session."""

    data: EventData[CheckoutSession]


class WebhookEndpointEvent(BaseEvent):
    """An event about a webhook endpoint."""

    data: EventData[WebhookEndpoint]


class PaymentFailedEvent(BaseEvent):
    """``payment.failed``: a shopper's payment attempt on the hosted page or in the widget
    was refused (``data.object`` is the :class:`PaymentFailure`); the session stays open."""

    type: Literal["payment.failed"] = "payment.failed"
    data: EventData[PaymentFailure]


class MerchantEvent(BaseEvent):
    """An event about a merchant account (its status, set by the protocol admin)."""

    data: EventData[Account]


class BillCreatedEvent(BillEvent):
    """``bill.created``: the contract recorded a new bill."""

    type: Literal["bill.created"] = "bill.created"


class BillPaidEvent(BillEvent):
    """``bill.paid``: the pool paid the merchant; the customer now owes the bill."""

    type: Literal["bill.paid"] = "bill.paid"


class BillRepaidEvent(BillEvent):
    """``bill.repaid``: the customer repaid principal plus any late fee."""

    type: Literal["bill.repaid"] = "bill.repaid"


class BillOverdueEvent(BillEvent):
    """``bill.overdue``: the grace period (14 days on the deployed contract) ended
    without repayment."""

    type: Literal["bill.overdue"] = "bill.overdue"


class BillLiquidatedEvent(BillEvent):
    """``bill.liquidated``: the customer's collateral covered the bill."""

    type: Literal["bill.liquidated"] = "bill.liquidated"


class BillExpiredEvent(BillEvent):
    """``bill.expired``: the bill was not paid within a day of creation."""

    type: Literal["bill.expired"] = "bill.expired"


class BillCancelledEvent(BillEvent):
    """``bill.cancelled``: the merchant cancelled an unpaid bill."""

    type: Literal["bill.cancelled"] = "bill.cancelled"


class CheckoutSessionCompletedEvent(CheckoutSessionEvent):
    """``checkout.session.completed``: the customer paid through the session."""

    type: Literal["checkout.session.completed"] = "checkout.session.completed"


class CheckoutSessionExpiredEvent(CheckoutSessionEvent):
    """``checkout.session.expired``: the session expired unpaid."""

    type: Literal["checkout.session.expired"] = "checkout.session.expired"


class CheckoutSessionAuthorizationRequiredEvent(CheckoutSessionEvent):
    """``checkout.session.authorization_required``: a shopper connected a wallet on a
    self-custody merchant's hosted page; the session's ``bill`` (for that ``customer``)
    waits for the merchant's signature, whose entry is the session's ``authorization``.
    Answer it with ``lumenlater_sdk.checkout.authorize_pending(client, event)``."""

    type: Literal["checkout.session.authorization_required"] = (
        "checkout.session.authorization_required"
    )


class WebhookEndpointPingEvent(WebhookEndpointEvent):
    """``webhook_endpoint.ping``: a test delivery."""

    type: Literal["webhook_endpoint.ping"] = "webhook_endpoint.ping"


class MerchantApprovedEvent(MerchantEvent):
    """``merchant.approved``: the protocol admin approved the merchant; it can bill."""

    type: Literal["merchant.approved"] = "merchant.approved"


class MerchantSuspendedEvent(MerchantEvent):
    """``merchant.suspended``: the protocol admin suspended the merchant."""

    type: Literal["merchant.suspended"] = "merchant.suspended"


class MerchantRejectedEvent(MerchantEvent):
    """``merchant.rejected``: the protocol admin rejected the merchant's enrollment."""

    type: Literal["merchant.rejected"] = "merchant.rejected"


TypedEvent = (
    BillCreatedEvent
    | BillPaidEvent
    | BillRepaidEvent
    | BillOverdueEvent
    | BillLiquidatedEvent
    | BillExpiredEvent
    | BillCancelledEvent
    | CheckoutSessionCompletedEvent
    | CheckoutSessionExpiredEvent
    | CheckoutSessionAuthorizationRequiredEvent
    | PaymentFailedEvent
    | WebhookEndpointPingEvent
    | MerchantApprovedEvent
    | MerchantSuspendedEvent
    | MerchantRejectedEvent
)
AnyEvent = TypedEvent | Event

EVENT_CLASSES: dict[str, type[BaseEvent]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        BillCreatedEvent,
        BillPaidEvent,
        BillRepaidEvent,
        BillOverdueEvent,
        BillLiquidatedEvent,
        BillExpiredEvent,
        BillCancelledEvent,
        CheckoutSessionCompletedEvent,
        CheckoutSessionExpiredEvent,
        CheckoutSessionAuthorizationRequiredEvent,
        PaymentFailedEvent,
        WebhookEndpointPingEvent,
        MerchantApprovedEvent,
        MerchantSuspendedEvent,
        MerchantRejectedEvent,
    )
}
"""Event type string → typed event class."""

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)
"""Every event type this SDK knows, in DESIGN order."""


def parse_event(data: dict[str, Any]) -> BaseEvent:
    """Validate decoded event JSON into its typed class, or :class:`Event` if the type is new."""
    cls = EVENT_CLASSES.get(data.get("type", ""), Event)
    return cls.model_validate(data)
