"""API key model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import LumenLaterObject

ApiKeyType = Literal["secret", "publishable"] | str
ApiKeyStatus = Literal["active", "expiring", "expired", "revoked"] | str


class ApiKey(LumenLaterObject):
    """An API key of the account (``key_…``).

    ``secret`` (the key itself) is present only in the answer that made it (create,
    roll) and, for test keys, when retrieved with ``reveal=True``. ``hint`` is its last
    four characters. ``status``: ``active``; ``expiring`` (rolled: it works until
    ``expires_at``); ``expired``; ``revoked``.
    """

    id: str
    object: Literal["api_key"] | str = "api_key"
    type: ApiKeyType
    livemode: bool = False
    name: str | None = None
    hint: str
    created: int
    expires_at: int | None = None
    revoked_at: int | None = None
    status: ApiKeyStatus = "active"
    # Out of repr() and str(), so that logging the object never prints the key.
    secret: str | None = Field(default=None, repr=False)
