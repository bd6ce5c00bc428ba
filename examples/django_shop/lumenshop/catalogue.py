"""What the shop sells: a fixed catalogue with integer stroop prices."""

from __future__ import annotations

from dataclasses import dataclass

from lumenlater_sdk import usdc


@dataclass(frozen=True)
class Product:
    """One thing for sale; ``price`` is in stroops (1 USDC = 10,000,000)."""

    sku: str
    name: str
    description: str
    price: int


PRODUCTS: tuple[Product, ...] = (
    Product("mug", "Stellar mug", "Stoneware; holds a ledger's worth of coffee.", usdc("12.50")),
    Product("tee", "Soroban T-shirt", "Organic cotton with the contract-call diagram.", usdc("25")),
    Product("lamp", "Lumen desk lamp", "Warm light for late-night settlement runs.", usdc("89.99")),
    Product("notebook", "Ledger notebook", "A5, dotted, 160 pages.", usdc("7.25")),
)

_BY_SKU = {p.sku: p for p in PRODUCTS}


def find_product(sku: str) -> Product | None:
    """The product with this SKU, or ``None``."""
    return _BY_SKU.get(sku)
