"""Secrets chosen per request, for one webhook URL serving many merchants' endpoints.

A platform that registers an endpoint for each merchant it acts for gets a different
``whsec_…`` secret for each. Pass ``secret=`` a function instead of a string: it
receives a :class:`WebhookRequest` (the URL and headers, never the unverified body)
and returns that request's secret(s), typically looked up by a path parameter such as
``/webhooks/lumenlater/<merchant_id>``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeGuard
from urllib.parse import parse_qsl

from ._signature import Secrets

__all__ = ["SecretResolver", "WebhookRequest", "is_resolver", "resolved_keys"]


@dataclass(frozen=True)
class WebhookRequest:
    """What a secret resolver can see of one delivery: where it was sent, not its body.

    ``path`` is the URL path, ``path_params`` the framework's route parameters
    (Starlette's ``{merchant_id}``, Flask's ``<merchant_id>``, Django's
    ``<str:merchant_id>``), ``query`` the query string's parameters (the first value
    of each) and ``headers`` the request headers with lower-case names.
    """

    path: str
    path_params: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_asgi(cls, scope: Mapping[str, Any]) -> WebhookRequest:
        """The request an ASGI ``scope`` describes."""
        query: dict[str, str] = {}
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            query.setdefault(name, value)
        return cls(
            path=scope.get("path", ""),
            path_params=dict(scope.get("path_params") or {}),
            query=query,
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        )


SecretResolver: TypeAlias = Callable[[WebhookRequest], Secrets | Awaitable[Secrets | None] | None]
"""``secret=`` as a function of the request: returns the secret, a list of secrets (a
rotation), or ``None`` when the URL names no known endpoint (the delivery is refused
with ``400 no_secret``). ``async def`` resolvers are awaited by :class:`WebhookApp`
and run to completion by the Flask and Django adapters."""


def is_resolver(secret: object) -> TypeGuard[SecretResolver]:
    """Whether ``secret=`` is a function (a string or a list of strings is not)."""
    return callable(secret) and not isinstance(secret, (str, bytes))


def resolved_keys(value: object) -> Secrets | None:
    """Check what a resolver returned: ``None``/empty means no secret for this request."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, Sequence) and all(isinstance(s, str) and s for s in value):
        return list(value) or None
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if close is not None:
            close()  # not awaited here: no "never awaited" warning either
        raise TypeError("this secret resolver is async: use WebhookApp or await it yourself")
    raise TypeError(
        "a secret resolver must return a whsec_ secret, a list of them, or None, "
        f"not {type(value).__name__}"
    )
