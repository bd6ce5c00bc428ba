"""``client.bills``: create, retrieve, list and cancel on-chain BNPL bills.

A self-custody merchant's bill is created in two idempotent steps: ``POST /v1/bills``
(key K) answers ``requires_authorization`` with the Soroban entry to sign; the SDK checks
and signs it (:mod:`.._signing`, no I/O) and sends ``POST /v1/bills/{id}/authorize`` (key
``K + ":authorize"``). Calling ``create`` again with the same key after a crash between
the two completes the same bill.
"""

from __future__ import annotations

from typing import Any

from .._money import check_amount
from .._options import new_idempotency_key
from .._pagination import AsyncPaginator, SyncPage
from .._signing import authorization_body, authorize_key, awaits_authorization
from ..errors import APIError
from ..types import Bill
from ._base import AsyncAPIResource, SyncAPIResource, check_customer, compact, path_id

__all__ = ["AsyncBills", "Bills"]

# The authorize call's error when the bill was authorized already (e.g. by an earlier attempt
# under another key): the bill's current state is then the answer. Matched by code alone:
# the wire contract says 409, the bundled backend answers 400.
_ALREADY_AUTHORIZED = "bill_not_awaiting_authorization"


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


def _authorize_path(bill: Bill) -> str:
    return f"/v1/bills/{path_id(bill.id)}/authorize"


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
        """Create a bill for *customer* (a ``G…`` address) of *amount* stroops.

        For a self-custody merchant the API answers ``requires_authorization``; the SDK then
        checks the entry (exactly this bill's ``create_bill``, else
        ``AuthorizationMismatchError``), signs it with the client's ``stellar_signer`` and
        sends it, returning the bill on chain (status ``created``). Without a signer it
        raises ``AuthorizationRequiredError`` (``.bill`` is the pending bill). The authorize
        call's Idempotency-Key is ``idempotency_key + ":authorize"`` (the SDK makes
        *idempotency_key* when not given), so retrying with the same key completes the
        same bill.
        """
        body = _create_body(customer, amount, currency, order_id, description, metadata)
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        bill = self._core.request(
            "POST", "/v1/bills", Bill.model_validate_json, body=body, idempotency_key=key
        )
        if not awaits_authorization(bill):
            return bill
        return self._authorize(bill, authorize_key(key))

    def authorize(self, bill_or_id: Bill | str, *, idempotency_key: str | None = None) -> Bill:
        """Sign and send the ``create_bill`` authorization of a pending self-custody bill.

        *bill_or_id* is a ``Bill`` (e.g. ``AuthorizationRequiredError.bill`` or a webhook's
        bill) or a bill id (retrieved first). Checks the entry like ``create``, signs with
        the client's ``stellar_signer`` and returns the bill on chain. A bill that no
        longer awaits authorization is returned as it is (an id is retrieved fresh).
        """
        bill = self.retrieve(bill_or_id) if isinstance(bill_or_id, str) else bill_or_id
        if not awaits_authorization(bill):
            return bill
        return self._authorize(bill, idempotency_key)

    def _authorize(self, bill: Bill, idempotency_key: str | None) -> Bill:
        body = authorization_body(bill, self._core.signer)
        try:
            return self._core.request(
                "POST",
                _authorize_path(bill),
                Bill.model_validate_json,
                body=body,
                idempotency_key=idempotency_key,
            )
        except APIError as exc:
            if exc.code != _ALREADY_AUTHORIZED:
                raise
            current = self.retrieve(bill.id)
            if awaits_authorization(current):
                raise
            return current

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
        """Create a bill for *customer* (a ``G…`` address) of *amount* stroops.

        For a self-custody merchant the API answers ``requires_authorization``; the SDK then
        checks the entry (exactly this bill's ``create_bill``, else
        ``AuthorizationMismatchError``), signs it with the client's ``stellar_signer`` and
        sends it, returning the bill on chain (status ``created``). Without a signer it
        raises ``AuthorizationRequiredError`` (``.bill`` is the pending bill). The authorize
        call's Idempotency-Key is ``idempotency_key + ":authorize"`` (the SDK makes
        *idempotency_key* when not given), so retrying with the same key completes the
        same bill.
        """
        body = _create_body(customer, amount, currency, order_id, description, metadata)
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        bill = await self._core.request(
            "POST", "/v1/bills", Bill.model_validate_json, body=body, idempotency_key=key
        )
        if not awaits_authorization(bill):
            return bill
        return await self._authorize(bill, authorize_key(key))

    async def authorize(
        self, bill_or_id: Bill | str, *, idempotency_key: str | None = None
    ) -> Bill:
        """Sign and send the ``create_bill`` authorization of a pending self-custody bill.

        *bill_or_id* is a ``Bill`` (e.g. ``AuthorizationRequiredError.bill`` or a webhook's
        bill) or a bill id (retrieved first). Checks the entry like ``create``, signs with
        the client's ``stellar_signer`` and returns the bill on chain. A bill that no
        longer awaits authorization is returned as it is (an id is retrieved fresh).
        """
        bill = await self.retrieve(bill_or_id) if isinstance(bill_or_id, str) else bill_or_id
        if not awaits_authorization(bill):
            return bill
        return await self._authorize(bill, idempotency_key)

    async def _authorize(self, bill: Bill, idempotency_key: str | None) -> Bill:
        body = authorization_body(bill, self._core.signer)
        try:
            return await self._core.request(
                "POST",
                _authorize_path(bill),
                Bill.model_validate_json,
                body=body,
                idempotency_key=idempotency_key,
            )
        except APIError as exc:
            if exc.code != _ALREADY_AUTHORIZED:
                raise
            current = await self.retrieve(bill.id)
            if awaits_authorization(current):
                raise
            return current

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
