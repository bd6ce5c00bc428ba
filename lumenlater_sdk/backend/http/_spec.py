"""Route specs: one table drives routing, validation and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ..services.context import Principal, RequestInfo, ServiceContext

__all__ = ["CHAIN_ERRORS", "SANDBOX_ERRORS", "Auth", "Call", "RouteSpec"]

Auth = Literal["secret", "publishable", "none"]

CHAIN_ERRORS = (400, 401, 404, 409, 429, 503)
"""Statuses of a route that relays to the chain (503: the chain is unreachable)."""

SANDBOX_ERRORS = (*CHAIN_ERRORS, 403)
"""Statuses of a route that uses a sandbox power (403 ``sandbox_only``: the backend
runs on a real chain, which has no such power)."""


@dataclass
class Call:
    """Everything a handler gets: parsed input, the caller, and the services."""

    ctx: ServiceContext
    principal: Principal | None
    path: dict[str, str]
    body: Any  # the route's body model instance, or None
    query: Any  # the route's query model instance, or None
    request: RequestInfo
    url_path: str
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""
    client: str = ""  # the client address's rate-limit bucket (on routes without a key)

    @property
    def merchant_id(self) -> str:
        """The authenticated merchant (routes with ``auth="none"`` must not ask)."""
        assert self.principal is not None
        return self.principal.merchant_id


@dataclass(frozen=True)
class RouteSpec:
    """One API operation.

    ``handler(call)`` runs on a worker thread and returns a ``dict`` (sent as JSON),
    ``bytes`` (already-encoded JSON) or an ASGI response object. ``response`` /
    ``list_of`` name the pydantic model of the success body for the OpenAPI
    document; ``media_type`` overrides JSON for non-JSON bodies. ``raw_body`` hands the
    unparsed body to the handler as ``call.raw`` (HTML forms). ``inline`` marks a
    point read by key that may run on the event loop itself where the database says
    such reads never wait (:attr:`~lumenlater_sdk.backend.db.Database.inline_reads`),
    saving the hop to a worker thread. ``throttled=False`` exempts a route without keys
    from the rate limit (health, metrics, static files: an anonymous flood must not
    take them down with it).
    """

    method: str
    path: str
    handler: Callable[[Call], Any]
    operation_id: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    list_of: type[BaseModel] | None = None
    media_type: str = "application/json"
    auth: Auth = "secret"
    test_only: bool = False
    status: int = 200
    include_in_schema: bool = True
    errors: tuple[int, ...] = (400, 401, 404, 429)
    raw_body: bool = False
    alt_media_types: tuple[str, ...] = ()
    file_of: type[BaseModel] | None = None  # records of a streamed JSON file
    inline: bool = False
    throttled: bool = True
