"""The shop's pages: catalogue, cart, checkout with LumenLater, orders; and the webhook.

Two ways to pay: the redirect to LumenLater's hosted page, or the embedded checkout on
the shop's own page (``/checkout/pay/<order>/``), whose success the page reports to
``/checkout/confirm/``: the order is called paid only once this server has asked
LumenLater, never on the browser's word.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lumenlater_sdk import LumenLaterError, format_usdc
from lumenlater_sdk.checkout import CheckoutNotPaidError, confirm_return, redirect_url

from .cart import MAX_QUANTITY, Cart
from .catalogue import PRODUCTS, Product, find_product
from .forms import AddToCartForm, UpdateCartForm
from .integration import lumenlater
from .models import NewLine, Order, OrderStatus

log = logging.getLogger(__name__)

_CHECKOUT_ORDER = "checkout_order"


class HttpResponseSeeOther(HttpResponseRedirect):
    """A 303 redirect: after a POST, the browser follows it with a GET."""

    status_code = 303


def _cart_form_product(form: AddToCartForm | UpdateCartForm) -> Product | HttpResponse:
    if not form.is_valid():
        return HttpResponseBadRequest(
            "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        )
    product = find_product(form.cleaned_data["sku"])
    if product is None:
        raise Http404("no such product")
    return product


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    """The products for sale."""
    return render(
        request,
        "lumenshop/catalogue.html",
        {"products": PRODUCTS, "max_quantity": MAX_QUANTITY},
    )


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    """What is in the cart."""
    c = Cart(request.session)
    return render(
        request,
        "lumenshop/cart.html",
        {"lines": c.lines(), "total": c.total, "max_quantity": MAX_QUANTITY},
    )


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """Put a product in the cart."""
    form = AddToCartForm(request.POST)
    product = _cart_form_product(form)
    if isinstance(product, HttpResponse):
        return product
    quantity: int = form.cleaned_data["quantity"]
    Cart(request.session).add(product.sku, quantity)
    messages.success(request, f"Added {quantity} × {product.name} to your cart.")
    return HttpResponseSeeOther(reverse("lumenshop:cart"))


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    """Change a line's quantity (0 removes it)."""
    form = UpdateCartForm(request.POST)
    product = _cart_form_product(form)
    if isinstance(product, HttpResponse):
        return product
    Cart(request.session).set_quantity(product.sku, form.cleaned_data["quantity"])
    return HttpResponseSeeOther(reverse("lumenshop:cart"))


def _embedding() -> bool:
    # The embedded checkout needs the publishable key; without one the shop redirects.
    return bool(settings.LUMENLATER_PUBLISHABLE_KEY)


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """Record the order and send the customer to LumenLater's hosted payment page, or with
    ``mode=embedded`` to the shop's own payment page."""
    embedded = request.POST.get("mode") == "embedded" and _embedding()
    lines = Cart(request.session).lines()
    if not lines:
        messages.info(request, "Your cart is empty.")
        return HttpResponseSeeOther(reverse("lumenshop:cart"))
    order = Order.objects.place(
        [NewLine(ln.product.sku, ln.product.name, ln.quantity, ln.product.price) for ln in lines]
    )
    # {SESSION_ID} must reach LumenLater unescaped; it is replaced on the way back.
    success_url = (
        request.build_absolute_uri(reverse("lumenshop:checkout_success"))
        + "?session_id={SESSION_ID}"
    )
    cancel_url = request.build_absolute_uri(
        reverse("lumenshop:checkout_cancel") + "?" + urlencode({"order": order.reference})
    )
    try:
        checkout_session = lumenlater().client.checkout.sessions.create(
            amount=order.amount,
            line_items=[
                {"name": ln.name, "quantity": ln.quantity, "unit_amount": ln.unit_amount}
                for ln in order.lines.all()
            ],
            order_id=order.reference,
            description=f"Django shop order {order.reference}",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"shop": "django_shop"},
            # Only this shop's pages may frame the checkout (and only when embedding); the
            # host was checked against ALLOWED_HOSTS.
            embed_origins=[request.build_absolute_uri("/").rstrip("/")] if embedded else None,
            # One session per order, even if the SDK retries this request.
            idempotency_key=f"django-shop-checkout-{order.reference}",
        )
    except LumenLaterError as exc:
        log.warning("checkout session for %s failed: %s", order.reference, exc)
        Order.objects.advance(order.reference, OrderStatus.CANCELLED)  # never offered for payment
        messages.error(request, "LumenLater is not available right now; please try again.")
        return HttpResponseSeeOther(reverse("lumenshop:cart"))
    Order.objects.filter(pk=order.pk).update(session_id=checkout_session.id)
    request.session[_CHECKOUT_ORDER] = order.reference
    if embedded:
        return HttpResponseSeeOther(reverse("lumenshop:checkout_embedded", args=[order.reference]))
    return HttpResponseSeeOther(redirect_url(checkout_session))


@require_GET
def checkout_embedded(request: HttpRequest, reference: str) -> HttpResponse:
    """The shop's own payment page: the order and LumenLater's checkout embedded in it.

    Only for the shopper who placed the order (the page holds the session's client secret).
    """
    order = Order.objects.find(reference=reference)
    if (
        order is None
        or order.session_id is None
        or request.session.get(_CHECKOUT_ORDER) != order.reference
    ):
        raise Http404("unknown order")
    try:
        checkout_session = lumenlater().client.checkout.sessions.retrieve(order.session_id)
    except LumenLaterError as exc:
        return _unavailable(request, exc)
    if checkout_session.payment_status == "paid":
        query = urlencode({"session_id": order.session_id})
        return HttpResponseSeeOther(reverse("lumenshop:checkout_success") + "?" + query)
    if checkout_session.status != "open":
        messages.info(request, "That checkout has expired; your cart is unchanged.")
        return HttpResponseSeeOther(reverse("lumenshop:cart"))
    context = {"order": order, "lines": order.lines.all(), "checkout_session": checkout_session}
    return render(request, "lumenshop/checkout.html", context)


@require_POST
def checkout_confirm(request: HttpRequest) -> JsonResponse:
    """The embedded checkout's success, reported by the shop's page: ask LumenLater.

    ``{"session_id": "cs_…"}`` in (with the CSRF token); ``200 {"status": "paid", …}``
    only if LumenLater says the session is paid (the order is then marked paid), else
    ``402`` with the session's status and the order left as it is. A forged call can
    therefore mark nothing paid.
    """
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        body = None
    session_id = body.get("session_id") if isinstance(body, dict) else None
    if not isinstance(session_id, str) or not session_id.startswith("cs_"):
        return JsonResponse(
            {"error": "session_id must be a checkout session id (cs_…)"}, status=400
        )
    order = Order.objects.find(session_id=session_id)
    if order is None:
        return JsonResponse({"error": "unknown checkout session"}, status=404)
    try:
        paid = confirm_return(lumenlater().client, session_id)
    except CheckoutNotPaidError as exc:
        message = (
            "LumenLater has not received this payment"
            if exc.status == "open"
            else f"This checkout is {exc.status}; your cart is unchanged"
        )
        answer = {"status": exc.status, "order_id": order.reference, "message": message + "."}
        return JsonResponse(answer, status=402)
    except LumenLaterError as exc:
        log.warning("confirming %s failed: %s", session_id, exc)
        error = {"error": "LumenLater could not be reached; reload this page shortly."}
        return JsonResponse(error, status=503)
    # LumenLater just said it is paid; advance() only moves forward, so the webhook
    # arriving before or after this changes nothing.
    Order.objects.advance(
        order.reference, OrderStatus.PAID, bill_id=paid.bill, customer=paid.customer
    )
    if request.session.get(_CHECKOUT_ORDER) == order.reference:
        Cart(request.session).clear()
        del request.session[_CHECKOUT_ORDER]
    return JsonResponse(
        {
            "status": "paid",
            "order_id": order.reference,
            "amount": format_usdc(paid.amount),
            "order_url": reverse("lumenshop:order_detail", args=[order.reference]),
        }
    )


@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Where LumenLater sends the customer after paying: confirm before saying thank you."""
    session_id = request.GET.get("session_id", "")
    order = Order.objects.find(session_id=session_id) if session_id else None
    if order is None:
        raise Http404("unknown checkout session")
    try:
        # Never trust the redirect itself: ask LumenLater whether the session is paid.
        paid = confirm_return(lumenlater().client, session_id)
    except CheckoutNotPaidError as exc:
        context = {"order": order, "reason": str(exc)}
        return render(request, "lumenshop/not_paid.html", context, status=402)
    except LumenLaterError as exc:
        return _unavailable(request, exc)
    # The API just said it is paid, so the orders page need not wait for the webhook;
    # advance() only moves forward, so the webhook arriving later changes nothing.
    Order.objects.advance(
        order.reference, OrderStatus.PAID, bill_id=paid.bill, customer=paid.customer
    )
    if request.session.get(_CHECKOUT_ORDER) == order.reference:
        Cart(request.session).clear()
        del request.session[_CHECKOUT_ORDER]
    return render(request, "lumenshop/success.html", {"order": order, "checkout_session": paid})


@require_GET
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    """Where LumenLater sends the customer who backs out: the cart is still there."""
    order = Order.objects.find(reference=request.GET.get("order", ""))
    if order is None or order.session_id is None:
        raise Http404("unknown order")
    client = lumenlater().client
    try:
        # The customer may have paid in another tab and then come back here.
        paid = confirm_return(client, order.session_id)
    except CheckoutNotPaidError as exc:
        still_open = exc.status == "open"
    except LumenLaterError as exc:
        return _unavailable(request, exc)
    else:
        return render(request, "lumenshop/success.html", {"order": order, "checkout_session": paid})
    try:
        if still_open:
            # So the abandoned page cannot be paid later for an order we call cancelled.
            client.checkout.sessions.expire(order.session_id)
    except LumenLaterError as exc:
        # Perhaps paid a moment ago; the webhook will tell, so leave the order as it is.
        log.info("could not expire %s: %s", order.session_id, exc)
    else:
        Order.objects.advance(order.reference, OrderStatus.CANCELLED)
    order.refresh_from_db()
    return render(request, "lumenshop/cancel.html", {"order": order})


def _unavailable(request: HttpRequest, exc: LumenLaterError) -> HttpResponse:
    log.warning("LumenLater request failed: %s", exc)
    return render(request, "lumenshop/unavailable.html", status=503)


@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    """Every order with its LumenLater payment state (a sandbox shop has no accounts)."""
    recent = Order.objects.prefetch_related("lines")[:100]
    return render(request, "lumenshop/orders.html", {"orders": recent})


@require_GET
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One order and its lines."""
    order = get_object_or_404(Order.objects.prefetch_related("lines"), reference=reference)
    return render(request, "lumenshop/order.html", {"order": order})


@csrf_exempt
def lumenlater_webhook(request: HttpRequest) -> HttpResponse:
    """LumenLater's deliveries, answered by the SDK's Django view with the shop's handlers.

    CSRF-exempt here too (the middleware looks at the routed view): the signature is
    what authenticates the sender. The SDK view itself answers 405 to non-POST.
    """
    # Looked up per request so the receiver follows the current settings.
    return lumenlater().webhook_view(request)
