"""The API's routes, one module per resource.

How to add routes (e.g. ``/v1/webhook_endpoints…`` or ``POST /v1/events/{id}/resend``):

1. Create ``lumenlater_sdk/backend/routes/<resource>.py`` exporting
   ``ROUTES: list[RouteSpec]`` (see :class:`~lumenlater_sdk.backend.http.RouteSpec`).
   A handler is a plain function ``handler(call: Call) -> dict | bytes | Response``
   that runs on a worker thread; parse input with a ``Body`` / ``Query`` /
   ``ListQuery`` model from ``http._fields`` (unknown fields → ``parameter_unknown``),
   read ``call.merchant_id``, ``call.path``, ``call.body``, ``call.query``,
   ``call.request`` (request id + idempotency key for events) and ``call.ctx`` (a
   :class:`~lumenlater_sdk.backend.services.context.ServiceContext`: ``db``,
   ``config``, ``chain``, ``box``), call your service functions, and raise
   :mod:`~lumenlater_sdk.backend.services.errors` errors for 4xx. Lists use
   ``_lists.list_body`` / ``page_of``. Set ``response=`` / ``list_of=`` to a model
   from :mod:`lumenlater_sdk.types` so the OpenAPI document describes it.
2. Add the module name to ``ROUTE_MODULES`` below. Nothing else: routing, auth,
   rate limits, idempotency, metrics and ``/v1/openapi.json`` all come from the specs.

Schema: your component keeps its own migrations; ``create_app`` runs
``install_hooks`` (see :mod:`lumenlater_sdk.backend.app`) for delivery's tables.
"""

from __future__ import annotations

import importlib

from ..http._spec import RouteSpec

__all__ = ["ROUTE_MODULES", "api_routes"]

ROUTE_MODULES: tuple[str, ...] = (
    "account",
    "bills",
    "checkout_sessions",
    "events",
    "analytics",
    "test_helpers",
    "webhook_endpoints",  # owned by the delivery component; optional until it exists
    "event_resend",  # POST /v1/events/{id}/resend, also the delivery component's
)


def api_routes() -> list[RouteSpec]:
    """Every route spec of every registered module (missing optional modules skipped)."""
    specs: list[RouteSpec] = []
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        specs.extend(module.ROUTES)
    from ..web.pay import ROUTES as PAGES

    return [*specs, *PAGES]
