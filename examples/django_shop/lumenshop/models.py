"""The shop's orders: what was bought, and how far LumenLater's payment has got.

Webhook deliveries are at-least-once and unordered, so an order's status only moves
forward (:data:`STATUS_RANK`): a late ``bill.paid`` can never undo ``repaid``. The
only way to change it is :meth:`OrderManager.advance`, a conditional ``UPDATE``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import models, transaction
from django.utils import timezone


class OrderStatus(models.TextChoices):
    """Where an order is in the buy-now-pay-later life cycle."""

    CREATED = "created", "Created"
    CANCELLED = "cancelled", "Cancelled"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    REPAID = "repaid", "Repaid"
    LIQUIDATED = "liquidated", "Liquidated"


STATUS_RANK: dict[str, int] = {
    OrderStatus.CREATED: 0,
    # Below paid: a customer who paid in another tab after cancelling has still paid.
    OrderStatus.CANCELLED: 1,
    OrderStatus.PAID: 2,
    OrderStatus.OVERDUE: 3,
    OrderStatus.REPAID: 4,
    OrderStatus.LIQUIDATED: 4,
}
"""How far along an order is; a move to a lower or equal rank is ignored."""


@dataclass(frozen=True)
class NewLine:
    """A line of an order about to be placed (priced now, from the catalogue)."""

    sku: str
    name: str
    quantity: int
    unit_amount: int


def _new_reference() -> str:
    # Not the primary key: order references go to LumenLater and into URLs, and
    # should not reveal how many orders the shop has.
    return f"ORD-{secrets.token_hex(4).upper()}"


class OrderManager(models.Manager["Order"]):
    """Placing orders, finding them from LumenLater objects, moving them forward."""

    def place(self, lines: Sequence[NewLine]) -> Order:
        """Record a new ``created`` order with *lines*."""
        if not lines:
            raise ValueError("an order needs at least one line")
        with transaction.atomic():
            order = self.create(
                reference=_new_reference(),
                amount=sum(line.quantity * line.unit_amount for line in lines),
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    position=i,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                )
                for i, line in enumerate(lines)
            )
        return order

    def find(
        self,
        *,
        reference: str | None = None,
        session_id: str | None = None,
        bill_id: str | None = None,
    ) -> Order | None:
        """The order matching the first of *reference*, *session_id*, *bill_id* that matches."""
        for field, value in (
            ("reference", reference),
            ("session_id", session_id),
            ("bill_id", bill_id),
        ):
            if value:
                order = self.filter(**{field: value}).first()
                if order is not None:
                    return order
        return None

    def advance(
        self,
        reference: str,
        status: str,
        *,
        bill_id: str | None = None,
        customer: str | None = None,
        late_fee: int | None = None,
    ) -> bool:
        """Move the order forward to *status*; returns whether its status changed.

        Payment details (*bill_id*, *customer*) are filled in while still unknown,
        and *late_fee* is recorded together with the status it came with. Safe to
        call twice, concurrently, or out of order.
        """
        if status not in STATUS_RANK:
            raise ValueError(f"unknown order status {status!r}")
        behind = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
        now = timezone.now()
        order = self.filter(reference=reference)
        with transaction.atomic():
            # Each UPDATE writes only what is still unknown, so a repeated call writes nothing.
            if bill_id:
                order.filter(bill_id__isnull=True).update(bill_id=bill_id, updated=now)
            if customer:
                order.filter(customer__isnull=True).update(customer=customer, updated=now)
            move: dict[str, Any] = {"status": status, "updated": now}
            if late_fee is not None:
                move["late_fee"] = late_fee
            # The status check is part of the UPDATE, so two deliveries racing each
            # other cannot both apply, and neither can move an order backwards.
            return order.filter(status__in=behind).update(**move) == 1


class Order(models.Model):
    """An order as the shop keeps it; amounts are integer stroops."""

    reference = models.CharField(max_length=32, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    amount = models.PositiveBigIntegerField(help_text="Total in stroops (1 USDC = 10^7).")
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.CREATED
    )
    session_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    bill_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    customer = models.CharField(max_length=56, null=True, blank=True)
    late_fee = models.PositiveBigIntegerField(default=0, help_text="Late fee charged, stroops.")

    objects: ClassVar[OrderManager] = OrderManager()

    class Meta:
        ordering: ClassVar[list[str]] = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class OrderLine(models.Model):
    """One line of an order, priced when the order was placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_amount = models.PositiveBigIntegerField(help_text="Stroops.")

    class Meta:
        ordering: ClassVar[list[str]] = ["position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["order", "position"], name="lumenshop_line_position")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"

    @property
    def subtotal(self) -> int:
        """``quantity * unit_amount`` in stroops."""
        return self.quantity * self.unit_amount
