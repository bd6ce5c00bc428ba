"""``client.checkout.sessions``: hosted checkout sessions for one order each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core import AsyncCore, SyncCore
from .._money import check_amount
from .._pagination import AsyncPaginator, SyncPage
from ..types import CheckoutSession, LineItem
from ._base import AsyncAPIResource, SyncAPIResource, check_customer, compact, path_id

__all__ = [
    "AsyncCheckout",
    "AsyncCheckoutSessions",
    "Checkout",
    "CheckoutSessions",
    "LineItemParam",
]

LineItemParam = LineItem | Mapping[str, Any]
"""A line item: a :class:`~lumenlater_sdk.types.LineItem` or a ``{name, quantity, unit_amount}``
mapping."""


def _line_items(items: Sequence[LineItemParam]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        d = item.to_dict() if isinstance(item, LineItem) else dict(item)
        check_amount(f"line_items[{i}].unit_amount", d.get("unit_amount"))
        q = d.get("quantity")
        if isinstance(q, bool) or not isinstance(q, int):
            raise TypeError(f"line_items[{i}].quantity must be an int, not {type(q).__name__}")
        out.append(d)
    return out


def _create_body(
    amount: int | None,
    success_url: str,
    cancel_url: str,
    currency: str | None,
    order_id: str | None,
    description: str | None,
    line_items: Sequence[LineItemParam] | None,
    customer: str | None,
    expires_in: int | None,
    metadata: dict[str, str] | None,
) -> dict[str, Any]:
    check_amount("amount", amount, optional=line_items is not None)
    if customer is not None:
        check_customer(customer)
    return compact(
        amount=amount,
        currency=currency,
        success_url=success_url,
        cancel_url=cancel_url,
        order_id=order_id,
        description=description,
        line_items=None if line_items is None else _line_items(line_items),
        customer=customer,
        expires_in=expires_in,
        metadata=metadata,
    )


def _list_params(**kw: Any) -> dict[str, Any]:
    return compact(**kw)


class CheckoutSessions(SyncAPIResource):
    """Checkout sessions (``cs_…``)."""

    __slots__ = ()

    def create(
        self,
        *,
        amount: int | None = None,
        success_url: str,
        cancel_url: str,
        currency: str | None = None,
        order_id: str | None = None,
        description: str | None = None,
        line_items: Sequence[LineItemParam] | None = None,
        customer: str | None = None,
        expires_in: int | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        """Open a session; send the customer to its ``url`` (see :mod:`lumenlater_sdk.checkout`).

        *amount* may be omitted when *line_items* are given (it must equal their sum).
        """
        body = _create_body(
            amount,
            success_url,
            cancel_url,
            currency,
            order_id,
            description,
            line_items,
            customer,
            expires_in,
            metadata,
        )
        return self._core.request(
            "POST",
            "/v1/checkout/sessions",
            CheckoutSession.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    def retrieve(self, id: str) -> CheckoutSession:
        """Fetch one session by id."""
        return self._core.request(
            "GET", f"/v1/checkout/sessions/{path_id(id)}", CheckoutSession.model_validate_json
        )

    def list(
        self,
        *,
        status: str | None = None,
        order_id: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[CheckoutSession]:
        """Sessions, newest first; iterate the result to walk every page."""
        params = _list_params(
            status=status,
            order_id=order_id,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.page("/v1/checkout/sessions", params, CheckoutSession.model_validate)

    def expire(self, id: str, *, idempotency_key: str | None = None) -> CheckoutSession:
        """Expire an open session so it can no longer be paid."""
        return self._core.request(
            "POST",
            f"/v1/checkout/sessions/{path_id(id)}/expire",
            CheckoutSession.model_validate_json,
            idempotency_key=idempotency_key,
        )


class AsyncCheckoutSessions(AsyncAPIResource):
    """Checkout sessions (``cs_…``)."""

    __slots__ = ()

    async def create(
        self,
        *,
        amount: int | None = None,
        success_url: str,
        cancel_url: str,
        currency: str | None = None,
        order_id: str | None = None,
        description: str | None = None,
        line_items: Sequence[LineItemParam] | None = None,
        customer: str | None = None,
        expires_in: int | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        """Open a session; send the customer to its ``url`` (see :mod:`lumenlater_sdk.checkout`).

        *amount* may be omitted when *line_items* are given (it must equal their sum).
        """
        body = _create_body(
            amount,
            success_url,
            cancel_url,
            currency,
            order_id,
            description,
            line_items,
            customer,
            expires_in,
            metadata,
        )
        return await self._core.request(
            "POST",
            "/v1/checkout/sessions",
            CheckoutSession.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def retrieve(self, id: str) -> CheckoutSession:
        """Fetch one session by id."""
        return await self._core.request(
            "GET", f"/v1/checkout/sessions/{path_id(id)}", CheckoutSession.model_validate_json
        )

    def list(
        self,
        *,
        status: str | None = None,
        order_id: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[CheckoutSession]:
        """Sessions, newest first: ``await`` for the first page or ``async for`` over all."""
        params = _list_params(
            status=status,
            order_id=order_id,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.paginator("/v1/checkout/sessions", params, CheckoutSession.model_validate)

    async def expire(self, id: str, *, idempotency_key: str | None = None) -> CheckoutSession:
        """Expire an open session so it can no longer be paid."""
        return await self._core.request(
            "POST",
            f"/v1/checkout/sessions/{path_id(id)}/expire",
            CheckoutSession.model_validate_json,
            idempotency_key=idempotency_key,
        )


class Checkout(SyncAPIResource):
    """``client.checkout``: groups :attr:`sessions`."""

    __slots__ = ("sessions",)

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core)
        self.sessions = CheckoutSessions(core)


class AsyncCheckout(AsyncAPIResource):
    """``client.checkout``: groups :attr:`sessions`."""

    __slots__ = ("sessions",)

    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core)
        self.sessions = AsyncCheckoutSessions(core)
