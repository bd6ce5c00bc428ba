"""``client.api_keys``: the account's API keys (list, create, show again, roll, revoke)."""

from __future__ import annotations

from typing import Any, Literal

from .._pagination import AsyncPaginator, SyncPage
from ..types import ApiKey
from ._base import AsyncAPIResource, SyncAPIResource, compact, path_id

__all__ = ["ApiKeys", "AsyncApiKeys"]

_PATH = "/v1/api_keys"
_parse = ApiKey.model_validate_json


def _retrieve_params(reveal: bool) -> dict[str, Any] | None:
    if not isinstance(reveal, bool):
        raise TypeError("reveal must be True or False")
    return {"reveal": "true"} if reveal else None


class ApiKeys(SyncAPIResource):
    """API keys (``key_…``). Managing keys takes a secret key."""

    __slots__ = ()

    def create(
        self,
        *,
        type: Literal["secret", "publishable"],
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKey:
        """A new key; the returned object carries the key itself in ``secret`` (live keys:
        only now)."""
        return self._core.request(
            "POST",
            _PATH,
            _parse,
            body=compact(type=type, name=name),
            idempotency_key=idempotency_key,
        )

    def retrieve(self, id: str, *, reveal: bool = False) -> ApiKey:
        """One key; ``reveal=True`` returns a test key with its ``secret`` again (a live
        key is refused: it is kept as a hash only)."""
        return self._core.request(
            "GET", f"{_PATH}/{path_id(id)}", _parse, params=_retrieve_params(reveal)
        )

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[ApiKey]:
        """Keys, newest first (revoked and expired ones too); iterate for every page."""
        params = compact(limit=limit, starting_after=starting_after, ending_before=ending_before)
        return self._core.page(_PATH, params, ApiKey.model_validate)

    def roll(
        self,
        id: str,
        *,
        expires_in: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKey:
        """Replace the key: returns the new one (with ``secret``); the old one keeps working
        for *expires_in* seconds (default 0: it stops now; at most 7 days)."""
        return self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/roll",
            _parse,
            body=compact(expires_in=expires_in),
            idempotency_key=idempotency_key,
        )

    def revoke(self, id: str, *, idempotency_key: str | None = None) -> ApiKey:
        """Revoke the key now, for good (even the one this client uses; the account's last
        active secret key is refused with ``last_secret_key``)."""
        return self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/revoke",
            _parse,
            body={},
            idempotency_key=idempotency_key,
        )


class AsyncApiKeys(AsyncAPIResource):
    """API keys (``key_…``). Managing keys takes a secret key."""

    __slots__ = ()

    async def create(
        self,
        *,
        type: Literal["secret", "publishable"],
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKey:
        """A new key; the returned object carries the key itself in ``secret`` (live keys:
        only now)."""
        return await self._core.request(
            "POST",
            _PATH,
            _parse,
            body=compact(type=type, name=name),
            idempotency_key=idempotency_key,
        )

    async def retrieve(self, id: str, *, reveal: bool = False) -> ApiKey:
        """One key; ``reveal=True`` returns a test key with its ``secret`` again (a live
        key is refused: it is kept as a hash only)."""
        return await self._core.request(
            "GET", f"{_PATH}/{path_id(id)}", _parse, params=_retrieve_params(reveal)
        )

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[ApiKey]:
        """Keys, newest first: ``await`` for the first page or ``async for`` over all."""
        params = compact(limit=limit, starting_after=starting_after, ending_before=ending_before)
        return self._core.paginator(_PATH, params, ApiKey.model_validate)

    async def roll(
        self,
        id: str,
        *,
        expires_in: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiKey:
        """Replace the key: returns the new one (with ``secret``); the old one keeps working
        for *expires_in* seconds (default 0: it stops now; at most 7 days)."""
        return await self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/roll",
            _parse,
            body=compact(expires_in=expires_in),
            idempotency_key=idempotency_key,
        )

    async def revoke(self, id: str, *, idempotency_key: str | None = None) -> ApiKey:
        """Revoke the key now, for good (even the one this client uses; the account's last
        active secret key is refused with ``last_secret_key``)."""
        return await self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/revoke",
            _parse,
            body={},
            idempotency_key=idempotency_key,
        )
