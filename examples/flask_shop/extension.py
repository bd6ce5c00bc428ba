"""``LumenLaterFlask``: one LumenLater client per Flask app, configured from the app's config."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from lumenlater_sdk import LumenLater

EXTENSION_KEY = "lumenlater"


class LumenLaterFlask:
    """A Flask extension holding a :class:`~lumenlater_sdk.LumenLater` client per app.

    Reads ``LUMENLATER_API_KEY`` and, if set, ``LUMENLATER_BASE_URL`` from
    ``app.config``. The client lives in ``app.extensions`` rather than in a module
    global, so two apps (say, two test shops) can talk to two different sandboxes.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Create the app's client from its config."""
        api_key = app.config.get("LUMENLATER_API_KEY")
        if not api_key:
            raise RuntimeError("LUMENLATER_API_KEY is not set (the sandbox prints one on start)")
        # No base URL means the client's default (the local sandbox).
        base_url = app.config.get("LUMENLATER_BASE_URL") or None
        app.extensions[EXTENSION_KEY] = LumenLater(api_key=api_key, base_url=base_url)

    @staticmethod
    def client_for(app: Flask) -> LumenLater:
        """The client of *app* (after :meth:`init_app`)."""
        return cast(LumenLater, app.extensions[EXTENSION_KEY])

    @property
    def client(self) -> LumenLater:
        """The client of the current app (inside a request or app context)."""
        return self.client_for(current_app)

    @staticmethod
    def close(app: Flask) -> None:
        """Close the client's connection pool (when the app is shut down)."""
        client = app.extensions.pop(EXTENSION_KEY, None)
        if client is not None:
            client.close()
