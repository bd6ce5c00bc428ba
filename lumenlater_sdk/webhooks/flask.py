"""Serve a :class:`WebhookApp`'s handlers from Flask: a view function or a Blueprint.

::

    from lumenlater_sdk.webhooks.flask import blueprint
    app.register_blueprint(blueprint(hooks, rule="/webhooks/lumenlater"))

Same answers as the ASGI app (200/400/405/409/413/500, duplicate suppression, the
same refusal log lines and ``secret=`` resolvers).
Async handlers are run to completion with :func:`asyncio.run`. Flask has no CSRF
protection of its own; with Flask-WTF's ``CSRFProtect``, exempt the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from ._core import Receiver, Reply
from ._request import WebhookRequest
from ._signature import SIGNATURE_HEADER

__all__ = ["blueprint", "view"]

# Flask answers 405 itself for methods a rule does not list; listing them all lets
# the shared core give the same JSON 405 as the ASGI app.
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _response(reply: Reply) -> flask.Response:
    response = flask.Response(reply.body, status=reply.status, mimetype="application/json")
    for name, value in reply.headers:
        response.headers[name] = value
    return response


def _webhook_request() -> WebhookRequest:
    request = flask.request
    return WebhookRequest(
        path=request.path,
        path_params=dict(request.view_args or {}),
        query={name: request.args[name] for name in request.args},
        headers={name.lower(): value for name, value in request.headers.items()},
    )


def view(hooks: Receiver) -> Callable[..., flask.Response]:
    """A Flask view function answering webhook deliveries with ``hooks``' handlers.

    Register it for every method, e.g.
    ``app.add_url_rule("/webhooks", view_func=view(hooks), methods=["GET", "POST"])``.
    The rule may have variables (``/webhooks/<merchant_id>``) for a secret resolver
    to read from :attr:`WebhookRequest.path_params`.
    """

    def lumenlater_webhook(**path_params: Any) -> flask.Response:
        request = flask.request
        reply = hooks.handle_sync(
            request.method,
            request.headers.get("Content-Length"),
            request.headers.get(SIGNATURE_HEADER),
            request.stream.read,
            path=request.path,
            request=_webhook_request,
        )
        return _response(reply)

    return lumenlater_webhook


def blueprint(
    hooks: Receiver,
    *,
    name: str = "lumenlater_webhooks",
    url_prefix: str | None = None,
    rule: str = "/",
) -> flask.Blueprint:
    """A Blueprint serving ``hooks`` at ``url_prefix`` + ``rule``."""
    bp = flask.Blueprint(name, __name__, url_prefix=url_prefix)
    bp.add_url_rule(rule, endpoint="webhook", view_func=view(hooks), methods=_METHODS)
    return bp
