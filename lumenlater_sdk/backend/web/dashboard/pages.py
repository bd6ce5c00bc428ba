"""The dashboard's pages (GET): each reads through the services, scoped to the signed-in
merchant, and renders one template. Another merchant's object is "not found"."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, Concatenate, Literal, ParamSpec

from pydantic import StringConstraints
from starlette.responses import Response

from .... import format_usdc
from ...http import Call, Query
from ...paging import PageRequest
from ...services import (
    api_keys,
    bills,
    checkout,
    dashboard,
    events_api,
    merchants,
    request_log,
    wallets,
    webhook_endpoints,
)
from ...services import clock as clock_service
from ...services.bills import BillFilters
from ...services.errors import NotFound, ServiceError
from ._auth import Signed, signed_in, to_login
from ._charts import chart
from ._frame import page, stamp

__all__ = ["NOTICES", "PageQuery"]

_Cursor = Annotated[str, StringConstraints(max_length=100)]
_PER_PAGE = 25

NOTICES = {
    "resent": "The event was queued for delivery again.",
    "advanced": "The clock moved on; what that time caused has run.",
}
"""What a page says after a form's redirect (``?done=``): fixed words, never echoed input."""


P = ParamSpec("P")


class PageQuery(Query):
    """A dashboard page's query: the list cursor, the notice to show, live refresh."""

    after: _Cursor | None = None
    done: Literal["resent", "advanced"] | None = None
    live: Literal["1"] | None = None


def signed_page(
    nav: str,
) -> Callable[
    [Callable[Concatenate[Call, Signed, dict[str, Any], P], Response]],
    Callable[Concatenate[Call, P], Response],
]:
    """A page for the signed-in merchant only (others go to the sign-in page), given who
    that is and the frame's values, with *nav* the menu entry it lights."""

    def wrap(
        render: Callable[Concatenate[Call, Signed, dict[str, Any], P], Response],
    ) -> Callable[Concatenate[Call, P], Response]:
        @functools.wraps(render)
        def serve(call: Call, /, *args: P.args, **kwargs: P.kwargs) -> Response:
            who = signed_in(call)
            if who is None:
                return to_login()
            q: PageQuery | None = call.query
            notice = NOTICES.get(q.done or "") if q is not None else None
            return render(call, who, {**who.frame(nav), "notice": notice}, *args, **kwargs)

        return serve

    return wrap


def _page(q: Any) -> PageRequest:
    return PageRequest(_PER_PAGE, starting_after=getattr(q, "after", None))


def _status_badge(status: str) -> str:
    if status in ("paid", "repaid", "complete", "enabled", "delivered"):
        return "ok"
    if status in ("open", "created", "requires_authorization", "overdue", "pending"):
        return "warn"
    if status in ("expired", "cancelled", "liquidated", "disabled", "failed", "voided"):
        return "bad"
    return ""


@signed_page("overview")
def overview(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard``."""
    ctx, m = call.ctx, who.merchant_id
    now = int(clock_service.clock(ctx)["now"])
    recent_bills, _ = bills.list_bills(ctx, m, PageRequest(5), BillFilters())
    recent_events, _ = events_api.list_events(ctx, m, PageRequest(5), event_type=None)
    recent_logs, _ = request_log.list_request_logs(ctx, m, PageRequest(5))
    days = dashboard.daily_metrics(ctx, m, days=14)
    return page(
        "overview.html",
        title="Overview",
        now=now,
        account=merchants.account(ctx, m),
        bills=recent_bills,
        events=[json.loads(e) for e in recent_events],
        logs=recent_logs,
        volume=sum(d.volume for d in days),
        fees=sum(d.fees for d in days),
        volume_chart=_volume_chart(days),
        badge=_status_badge,
        **frame,
    )


@signed_page("bills")
def bill_list(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/bills``."""
    rows, more = bills.list_bills(call.ctx, who.merchant_id, _page(call.query), BillFilters())
    return page("bills.html", title="Bills", bills=rows, more=more, badge=_status_badge, **frame)


@signed_page("bills")
def bill_detail(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/bills/{id}``."""
    try:
        bill = bills.retrieve_bill(call.ctx, who.merchant_id, call.path["id"])
    except NotFound:
        return _missing("bill", frame)
    return _object_page(call, who, frame, "Bill", bill, _bill_fields(bill))


@signed_page("sessions")
def session_list(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/sessions``."""
    rows, more = checkout.list_sessions(
        call.ctx, who.merchant_id, _page(call.query), status=None, order_id=None
    )
    return page(
        "sessions.html",
        title="Checkout sessions",
        sessions=rows,
        more=more,
        badge=_status_badge,
        **frame,
    )


@signed_page("sessions")
def session_detail(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/sessions/{id}``."""
    try:
        session = checkout.retrieve_session(call.ctx, who.merchant_id, call.path["id"])
    except NotFound:
        return _missing("checkout session", frame)
    shown = {k: v for k, v in session.items() if k != "client_secret"}
    fields = [
        ("Amount", format_usdc(session["amount"])),
        ("Payment status", session["payment_status"]),
        ("Order", session["order_id"] or ""),
        ("Customer", session["customer"] or ""),
        ("Bill", session["bill"] or ""),
        ("Created", stamp(session["created"])),
        ("Expires", stamp(session["expires_at"])),
    ]
    return _object_page(call, who, frame, "Checkout session", shown, fields)


@signed_page("events")
def event_list(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/events``."""
    docs, more = events_api.list_events(
        call.ctx, who.merchant_id, _page(call.query), event_type=None
    )
    return page(
        "events.html", title="Events", events=[json.loads(d) for d in docs], more=more, **frame
    )


@signed_page("events")
def event_detail(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/events/{id}``: the event's JSON and each delivery attempt, with a
    resend button."""
    try:
        raw = events_api.retrieve_event(call.ctx, who.merchant_id, call.path["id"])
    except NotFound:
        return _missing("event", frame)
    event = json.loads(raw)
    endpoints, _ = webhook_endpoints.list_endpoints(call.ctx, who.merchant_id, PageRequest(100))
    return page(
        "event.html",
        title=f"Event {event['id']}",
        event=event,
        attempts=dashboard.event_deliveries(call.ctx, who.merchant_id, event["id"]),
        endpoints=[e for e in endpoints if e["status"] == "enabled"],
        **frame,
    )


@signed_page("webhooks")
def webhook_list(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/webhooks``: endpoints."""
    rows, _ = webhook_endpoints.list_endpoints(call.ctx, who.merchant_id, PageRequest(100))
    return page("webhooks.html", title="Webhooks", endpoints=rows, badge=_status_badge, **frame)


@signed_page("webhooks")
def webhook_detail(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/webhooks/{id}``: the endpoint's delivery attempts, each with the
    request (the event it carried) and the response."""
    try:
        endpoint = webhook_endpoints.retrieve_endpoint(call.ctx, who.merchant_id, call.path["id"])
        attempts, more = webhook_endpoints.list_deliveries(
            call.ctx, who.merchant_id, endpoint["id"], _page(call.query)
        )
    except NotFound:
        return _missing("webhook endpoint", frame)
    bodies: dict[str, str | None] = {}  # the JSON each attempt sent, byte for byte
    for a in attempts:
        if a["event"] not in bodies:
            try:
                raw = events_api.retrieve_event(call.ctx, who.merchant_id, a["event"])
                bodies[a["event"]] = raw.decode()
            except ServiceError:
                bodies[a["event"]] = None
    return page(
        "webhook.html",
        title=f"Webhook endpoint {endpoint['id']}",
        endpoint=endpoint,
        attempts=attempts,
        bodies=bodies,
        more=more,
        badge=_status_badge,
        **frame,
    )


@signed_page("webhooks")
def attempt_detail(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/webhooks/{id}/attempts/{attempt}``: one delivery attempt, the
    request it sent (headers and the exact body) and the response (status, kept headers,
    the body's first 2 KiB), with a resend button."""
    try:
        view = dashboard.attempt_view(
            call.ctx, who.merchant_id, call.path["id"], call.path["attempt"]
        )
    except NotFound:
        return _missing("delivery attempt", frame)
    return page(
        "attempt.html",
        title=f"Delivery attempt {view.attempt['id']}",
        view=view,
        capture=dashboard.RESPONSE_BODY_LIMIT,
        **frame,
    )


@signed_page("logs")
def logs(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/logs``: the request log (``?live=1`` reloads it every 3 s)."""
    rows, more = request_log.list_request_logs(call.ctx, who.merchant_id, _page(call.query))
    live = call.query is not None and call.query.live == "1"
    return page(
        "logs.html",
        title="Request log",
        logs=rows,
        more=more,
        live=live,
        refresh=3 if live else None,
        **frame,
    )


@signed_page("clock")
def clock_page(
    call: Call, _who: Signed, frame: dict[str, Any], *, error: str | None = None, status: int = 200
) -> Response:
    """``GET /dashboard/clock``: ledger time and the advance form."""
    now = int(clock_service.clock(call.ctx)["now"])
    frame["error"] = error
    return page("clock.html", title="Test clock", now=now, status=status, **frame)


@signed_page("wallets")
def wallet_list(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/wallets``: balances and borrowing power."""
    try:
        rows = wallets.list_wallets(call.ctx, who.merchant_id)
    except ServiceError as exc:
        rows, frame["error"] = [], exc.message
    return page("wallets.html", title="Wallets", wallets=rows, **frame)


@signed_page("keys")
def keys(
    call: Call,
    who: Signed,
    frame: dict[str, Any],
    *,
    reveal: bool = False,
    new_key: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """``GET /dashboard/keys``: the account's API keys by their hints, with the forms
    that show the test keys again (*reveal*) and roll one (*new_key*: the key a roll
    made, shown this once)."""
    rows = api_keys.merchant_keys(call.ctx, who.merchant_id, reveal=reveal)
    frame["error"] = error
    return page(
        "keys.html",
        title="API keys",
        keys=list(reversed(rows)),  # newest first, like every list here
        revealed=reveal,
        new_key=new_key,
        status=status,
        **frame,
    )


@signed_page("analytics")
def analytics(call: Call, who: Signed, frame: dict[str, Any]) -> Response:
    """``GET /dashboard/analytics``: the last 14 days as SVG charts."""
    days = dashboard.daily_metrics(call.ctx, who.merchant_id, days=14)
    labels = [stamp(d.start)[:10] for d in days]
    charts = [
        _volume_chart(days),
        chart("Fees (USDC)", labels, [d.fees for d in days], fmt=_usdc, color="#7c3aed"),
        chart(
            "Checkout conversion",
            labels,
            [d.conversion_rate for d in days],
            fmt=lambda v: f"{v * 100:.0f} %",
            kind="line",
            color="#0f766e",
        ),
        chart(
            "Bills paid that day and now overdue",
            labels,
            [d.overdue for d in days],
            fmt=lambda v: f"{v:.0f}",
            color="#b42318",
        ),
    ]
    return page("analytics.html", title="Analytics", charts=charts, days=days, **frame)


def _usdc(v: float) -> str:
    return format_usdc(int(v))


def _volume_chart(days: list[dashboard.DayMetrics]) -> Any:
    labels = [stamp(d.start)[:10] for d in days]
    return chart("Payment volume (USDC)", labels, [d.volume for d in days], fmt=_usdc)


def _bill_fields(bill: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Amount", format_usdc(bill["amount"])),
        ("Customer", bill["customer"]),
        ("Order", bill.get("order_id") or ""),
        ("Created", stamp(bill["created"])),
        ("Paid", stamp(bill.get("paid_at"))),
        ("Amount due", format_usdc(int(bill.get("amount_due") or 0))),
    ]


def _object_page(
    call: Call,
    who: Signed,
    frame: dict[str, Any],
    kind: str,
    obj: dict[str, Any],
    fields: list[tuple[str, str]],
) -> Response:
    """One object's page: its fields, its JSON and the events about it."""
    docs, _ = events_api.list_events(
        call.ctx, who.merchant_id, PageRequest(50), event_type=None, object_id=obj["id"]
    )
    return page(
        "object.html",
        title=f"{kind} {obj['id']}",
        kind=kind,
        obj=obj,
        state=obj["status"],
        fields=fields,
        events=[json.loads(d) for d in docs],
        badge=_status_badge,
        **frame,
    )


def _missing(what: str, frame: dict[str, Any]) -> Response:
    return page(
        "message.html",
        title="Not found",
        status=404,
        heading=f"No such {what}",
        text=f"This account has no such {what}.",
        **frame,
    )
