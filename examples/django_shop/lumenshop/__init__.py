"""Lumen Goods: a small Django shop that sells with LumenLater (buy now, pay later).

Built only on the public SDK: a catalogue, a cart in the Django session, checkout
through a LumenLater checkout session on its hosted page or embedded in the shop's
page (``{% lumenlater_embed %}``, confirmed on the server), return confirmation
with :func:`lumenlater_sdk.checkout.confirm_return`, and the SDK's Django webhook
view keeping the shop's orders (Django ORM on SQLite) up to date.
"""
