"""The shop's webhook handlers: LumenLater events move orders forward.

Duplicate deliveries are dropped by the SDK's SQLite event store before a
handler runs; the handlers are idempotent anyway (``OrderStore.advance`` only
moves forward), because a handler that fails halfway is delivered again.
"""

from __future__ import annotations

import logging

from lumenlater_sdk.types import Bill, BillEvent, CheckoutSessionEvent
from lumenlater_sdk.webhooks import SQLiteEventStore, WebhookApp

from .orders import OrderStore

log = logging.getLogger(__name__)

# Bill events and the order status each one means.
_BILL_STATUS = {
    "bill.paid": "paid",
    "bill.overdue": "overdue",
    "bill.repaid": "repaid",
    "bill.liquidated": "liquidated",
}


def build_webhook_app(secret: str, events_db: str, orders: OrderStore) -> WebhookApp:
    """A :class:`WebhookApp` verifying with *secret* and updating *orders*."""
    hooks = WebhookApp(secret=secret, store=SQLiteEventStore(events_db))

    @hooks.on("checkout.session.completed")
    def session_completed(event: CheckoutSessionEvent) -> None:
        session = event.data.object
        order = orders.find(order_id=session.order_id, session_id=session.id)
        if order is None:
            log.info("ignoring %s for unknown order %s", event.id, session.order_id)
            return
        orders.advance(order.id, "paid", bill_id=session.bill, customer=session.customer)

    @hooks.on("checkout.session.expired")
    def session_expired(event: CheckoutSessionEvent) -> None:
        session = event.data.object
        order = orders.find(order_id=session.order_id, session_id=session.id)
        if order is not None:
            orders.advance(order.id, "cancelled")

    def bill_changed(event: BillEvent) -> None:
        bill: Bill = event.data.object
        order = orders.find(order_id=bill.order_id, bill_id=bill.id)
        if order is None:
            log.info("ignoring %s for unknown order %s", event.id, bill.order_id)
            return
        status = _BILL_STATUS[event.type]
        # The snapshot after repayment or liquidation carries the late fee charged.
        late_fee = bill.late_fee if status in ("repaid", "liquidated") else None
        orders.advance(order.id, status, bill_id=bill.id, customer=bill.customer, late_fee=late_fee)

    for event_type in _BILL_STATUS:
        hooks.on(event_type)(bill_changed)
    return hooks
