"""The dashboard's route specs: no API key (the session cookie signs in), not in the
API's OpenAPI document, forms posted raw."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ...http import RouteSpec
from . import _auth, actions, pages

__all__ = ["dashboard_routes"]


def _get(
    path: str, handler: Callable[..., Any], op: str, summary: str, *, query: bool = True
) -> RouteSpec:
    return RouteSpec(
        "GET",
        path,
        handler,
        op,
        summary,
        "dashboard",
        query=pages.PageQuery if query else None,
        auth="none",
        include_in_schema=False,
    )


def _post(path: str, handler: Callable[..., Any], op: str, summary: str) -> RouteSpec:
    return RouteSpec(
        "POST",
        path,
        handler,
        op,
        summary,
        "dashboard",
        auth="none",
        include_in_schema=False,
        raw_body=True,
    )


def dashboard_routes() -> list[RouteSpec]:
    """Every route of the sandbox dashboard (mount only when the backend is not live)."""
    guard = _auth.SignInGuard()
    return [
        _get("/dashboard", pages.overview, "dashboardOverview", "Overview."),
        _get("/dashboard/login", _auth.login_form, "dashboardLogin", "Sign-in form.", query=False),
        _post(
            "/dashboard/login",
            partial(_auth.login_submit, guard=guard),
            "dashboardSignIn",
            "Sign in with a key.",
        ),
        _get(
            "/dashboard/link/{token}",
            partial(_auth.link, guard=guard),
            "dashboardLink",
            "One-time link.",
            query=False,
        ),
        _post("/dashboard/logout", _auth.logout, "dashboardSignOut", "Sign out."),
        _get("/dashboard/bills", pages.bill_list, "dashboardBills", "Bills."),
        _get("/dashboard/bills/{id}", pages.bill_detail, "dashboardBill", "A bill."),
        _get("/dashboard/sessions", pages.session_list, "dashboardSessions", "Sessions."),
        _get("/dashboard/sessions/{id}", pages.session_detail, "dashboardSession", "A session."),
        _get("/dashboard/events", pages.event_list, "dashboardEvents", "Events."),
        _get("/dashboard/events/{id}", pages.event_detail, "dashboardEvent", "An event."),
        _post(
            "/dashboard/events/{id}/resend",
            actions.resend_event,
            "dashboardResend",
            "Resend an event.",
        ),
        _get("/dashboard/webhooks", pages.webhook_list, "dashboardWebhooks", "Endpoints."),
        _get(
            "/dashboard/webhooks/{id}",
            pages.webhook_detail,
            "dashboardWebhook",
            "An endpoint's deliveries.",
        ),
        _get(
            "/dashboard/webhooks/{id}/attempts/{attempt}",
            pages.attempt_detail,
            "dashboardWebhookAttempt",
            "One delivery attempt.",
        ),
        _get("/dashboard/logs", pages.logs, "dashboardLogs", "The request log."),
        _get("/dashboard/clock", pages.clock_page, "dashboardClock", "The test clock."),
        _post("/dashboard/clock/advance", actions.advance_clock, "dashboardAdvance", "Advance."),
        _get("/dashboard/wallets", pages.wallet_list, "dashboardWallets", "Wallets."),
        _get("/dashboard/keys", pages.keys, "dashboardKeys", "API keys."),
        _post("/dashboard/keys/reveal", actions.reveal_keys, "dashboardReveal", "Show keys."),
        _post("/dashboard/keys/{id}/roll", actions.roll_key, "dashboardRoll", "Roll a key."),
        _get("/dashboard/analytics", pages.analytics, "dashboardAnalytics", "Analytics."),
    ]
