"""The merchant account model."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject
from .bill import ChainAuthorization

MerchantStatus = Literal["pending", "approved", "rejected", "suspended", "cancelled"] | str
Custody = Literal["managed", "self"] | str


class Account(LumenLaterObject):
    """The merchant behind the API key; ``id`` is its Stellar ``G…`` address.

    ``fee_rate_bps`` is the fee the contract takes from each payment, in basis points
    (``150`` = 1.5 % on the deployed contract), as the backend reports it.

    ``custody`` says who holds the merchant's Stellar key: ``"managed"`` (the backend
    keeps it sealed and signs for the merchant) or ``"self"`` (the backend knows only the
    ``G…`` address; the SDK signs with the client's ``stellar_signer``).

    ``authorization`` is the ``enroll_merchant`` entry a self-custody merchant was handed
    by ``POST /v1/account/enroll`` and has not signed yet (``client.account.enroll()``
    does both steps), else ``None``.

    ``embed_origins`` are the origins (``https://shop.example``) whose pages may embed the
    checkout: frame the hosted page and read a session with the publishable key
    (``client.account.update(embed_origins=[...])``; a session may set its own).
    """

    id: str
    object: Literal["account"] | str = "account"
    business_name: str | None = None
    status: MerchantStatus
    fee_rate_bps: int | None = None
    settlement_currency: str = "usdc"
    livemode: bool = False
    created: int | None = None
    custody: Custody = "managed"
    authorization: ChainAuthorization | None = None
    embed_origins: list[str] = []
