"""The API's routes, one module per resource.

How to add routes: create ``routes/<resource>.py`` exporting ``ROUTES:
list[RouteSpec]`` (see :class:`~lumenlater_sdk.backend.http.RouteSpec`) and add it
to :func:`api_routes` below. A handler is a plain function ``handler(call: Call) ->
dict | bytes | Response`` that runs on a worker thread; it parses nothing itself
(the spec's ``body`` / ``query`` models from ``http._fields`` do, unknown fields
giving ``parameter_unknown``), reads ``call.merchant_id``, ``call.path``,
``call.body``, ``call.query``, ``call.request`` and ``call.ctx`` (a
:class:`~lumenlater_sdk.backend.services.context.ServiceContext`), calls services,
and raises :mod:`~lumenlater_sdk.backend.services.errors` errors for 4xx. Lists use
``_lists.list_body`` / ``page_of``. Set ``response=`` / ``list_of=`` to a model
from :mod:`lumenlater_sdk.types` so the OpenAPI document describes it. Routing,
auth, rate limits, idempotency, metrics and ``/v1/openapi.json`` all come from the specs.
"""

from __future__ import annotations

from ..http import RouteSpec
from ..web import loan, pay
from . import (
    account,
    analytics,
    api_keys,
    bills,
    chain,
    checkout_sessions,
    dashboard_links,
    event_resend,
    events,
    request_logs,
    test_helpers,
    webhook_endpoints,
)

__all__ = ["api_routes"]


def api_routes() -> list[RouteSpec]:
    """Every route spec of the API and the hosted pages, hot routes first (Starlette
    tries routes in order)."""
    return [
        *bills.ROUTES,
        *checkout_sessions.ROUTES,
        *account.ROUTES,
        *chain.ROUTES,
        *events.ROUTES,
        *event_resend.ROUTES,
        *analytics.ROUTES,
        *webhook_endpoints.ROUTES,
        *api_keys.ROUTES,
        *request_logs.ROUTES,
        *test_helpers.ROUTES,
        *dashboard_links.ROUTES,
        *pay.ROUTES,
        *loan.ROUTES,
    ]
