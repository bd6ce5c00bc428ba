"""The shop's pages: catalogue, cart, checkout with LumenLater, orders.

Two ways to pay: the redirect to LumenLater's hosted page, or the embedded checkout on
the shop's own page (``/checkout/pay/<order>``), whose success the page reports to
``/checkout/confirm``: the order is called paid only once this server has asked
LumenLater, never on the browser's word.
"""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from lumenlater_sdk import LumenLater, LumenLaterError, format_usdc
from lumenlater_sdk.checkout import CheckoutNotPaidError, confirm_return, redirect_url

from .cart import MAX_QUANTITY, Cart
from .catalogue import PRODUCTS, find_product
from .extension import LumenLaterFlask
from .orders import Order, OrderLine, OrderStore

ORDERS_KEY = "flask_shop.orders"

shop = Blueprint("shop", __name__)


def orders_of(app: Flask) -> OrderStore:
    """The order store of a shop app."""
    return cast(OrderStore, app.extensions[ORDERS_KEY])


def _orders() -> OrderStore:
    return orders_of(current_app)


def _client() -> LumenLater:
    return LumenLaterFlask.client_for(current_app)


def _cart() -> Cart:
    return Cart(session)


def _quantity(field: str, default: int) -> int:
    raw = request.form.get(field, str(default))
    try:
        quantity = int(raw)
    except ValueError:
        abort(400, f"{field} must be a whole number")
    if not 0 <= quantity <= MAX_QUANTITY:
        abort(400, f"{field} must be between 0 and {MAX_QUANTITY}")
    return quantity


def _embedding() -> bool:
    # The embedded checkout needs the publishable key; without one the shop redirects.
    return bool(current_app.config.get("LUMENLATER_PUBLISHABLE_KEY"))


def _shop_origin() -> str:
    # The origin the shopper's browser is on: the one LumenLater must let frame the page.
    # Flask does not check the Host header; a shop on a public host sets TRUSTED_HOSTS
    # (or names its origin in config), as Django's ALLOWED_HOSTS does for the other shop.
    return request.host_url.rstrip("/")


@shop.app_context_processor
def _layout() -> dict[str, object]:
    return {"cart_count": _cart().count, "embedded_checkout": _embedding()}


@shop.get("/")
def catalogue() -> str:
    """The products for sale."""
    return render_template("catalogue.html", products=PRODUCTS, max_quantity=MAX_QUANTITY)


@shop.get("/cart")
def cart() -> str:
    """What is in the cart."""
    c = _cart()
    return render_template("cart.html", lines=c.lines(), total=c.total, max_quantity=MAX_QUANTITY)


@shop.post("/cart/add")
def cart_add() -> Response:
    """Put a product in the cart."""
    product = find_product(request.form.get("sku", ""))
    if product is None:
        abort(404, "no such product")
    quantity = _quantity("quantity", 1)
    if quantity:
        _cart().add(product.sku, quantity)
        flash(f"Added {quantity} x {product.name} to your cart.")
    return redirect(url_for("shop.cart"), code=303)


@shop.post("/cart/update")
def cart_update() -> Response:
    """Change a line's quantity (0 removes it)."""
    product = find_product(request.form.get("sku", ""))
    if product is None:
        abort(404, "no such product")
    _cart().set_quantity(product.sku, _quantity("quantity", 0))
    return redirect(url_for("shop.cart"), code=303)


@shop.post("/checkout")
def checkout() -> Response:
    """Record the order and send the customer to LumenLater's hosted payment page, or with
    ``mode=embedded`` to the shop's own payment page."""
    embedded = request.form.get("mode") == "embedded" and _embedding()
    c = _cart()
    lines = c.lines()
    if not lines:
        flash("Your cart is empty.")
        return redirect(url_for("shop.cart"), code=303)
    order = _orders().create(
        [OrderLine(ln.product.sku, ln.product.name, ln.quantity, ln.product.price) for ln in lines]
    )
    # {SESSION_ID} must reach LumenLater unescaped; it is replaced on the way back.
    success_url = url_for("shop.checkout_success", _external=True) + "?session_id={SESSION_ID}"
    cancel_url = url_for("shop.checkout_cancel", order_id=order.id, _external=True)
    try:
        checkout_session = _client().checkout.sessions.create(
            amount=order.amount,
            line_items=[
                {"name": ln.name, "quantity": ln.quantity, "unit_amount": ln.unit_amount}
                for ln in order.lines
            ],
            order_id=order.id,
            description=f"Flask shop order {order.id}",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"shop": "flask_shop"},
            # Only this shop's pages may frame the checkout (and only when embedding).
            embed_origins=[_shop_origin()] if embedded else None,
            # One session per order, even if this request is retried.
            idempotency_key=f"flask-shop-checkout-{order.id}",
        )
    except LumenLaterError as exc:
        current_app.logger.warning("checkout session for %s failed: %s", order.id, exc)
        _orders().advance(order.id, "cancelled")  # never offered for payment
        flash("LumenLater is not available right now; please try again.")
        return redirect(url_for("shop.cart"), code=303)
    _orders().attach_session(order.id, checkout_session.id)
    session["checkout_order"] = order.id
    if embedded:
        return redirect(url_for("shop.checkout_embedded", order_id=order.id), code=303)
    return redirect(redirect_url(checkout_session), code=303)


@shop.get("/checkout/pay/<order_id>")
def checkout_embedded(order_id: str) -> Response | tuple[str, int] | str:
    """The shop's own payment page: the order and LumenLater's checkout embedded in it.

    Only for the shopper who placed the order (the page holds the session's client secret).
    """
    order = _orders().get(order_id)
    if order is None or order.session_id is None or session.get("checkout_order") != order.id:
        abort(404, "unknown order")
    try:
        checkout_session = _client().checkout.sessions.retrieve(order.session_id)
    except LumenLaterError as exc:
        return _unavailable(exc)
    if checkout_session.payment_status == "paid":
        return redirect(url_for("shop.checkout_success", session_id=order.session_id), code=303)
    if checkout_session.status != "open":
        flash("That checkout has expired; your cart is unchanged.")
        return redirect(url_for("shop.cart"), code=303)
    return render_template("checkout.html", order=order, checkout_session=checkout_session)


@shop.post("/checkout/confirm")
def checkout_confirm() -> tuple[Response, int]:
    """The embedded checkout's success, reported by the shop's page: ask LumenLater.

    ``{"session_id": "cs_…"}`` in; ``200 {"status": "paid", …}`` only if LumenLater says
    the session is paid (the order is then marked paid), else ``402`` with the session's
    status and the order left as it is. A forged call can therefore mark nothing paid.
    """
    body = request.get_json(silent=True)
    session_id = body.get("session_id") if isinstance(body, dict) else None
    if not isinstance(session_id, str) or not session_id.startswith("cs_"):
        return jsonify(error="session_id must be a checkout session id (cs_…)"), 400
    order = _orders().find(session_id=session_id)
    if order is None:
        return jsonify(error="unknown checkout session"), 404
    try:
        paid = confirm_return(_client(), session_id)
    except CheckoutNotPaidError as exc:
        message = (
            "LumenLater has not received this payment"
            if exc.status == "open"
            else f"This checkout is {exc.status}; your cart is unchanged"
        )
        return jsonify(status=exc.status, order_id=order.id, message=message + "."), 402
    except LumenLaterError as exc:
        current_app.logger.warning("confirming %s failed: %s", session_id, exc)
        return jsonify(error="LumenLater could not be reached; reload this page shortly."), 503
    # LumenLater just said it is paid; advance() only moves forward, so the webhook
    # arriving before or after this changes nothing.
    _orders().advance(order.id, "paid", bill_id=paid.bill, customer=paid.customer)
    if session.get("checkout_order") == order.id:
        _cart().clear()
        session.pop("checkout_order", None)
    return jsonify(
        status="paid",
        order_id=order.id,
        amount=format_usdc(paid.amount),
        order_url=url_for("shop.order_detail", order_id=order.id),
    ), 200


@shop.get("/checkout/success")
def checkout_success() -> tuple[str, int] | str:
    """Where LumenLater sends the customer after paying: confirm before saying thank you."""
    session_id = request.args.get("session_id", "")
    order = _orders().find(session_id=session_id) if session_id else None
    if order is None:
        abort(404, "unknown checkout session")
    try:
        paid = confirm_return(_client(), session_id)
    except CheckoutNotPaidError as exc:
        return render_template("not_paid.html", order=order, reason=str(exc)), 402
    except LumenLaterError as exc:
        return _unavailable(exc)
    if session.get("checkout_order") == order.id:
        _cart().clear()
        session.pop("checkout_order", None)
    return render_template("success.html", order=order, checkout_session=paid)


@shop.get("/checkout/cancel")
def checkout_cancel() -> tuple[str, int] | str:
    """Where LumenLater sends the customer who backs out: the cart is still there."""
    order = _orders().get(request.args.get("order_id", ""))
    if order is None or order.session_id is None:
        abort(404, "unknown order")
    client = _client()
    try:
        # The customer may have paid in another tab and then come back here.
        paid = confirm_return(client, order.session_id)
    except CheckoutNotPaidError as exc:
        still_open = exc.status == "open"
    except LumenLaterError as exc:
        return _unavailable(exc)
    else:
        return render_template("success.html", order=order, checkout_session=paid)
    try:
        if still_open:
            # So the abandoned page cannot be paid later for an order we call cancelled.
            client.checkout.sessions.expire(order.session_id)
    except LumenLaterError as exc:
        # Perhaps paid a moment ago; the webhook will tell, so leave the order as it is.
        current_app.logger.info("could not expire %s: %s", order.session_id, exc)
    else:
        _orders().advance(order.id, "cancelled")
    return render_template("cancel.html", order=_orders().get(order.id) or order)


def _unavailable(exc: LumenLaterError) -> tuple[str, int]:
    current_app.logger.warning("LumenLater request failed: %s", exc)
    return render_template("unavailable.html"), 503


@shop.get("/orders")
def orders() -> str:
    """Every order with its LumenLater payment state."""
    return render_template("orders.html", orders=_orders().list())


@shop.get("/orders/<order_id>")
def order_detail(order_id: str) -> str:
    """One order and its lines."""
    order: Order | None = _orders().get(order_id)
    if order is None:
        abort(404, "unknown order")
    return render_template("order.html", order=order)
