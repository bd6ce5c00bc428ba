"""``client.chain``: the chain behind the API."""

from __future__ import annotations

from ..types import Chain
from ._base import AsyncAPIResource, SyncAPIResource

__all__ = ["AsyncChains", "Chains"]


class Chains(SyncAPIResource):
    """The chain the backend relays to."""

    __slots__ = ()

    def retrieve(self) -> Chain:
        """The gateway, network passphrase, RPC endpoint, contract ids and latest ledger."""
        return self._core.request("GET", "/v1/chain", Chain.model_validate_json)


class AsyncChains(AsyncAPIResource):
    """The chain the backend relays to."""

    __slots__ = ()

    async def retrieve(self) -> Chain:
        """The gateway, network passphrase, RPC endpoint, contract ids and latest ledger."""
        return await self._core.request("GET", "/v1/chain", Chain.model_validate_json)
