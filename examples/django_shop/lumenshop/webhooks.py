"""The shop's webhook handlers: LumenLater events move orders forward.

Duplicate deliveries are dropped by the SDK's SQLite event store before a handler
runs; the handlers are idempotent anyway (:meth:`OrderManager.advance` only moves
forward), because a handler that fails halfway is delivered again.
"""

from __future__ import annotations

import logging

from lumenlater_sdk.types import Bill, BillEvent, CheckoutSessionEvent
from lumenlater_sdk.webhooks import EventStore, WebhookApp

from .models import Order, OrderStatus

log = logging.getLogger(__name__)

BILL_STATUS: dict[str, OrderStatus] = {
    "bill.paid": OrderStatus.PAID,
    "bill.overdue": OrderStatus.OVERDUE,
    "bill.repaid": OrderStatus.REPAID,
    "bill.liquidated": OrderStatus.LIQUIDATED,
}
"""Bill events and the order status each one means."""


def build_webhook_app(secret: str, store: EventStore) -> WebhookApp:
    """A :class:`WebhookApp` verifying with *secret*, deduplicating in *store*, updating orders."""
    hooks = WebhookApp(secret=secret, store=store)

    @hooks.on("checkout.session.completed")
    def session_completed(event: CheckoutSessionEvent) -> None:
        session = event.data.object
        order = Order.objects.find(reference=session.order_id, session_id=session.id)
        if order is None:
            # Another shop on the same account, or an order deleted since: nothing to do,
            # and answering 200 stops the retries.
            log.info("ignoring %s for unknown order %s", event.id, session.order_id)
            return
        Order.objects.advance(
            order.reference, OrderStatus.PAID, bill_id=session.bill, customer=session.customer
        )

    @hooks.on("checkout.session.expired")
    def session_expired(event: CheckoutSessionEvent) -> None:
        session = event.data.object
        order = Order.objects.find(reference=session.order_id, session_id=session.id)
        if order is not None:
            Order.objects.advance(order.reference, OrderStatus.CANCELLED)

    def bill_changed(event: BillEvent) -> None:
        bill: Bill = event.data.object
        order = Order.objects.find(reference=bill.order_id, bill_id=bill.id)
        if order is None:
            log.info("ignoring %s for unknown order %s", event.id, bill.order_id)
            return
        status = BILL_STATUS[event.type]
        # The snapshot after repayment or liquidation carries the late fee charged.
        late_fee = bill.late_fee if status in (OrderStatus.REPAID, OrderStatus.LIQUIDATED) else None
        Order.objects.advance(
            order.reference, status, bill_id=bill.id, customer=bill.customer, late_fee=late_fee
        )

    for event_type in BILL_STATUS:
        hooks.on(event_type)(bill_changed)
    return hooks
