"""Receive LumenLater webhooks: verify, parse into typed events, deduplicate, dispatch.

::

    from lumenlater_sdk.webhooks import WebhookApp, SQLiteEventStore, BillPaidEvent

    hooks = WebhookApp(secret="whsec_…", store=SQLiteEventStore("hooks.db"))

    @hooks.on("bill.paid")
    async def paid(event: BillPaidEvent) -> None: ...

    # Starlette: Route, not Mount, so the slash-less URL is not redirected
    # (webhook senders do not follow redirects).
    app.router.routes.append(Route("/webhooks/lumenlater", hooks))

Lower level: :func:`verify_signature`, :func:`construct_event` and :func:`sign`.
One URL for many merchants' endpoints: ``secret=`` a function of the
:class:`WebhookRequest` (see :data:`SecretResolver`).
Flask and Django adapters live in :mod:`lumenlater_sdk.webhooks.flask` and
:mod:`lumenlater_sdk.webhooks.django`; test helpers in
:mod:`lumenlater_sdk.webhooks.testing`.
"""

from ..types.event import (
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
    MerchantApprovedEvent,
    MerchantEvent,
    MerchantRejectedEvent,
    MerchantSuspendedEvent,
    TypedEvent,
    WebhookEndpointEvent,
    WebhookEndpointPingEvent,
)
from ._app import WebhookApp
from ._core import MAX_BODY_SIZE, Reply
from ._errors import (
    InvalidPayloadError,
    ProcessLocalStoreWarning,
    SignatureVerificationError,
    WebhookError,
)
from ._events import construct_event, parse_event_payload
from ._memory_store import InMemoryEventStore
from ._redis_store import RedisEventStore
from ._request import SecretResolver, WebhookRequest
from ._signature import SIGNATURE_HEADER, sign, verify_signature
from ._sqlite_store import SQLiteEventStore
from ._store import DEFAULT_LEASE, Claim, ClaimStatus, EventStore

__all__ = [
    "DEFAULT_LEASE",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "MAX_BODY_SIZE",
    "SIGNATURE_HEADER",
    "AnyEvent",
    "BaseEvent",
    "BillCancelledEvent",
    "BillCreatedEvent",
    "BillEvent",
    "BillExpiredEvent",
    "BillLiquidatedEvent",
    "BillOverdueEvent",
    "BillPaidEvent",
    "BillRepaidEvent",
    "CheckoutSessionAuthorizationRequiredEvent",
    "CheckoutSessionCompletedEvent",
    "CheckoutSessionEvent",
    "CheckoutSessionExpiredEvent",
    "Claim",
    "ClaimStatus",
    "Event",
    "EventStore",
    "InMemoryEventStore",
    "InvalidPayloadError",
    "MerchantApprovedEvent",
    "MerchantEvent",
    "MerchantRejectedEvent",
    "MerchantSuspendedEvent",
    "ProcessLocalStoreWarning",
    "RedisEventStore",
    "Reply",
    "SQLiteEventStore",
    "SecretResolver",
    "SignatureVerificationError",
    "TypedEvent",
    "WebhookApp",
    "WebhookEndpointEvent",
    "WebhookEndpointPingEvent",
    "WebhookError",
    "WebhookRequest",
    "construct_event",
    "parse_event_payload",
    "sign",
    "verify_signature",
]
