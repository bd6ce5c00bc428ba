"""The shop's pages: catalogue, cart, checkout with LumenLater, orders."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from lumenlater_sdk import LumenLater, LumenLaterError
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


@shop.app_context_processor
def _layout() -> dict[str, object]:
    return {"cart_count": _cart().count}


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
    """Record the order and send the customer to LumenLater's hosted payment page."""
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
    return redirect(redirect_url(checkout_session), code=303)


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
