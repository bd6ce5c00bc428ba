"""The Bill model: one on-chain BNPL bill, and the authorization a self-custody bill awaits."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from .._money import to_decimal
from ._base import HasAmount, LumenLaterObject

BillStatus = (
    Literal[
        "requires_authorization",
        "created",
        "paid",
        "repaid",
        "overdue",
        "liquidated",
        "expired",
        "cancelled",
    ]
    | str
)


class ChainAuthorization(LumenLaterObject):
    """The Soroban authorization a self-custody merchant must sign before its bill goes on chain.

    Present while the bill's status is ``requires_authorization``. ``entry_xdr`` is the
    unsigned ``SorobanAuthorizationEntry`` (base64) for ``function`` on ``contract_id``,
    to be signed by ``address`` (the merchant) for ``network_passphrase``. ``nonce`` is the
    entry's int64 nonce as a decimal string, as on the wire (JSON numbers are not exact
    beyond 2**53). The SDK checks and signs it for you (``stellar_signer=``).

    A self-custody merchant's enrollment (``Account.authorization``) is the same object for
    ``enroll_merchant``, with ``merchant_info_id``, the call's second argument (``None``
    for a bill's ``create_bill``).
    """

    object: Literal["chain_authorization"] | str = "chain_authorization"
    address: str
    contract_id: str
    function: str
    entry_xdr: str
    nonce: str
    signature_expiration_ledger: int
    network_passphrase: str
    merchant_info_id: str | None = None


class BillChain(LumenLaterObject):
    """Where the bill lives on chain."""

    contract_id: str
    bill_number: int
    tx_hash: str | None = None
    ledger: int | None = None


class Bill(HasAmount):
    """A bill the merchant issued to a customer (``bill_…``)."""

    id: str
    object: Literal["bill"] | str = "bill"
    created: int
    livemode: bool = False
    metadata: dict[str, str] = {}
    customer: str
    merchant: str
    currency: str = "usdc"
    status: BillStatus
    order_id: str | None = None
    description: str | None = None
    expires_at: int
    paid_at: int | None = None
    grace_period_ends_at: int | None = None
    liquidatable_at: int | None = None
    late_fee: int = 0
    amount_due: int = 0
    repaid_at: int | None = None
    liquidated_at: int | None = None
    chain: BillChain | None = None
    authorization: ChainAuthorization | None = None

    @property
    def amount_due_decimal(self) -> Decimal:
        """``amount_due`` in USDC."""
        return to_decimal(self.amount_due)
