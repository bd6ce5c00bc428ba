"""The shop's pages: catalogue, cart, checkout with LumenLater, orders; and the webhook."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lumenlater_sdk import LumenLaterError
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


@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    """Record the order and send the customer to LumenLater's hosted payment page."""
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
    return HttpResponseSeeOther(redirect_url(checkout_session))


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
