"""Response models of the LumenLater API (pydantic v2, lenient to API growth)."""

from ._base import DeletedObject, LumenLaterObject
from .account import Account
from .analytics import Metrics, MetricsPoint, Transaction
from .api_key import ApiKey
from .bill import Bill, BillChain, ChainAuthorization
from .chain import Chain, ChainContracts
from .checkout_session import CheckoutSession, LineItem
from .dashboard_link import DashboardLink
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
    CheckoutSessionAuthorizationRequiredEvent,
    CheckoutSessionCompletedEvent,
    CheckoutSessionEvent,
    CheckoutSessionExpiredEvent,
    Event,
    EventChain,
    EventData,
    EventRequest,
    MerchantApprovedEvent,
    MerchantEvent,
    MerchantRejectedEvent,
    MerchantSuspendedEvent,
    PaymentFailedEvent,
    TypedEvent,
    WebhookEndpointEvent,
    WebhookEndpointPingEvent,
    parse_event,
)
from .payment_failure import PaymentFailure
from .request_log import RequestLog
from .test_helpers import TestClock, TestMerchant, Wallet
from .webhook_endpoint import WebhookDelivery, WebhookEndpoint

__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "Account",
    "AnyEvent",
    "ApiKey",
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
    "CheckoutSessionAuthorizationRequiredEvent",
    "CheckoutSessionCompletedEvent",
    "CheckoutSessionEvent",
    "CheckoutSessionExpiredEvent",
    "DashboardLink",
    "DeletedObject",
    "Event",
    "EventChain",
    "EventData",
    "EventRequest",
    "LineItem",
    "LumenLaterObject",
    "MerchantApprovedEvent",
    "MerchantEvent",
    "MerchantRejectedEvent",
    "MerchantSuspendedEvent",
    "Metrics",
    "MetricsPoint",
    "PaymentFailedEvent",
    "PaymentFailure",
    "RequestLog",
    "TestClock",
    "TestMerchant",
    "Transaction",
    "TypedEvent",
    "Wallet",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointEvent",
    "WebhookEndpointPingEvent",
    "parse_event",
]
