"""The base of every response model: lenient, so an older SDK keeps working as the API grows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from .._money import to_decimal


class LumenLaterObject(BaseModel):
    """Base model: unknown fields are kept (``model_extra``), enums accept unknown strings."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def to_dict(self) -> dict[str, Any]:
        """The object as plain JSON-compatible data, unknown fields included."""
        return self.model_dump(mode="json")


class HasAmount(LumenLaterObject):
    """Mixin for objects with an integer ``amount`` in stroops."""

    amount: int

    @property
    def amount_decimal(self) -> Decimal:
        """``amount`` as an exact :class:`~decimal.Decimal` number of USDC."""
        return to_decimal(self.amount)


class DeletedObject(LumenLaterObject):
    """What a ``DELETE`` returns."""

    id: str
    object: str
    deleted: bool = True
