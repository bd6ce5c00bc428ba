"""``client.account``: the merchant behind the API key."""

from __future__ import annotations

from ..types import Account
from ._base import AsyncAPIResource, SyncAPIResource

__all__ = ["Accounts", "AsyncAccounts"]


class Accounts(SyncAPIResource):
    """The merchant account."""

    __slots__ = ()

    def retrieve(self) -> Account:
        """The merchant this key belongs to (status, fee rate, settlement currency)."""
        return self._core.request("GET", "/v1/account", Account.model_validate_json)


class AsyncAccounts(AsyncAPIResource):
    """The merchant account."""

    __slots__ = ()

    async def retrieve(self) -> Account:
        """The merchant this key belongs to (status, fee rate, settlement currency)."""
        return await self._core.request("GET", "/v1/account", Account.model_validate_json)
