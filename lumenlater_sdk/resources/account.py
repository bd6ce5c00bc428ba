"""``client.account``: the merchant behind the API key, and a self-custody merchant's
enrollment on chain.

``enroll()`` takes two idempotent steps: ``POST /v1/account/enroll`` with ``{}`` (key K)
answers the account with the ``enroll_merchant`` entry to sign; the SDK checks it
(exactly ``enroll_merchant(merchant, merchant_info_id)``, :mod:`.._signing`), signs it with
the client's ``stellar_signer`` and sends it with key ``K + ":authorize"``. Calling
``enroll`` again with the same key after a crash between the two completes the same
enrollment.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._options import new_idempotency_key
from .._signing import authorize_key, enrollment_body
from ..types import Account
from ._base import AsyncAPIResource, SyncAPIResource, check_origins, compact

__all__ = ["Accounts", "AsyncAccounts"]

_ENROLL = "/v1/account/enroll"


class Accounts(SyncAPIResource):
    """The merchant account."""

    __slots__ = ()

    def retrieve(self) -> Account:
        """The merchant this key belongs to (status, fee rate, settlement currency)."""
        return self._core.request("GET", "/v1/account", Account.model_validate_json)

    def update(
        self, *, embed_origins: Sequence[str] | None = None, idempotency_key: str | None = None
    ) -> Account:
        """Change the account: *embed_origins* are the origins (``https://shop.example``,
        scheme://host[:port], no path) whose pages may embed the checkout with the embed
        script (frame the hosted page, read a session with the publishable key); ``[]``
        allows none. A session created with its own ``embed_origins`` uses those instead."""
        body = compact(embed_origins=check_origins(embed_origins))
        return self._core.request(
            "POST",
            "/v1/account",
            Account.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    def enroll(self, *, idempotency_key: str | None = None) -> Account:
        """Enroll this self-custody merchant on chain with its own signature.

        Asks for the ``enroll_merchant`` authorization entry, checks it (anything but
        exactly ``enroll_merchant(account.id, merchant_info_id)`` raises
        ``AuthorizationMismatchError``), signs it with the client's ``stellar_signer`` and
        sends it. Returns the account, status ``pending`` until the protocol admin
        approves it (``merchant.approved`` event). Without a signer:
        ``AuthorizationRequiredError``; a managed account: ``BadRequestError``
        ``custody_managed``; enrolled already: ``merchant_already_enrolled``.
        """
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        pending = self._core.request(
            "POST", _ENROLL, Account.model_validate_json, body={}, idempotency_key=key
        )
        body = enrollment_body(pending, self._core.signer)
        return self._core.request(
            "POST",
            _ENROLL,
            Account.model_validate_json,
            body=body,
            idempotency_key=authorize_key(key),
        )


class AsyncAccounts(AsyncAPIResource):
    """The merchant account."""

    __slots__ = ()

    async def retrieve(self) -> Account:
        """The merchant this key belongs to (status, fee rate, settlement currency)."""
        return await self._core.request("GET", "/v1/account", Account.model_validate_json)

    async def update(
        self, *, embed_origins: Sequence[str] | None = None, idempotency_key: str | None = None
    ) -> Account:
        """Change the account: *embed_origins* are the origins (``https://shop.example``,
        scheme://host[:port], no path) whose pages may embed the checkout with the embed
        script (frame the hosted page, read a session with the publishable key); ``[]``
        allows none. A session created with its own ``embed_origins`` uses those instead."""
        body = compact(embed_origins=check_origins(embed_origins))
        return await self._core.request(
            "POST",
            "/v1/account",
            Account.model_validate_json,
            body=body,
            idempotency_key=idempotency_key,
        )

    async def enroll(self, *, idempotency_key: str | None = None) -> Account:
        """Enroll this self-custody merchant on chain with its own signature.

        Asks for the ``enroll_merchant`` authorization entry, checks it (anything but
        exactly ``enroll_merchant(account.id, merchant_info_id)`` raises
        ``AuthorizationMismatchError``), signs it with the client's ``stellar_signer`` and
        sends it. Returns the account, status ``pending`` until the protocol admin
        approves it (``merchant.approved`` event). Without a signer:
        ``AuthorizationRequiredError``; a managed account: ``BadRequestError``
        ``custody_managed``; enrolled already: ``merchant_already_enrolled``.
        """
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        pending = await self._core.request(
            "POST", _ENROLL, Account.model_validate_json, body={}, idempotency_key=key
        )
        body = enrollment_body(pending, self._core.signer)
        return await self._core.request(
            "POST",
            _ENROLL,
            Account.model_validate_json,
            body=body,
            idempotency_key=authorize_key(key),
        )
