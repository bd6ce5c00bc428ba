"""Response models of the LumenLater API (pydantic v2, lenient to API growth)."""

from ._base import DeletedObject, LumenLaterObject
from .account import Account
from .analytics import Metrics, MetricsPoint, Transaction
from .bill import Bill, BillChain, ChainAuthorization
from .chain import Chain, ChainContracts
from .checkout_session import CheckoutSession, LineItem
from .event import (
    EVENT_CLASSES,
    EVENT_TYPES,
    AnyEvent,
    BaseEvent,
    BillCancelledEvent,
    BillCreatedEvent,
    BillEvent,
    BillExpiredEvent,
    BillLiquidatedEvent,
    BillOverdueEvent,
    BillPaidEvent,
    BillRepaidEvent,
    CheckoutSessionCompletedEvent,
    CheckoutSessionEvent,
    CheckoutSessionExpiredEvent,
    Event,
    EventChain,
    EventData,
    EventRequest,
    TypedEvent,
    WebhookEndpointEvent,
    WebhookEndpointPingEvent,
    parse_event,
)
from .test_helpers import TestClock, Wallet
from .webhook_endpoint import WebhookDelivery, WebhookEndpoint

__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "Account",
    "AnyEvent",
    "BaseEvent",
    "Bill",
    "BillCancelledEvent",
    "BillChain",
    "BillCreatedEvent",
    "BillEvent",
    "BillExpiredEvent",
    "BillLiquidatedEvent",
    "BillOverdueEvent",
    "BillPaidEvent",
    "BillRepaidEvent",
    "Chain",
    "ChainAuthorization",
    "ChainContracts",
    "CheckoutSession",
    "CheckoutSessionCompletedEvent",
    "CheckoutSessionEvent",
    "CheckoutSessionExpiredEvent",
    "DeletedObject",
    "Event",
    "EventChain",
    "EventData",
    "EventRequest",
    "LineItem",
    "LumenLaterObject",
    "Metrics",
    "MetricsPoint",
    "TestClock",
    "Transaction",
    "TypedEvent",
    "Wallet",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointEvent",
    "WebhookEndpointPingEvent",
    "parse_event",
]
