"""The embedded checkout in a Flask app's templates.

::

    from lumenlater_sdk.checkout import flask as lumenlater_checkout
    app.config["LUMENLATER_PUBLISHABLE_KEY"] = "pk_test_..."
    lumenlater_checkout.init_app(app)

    {# any template of the app #}
    {{ lumenlater_embed(checkout_session) }}
    {{ total | format_usdc }}

See :mod:`lumenlater_sdk.checkout.jinja` for what the global and the filter take.
"""

from __future__ import annotations

from typing import Any

from .jinja import install

__all__ = ["CONFIG_KEY", "init_app"]

CONFIG_KEY = "LUMENLATER_PUBLISHABLE_KEY"
"""The Flask config key read for the publishable key."""


def init_app(app: Any, *, publishable_key: str | None = None) -> None:
    """Give *app*'s templates ``lumenlater_embed(session, **options)`` and ``format_usdc``.

    The key is *publishable_key*, else ``app.config["LUMENLATER_PUBLISHABLE_KEY"]``;
    without either, ``format_usdc`` works and ``lumenlater_embed`` raises when a
    template calls it without ``publishable_key=``. A secret key raises ``ValueError``.
    """
    key = publishable_key or app.config.get(CONFIG_KEY) or None
    install(app.jinja_env, publishable_key=key, key_setting=f'app.config["{CONFIG_KEY}"]')
