"""The checkout session model: a hosted payment page for one order."""

from __future__ import annotations

from typing import Literal

from ._base import HasAmount, LumenLaterObject
from .bill import ChainAuthorization

SessionStatus = Literal["open", "complete", "expired"] | str
PaymentStatus = Literal["unpaid", "paid"] | str


class LineItem(LumenLaterObject):
    """One line of an order: ``quantity`` × ``unit_amount`` stroops."""

    name: str
    quantity: int
    unit_amount: int


class CheckoutSession(HasAmount):
    """A checkout session (``cs_…``)."""

    id: str
    object: Literal["checkout.session"] | str = "checkout.session"
    created: int
    livemode: bool = False
    metadata: dict[str, str] = {}
    url: str
    client_secret: str | None = None
    status: SessionStatus
    payment_status: PaymentStatus
    currency: str = "usdc"
    line_items: list[LineItem] = []
    order_id: str | None = None
    description: str | None = None
    customer: str | None = None
    bill: str | None = None
    success_url: str
    cancel_url: str
    expires_at: int
    completed_at: int | None = None
    embed_origins: list[str] | None = None
    """The origins that may embed this session (frame its page, read it with the
    publishable key); ``None``: the account's ``embed_origins``."""
    authorization: ChainAuthorization | None = None
    """A self-custody merchant's open session whose bill waits for the merchant's
    signature: that bill's ``create_bill`` entry (as ``Bill.authorization``), else ``None``.
    ``lumenlater_sdk.checkout.authorize_pending`` signs it."""
