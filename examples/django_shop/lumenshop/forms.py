"""Validation of the cart forms (the templates write the labelled inputs themselves)."""

from __future__ import annotations

from django import forms

from .cart import MAX_QUANTITY


class AddToCartForm(forms.Form):
    """Put ``quantity`` (1–99) of the product ``sku`` in the cart."""

    sku = forms.CharField(max_length=32)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class UpdateCartForm(forms.Form):
    """Set the quantity of the product ``sku`` in the cart (0 removes it)."""

    sku = forms.CharField(max_length=32)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)
