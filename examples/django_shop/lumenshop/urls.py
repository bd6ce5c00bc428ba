"""The shop's pages (the webhook route is in the root URLconf, at an exact path)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "lumenshop"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/pay/<str:reference>/", views.checkout_embedded, name="checkout_embedded"),
    path("checkout/confirm/", views.checkout_confirm, name="checkout_confirm"),
    path("checkout/success/", views.checkout_success, name="checkout_success"),
    path("checkout/cancel/", views.checkout_cancel, name="checkout_cancel"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:reference>/", views.order_detail, name="order_detail"),
]
