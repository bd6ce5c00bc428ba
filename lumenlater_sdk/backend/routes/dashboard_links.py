"""``POST /v1/test_helpers/dashboard_links``: a one-time link into the sandbox dashboard
(what ``lumenlater dashboard`` prints)."""

from __future__ import annotations

from typing import Any

from ...types.dashboard_link import DashboardLink
from ..http import Call, EmptyBody, RouteSpec
from ..services import dashboard_auth

__all__ = ["ROUTES"]


def _create(call: Call) -> dict[str, Any]:
    token, expires_at = dashboard_auth.create_link(call.ctx, call.merchant_id)
    return {
        "object": "test_helpers.dashboard_link",
        "url": f"{call.ctx.config.base_url}/dashboard/link/{token}",
        "expires_at": expires_at,
    }


ROUTES = [
    RouteSpec(
        "POST",
        "/v1/test_helpers/dashboard_links",
        _create,
        "createDashboardLink",
        "Make a one-time link that opens the sandbox dashboard signed in (valid 10 minutes, once).",
        "test_helpers",
        body=EmptyBody,
        response=DashboardLink,
        test_only=True,
    ),
]
