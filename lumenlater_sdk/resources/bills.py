"""``client.bills``: create, retrieve, list and cancel on-chain BNPL bills."""

from __future__ import annotations

from typing import Any

from .._money import check_amount
from .._pagination import AsyncPaginator, SyncPage
from ..types import Bill
from ._base import AsyncAPIResource, SyncAPIResource, check_customer, compact, path_id

__all__ = ["AsyncBills", "Bills"]


def _create_body(
    customer: str,
    amount: int,
    currency: str | None,
    order_id: str | None,
    description: str | None,
    metadata: dict[str, str] | None,
) -> dict[str, Any]:
    check_amount("amount", amount)
    check_customer(customer)
    return compact(
        customer=customer,
        amount=amount,
        currency=currency,
        order_id=order_id,
        description=description,
        metadata=metadata,
    )


class Bills(SyncAPIResource):
    """Bills issued by this merchant (``bill_…``)."""

    __slots__ = ()

    def create(
        self,
        *,
        customer: str,
        amount: int,
        currency: str | None = None,
        order_id: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Bill:
        """Create a bill for *customer* (a ``G…`` address) of *amount* stroops."""
        body = _create_body(customer, amount, currency, order_id, description, metadata)
        return self._core.request(
            "POST",
            "/v1/bills",
            Bill.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    def retrieve(self, id: str) -> Bill:
        """Fetch one bill by id."""
        return self._core.request("GET", f"/v1/bills/{path_id(id)}", Bill.model_validate_json)

    def list(
        self,
        *,
        status: str | None = None,
        customer: str | None = None,
        order_id: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[Bill]:
        """Bills, newest first; iterate the result to walk every page."""
        params = compact(
            status=status,
            customer=customer,
            order_id=order_id,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.page("/v1/bills", params, Bill.model_validate)

    def cancel(self, id: str, *, idempotency_key: str | None = None) -> Bill:
        """Cancel a bill that has not been paid yet."""
        return self._core.request(
            "POST",
            f"/v1/bills/{path_id(id)}/cancel",
            Bill.model_validate_json,
            idempotency_key=idempotency_key,
        )


class AsyncBills(AsyncAPIResource):
    """Bills issued by this merchant (``bill_…``)."""

    __slots__ = ()

    async def create(
        self,
        *,
        customer: str,
        amount: int,
        currency: str | None = None,
        order_id: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Bill:
        """Create a bill for *customer* (a ``G…`` address) of *amount* stroops."""
        body = _create_body(customer, amount, currency, order_id, description, metadata)
        return await self._core.request(
            "POST",
            "/v1/bills",
            Bill.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def retrieve(self, id: str) -> Bill:
        """Fetch one bill by id."""
        return await self._core.request("GET", f"/v1/bills/{path_id(id)}", Bill.model_validate_json)

    def list(
        self,
        *,
        status: str | None = None,
        customer: str | None = None,
        order_id: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[Bill]:
        """Bills, newest first: ``await`` for the first page or ``async for`` over all."""
        params = compact(
            status=status,
            customer=customer,
            order_id=order_id,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.paginator("/v1/bills", params, Bill.model_validate)

    async def cancel(self, id: str, *, idempotency_key: str | None = None) -> Bill:
        """Cancel a bill that has not been paid yet."""
        return await self._core.request(
            "POST",
            f"/v1/bills/{path_id(id)}/cancel",
            Bill.model_validate_json,
            idempotency_key=idempotency_key,
        )
