"""``client.checkout.sessions``: hosted checkout sessions for one order each.

A self-custody merchant's session created with ``customer`` gets its bill at once, waiting
for the merchant's signature (``session.authorization``); ``create`` then authorizes that
bill exactly as ``client.bills.authorize`` does (the same checks and signer, key
``idempotency_key + ":authorize"``) and returns the session ready to pay. Calling
``create`` again with the same key after a crash between the two completes the same
session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core import AsyncCore, SyncCore
from .._money import check_amount
from .._options import new_idempotency_key
from .._pagination import AsyncPaginator, SyncPage
from .._signing import authorize_key
from ..errors import AuthorizationError, AuthorizationRequiredError
from ..types import CheckoutSession, LineItem
from ._base import (
    AsyncAPIResource,
    SyncAPIResource,
    check_customer,
    check_origins,
    compact,
    path_id,
)
from .bills import AsyncBills, Bills

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
    embed_origins: Sequence[str] | None,
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
        embed_origins=check_origins(embed_origins),
    )


def _list_params(**kw: Any) -> dict[str, Any]:
    return compact(**kw)


def awaits_authorization(session: CheckoutSession) -> bool:
    """Whether *session*'s bill waits for its (self-custody) merchant's signature."""
    return session.authorization is not None and session.bill is not None


def _for_session(exc: AuthorizationError, session: CheckoutSession) -> AuthorizationError:
    """*exc* (raised while authorizing *session*'s bill) with the session on it; without a
    signer, a message in the session's terms."""
    if isinstance(exc, AuthorizationRequiredError):
        exc = AuthorizationRequiredError(
            f"Checkout session {session.id} was created, but its bill {session.bill} waits "
            "for the merchant's signature (self-custody account): create the client with "
            "stellar_signer=Keypair.from_secret(...) or a signing callable "
            "(payload: bytes) -> bytes, or call "
            "lumenlater_sdk.checkout.authorize_pending(client, error.session) later from a "
            "client that has one. The session and its bill are on this error as .session "
            "and .bill.",
            bill=exc.bill,
            session=session,
        )
    exc.session = session
    return exc


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
        embed_origins: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        """Open a session; send the customer to its ``url`` (see :mod:`lumenlater_sdk.checkout`).

        *amount* may be omitted when *line_items* are given (it must equal their sum).
        A self-custody merchant's session with *customer* comes with its bill, which this
        call authorizes with the client's ``stellar_signer`` (as ``client.bills.create``
        does) so the hosted page goes straight to payment. Without a signer:
        ``AuthorizationRequiredError`` with ``.session`` and ``.bill`` (the session exists;
        ``lumenlater_sdk.checkout.authorize_pending`` completes it later).

        *embed_origins* (``["https://shop.example"]``) are the origins whose pages may embed
        this session with the embed script; without it, the account's
        (``client.account.update(embed_origins=...)``).
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
            embed_origins,
        )
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        session = self._core.request(
            "POST",
            "/v1/checkout/sessions",
            CheckoutSession.model_validate_json,
            body=body,
            idempotency_key=key,
        )
        if not awaits_authorization(session):
            return session
        return self._authorize(session, idempotency_key=authorize_key(key))

    def _authorize(
        self, session: CheckoutSession, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        """Authorize the bill *session* waits on (``client.bills.authorize``), then return
        the session as it is now (a session that waits on nothing: retrieved fresh). Used by
        ``create`` and :func:`lumenlater_sdk.checkout.authorize_pending`, which checks the
        session first."""
        if awaits_authorization(session):
            assert session.bill is not None
            bills = Bills(self._core)
            try:
                bills.authorize(bills.retrieve(session.bill), idempotency_key=idempotency_key)
            except AuthorizationError as exc:
                raise _for_session(exc, session) from None
        return self.retrieve(session.id)

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
        embed_origins: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSession:
        """Open a session; send the customer to its ``url`` (see :mod:`lumenlater_sdk.checkout`).

        *amount* may be omitted when *line_items* are given (it must equal their sum).
        A self-custody merchant's session with *customer* comes with its bill, which this
        call authorizes with the client's ``stellar_signer`` (as ``client.bills.create``
        does) so the hosted page goes straight to payment. Without a signer:
        ``AuthorizationRequiredError`` with ``.session`` and ``.bill`` (the session exists;
        ``lumenlater_sdk.checkout.authorize_pending`` completes it later).

        *embed_origins* (``["https://shop.example"]``) are the origins whose pages may embed
        this session with the embed script; without it, the account's
        (``client.account.update(embed_origins=...)``).
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
            embed_origins,
        )
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        session = await self._core.request(
            "POST",
            "/v1/checkout/sessions",
            CheckoutSession.model_validate_json,
            body=body,
            idempotency_key=key,
        )
        if not awaits_authorization(session):
            return session
        return await self._authorize(session, idempotency_key=authorize_key(key))

    async def _authorize(
        self, session: CheckoutSession, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        """Authorize the bill *session* waits on (``client.bills.authorize``), then return
        the session as it is now (a session that waits on nothing: retrieved fresh). Used by
        ``create`` and :func:`lumenlater_sdk.checkout.authorize_pending`, which checks the
        session first."""
        if awaits_authorization(session):
            assert session.bill is not None
            bills = AsyncBills(self._core)
            try:
                bill = await bills.retrieve(session.bill)
                await bills.authorize(bill, idempotency_key=idempotency_key)
            except AuthorizationError as exc:
                raise _for_session(exc, session) from None
        return await self.retrieve(session.id)

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
