"""The shopping cart, kept in the Django session as ``{sku: quantity}``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from .catalogue import PRODUCTS, Product, find_product

MAX_QUANTITY = 99
_KEY = "cart"


@dataclass(frozen=True)
class CartLine:
    """A product and how many of it are in the cart."""

    product: Product
    quantity: int

    @property
    def subtotal(self) -> int:
        """``quantity * price`` in stroops."""
        return self.quantity * self.product.price


class Cart:
    """A view of the cart stored in a Django session."""

    def __init__(self, session: SessionBase) -> None:
        self._session = session

    def _items(self) -> dict[str, int]:
        raw = self._session.get(_KEY) or {}
        # A product can leave the catalogue between two visits.
        return {sku: int(q) for sku, q in raw.items() if find_product(sku) and int(q) > 0}

    def _save(self, items: dict[str, int]) -> None:
        # A new dict each time, so the session notices the change and is saved.
        self._session[_KEY] = items

    def add(self, sku: str, quantity: int) -> None:
        """Add *quantity* of *sku* (capped at :data:`MAX_QUANTITY`)."""
        items = self._items()
        items[sku] = min(items.get(sku, 0) + quantity, MAX_QUANTITY)
        self._save(items)

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Set the quantity of *sku*; 0 removes it."""
        items = self._items()
        if quantity <= 0:
            items.pop(sku, None)
        else:
            items[sku] = min(quantity, MAX_QUANTITY)
        self._save(items)

    def clear(self) -> None:
        """Empty the cart."""
        self._session.pop(_KEY, None)

    def lines(self) -> list[CartLine]:
        """The cart's lines in catalogue order."""
        items = self._items()
        return [CartLine(p, items[p.sku]) for p in PRODUCTS if p.sku in items]

    @property
    def count(self) -> int:
        """Number of items (sum of quantities)."""
        return sum(self._items().values())

    @property
    def total(self) -> int:
        """Sum of the line subtotals in stroops."""
        return sum(line.subtotal for line in self.lines())
