"""The PaymentFailure model: one refused payment attempt on the hosted page or the widget."""

from __future__ import annotations

from typing import Literal

from ._base import HasAmount


class PaymentFailure(HasAmount):
    """A shopper tried to pay a checkout session and was refused (``pf_…``), the
    ``data.object`` of ``payment.failed``.

    ``code`` is the refusal's API code (``insufficient_collateral``, ``invalid_signature``,
    ``bill_expired``, ...), ``message`` its explanation; ``customer`` the paying address
    when it is known, ``bill`` the session's bill at the time, if it had one. The session
    stays open: the shopper may try again.
    """

    id: str
    object: Literal["payment_failure"] | str = "payment_failure"
    session: str
    bill: str | None = None
    customer: str | None = None
    amount: int
    currency: str = "usdc"
    code: str
    message: str
    created: int
    livemode: bool = False
