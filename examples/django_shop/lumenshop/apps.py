"""The app's configuration: it owns the shop's LumenLater integration object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed


class LumenShopConfig(AppConfig):
    """The shop app; :attr:`lumenlater` is the project's one LumenLater integration."""

    name = "lumenshop"
    verbose_name = "Lumen Goods"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Wire up the integration, its settings reload, system checks and the DB directory."""
        from . import checks as shop_checks
        from .integration import LumenLaterIntegration

        self.lumenlater = LumenLaterIntegration()
        # override_settings (tests) or a settings reload must not keep a client or
        # webhook secret built from the old values.
        setting_changed.connect(self._settings_changed, dispatch_uid="lumenshop.lumenlater")
        checks.register(shop_checks.lumenlater_settings)

        db = settings.DATABASES["default"]
        if db["ENGINE"] == "django.db.backends.sqlite3" and str(db["NAME"]) != ":memory:":
            # SQLite creates the database file but not the directory it goes in.
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)

    def _settings_changed(self, *, setting: str, **_: Any) -> None:
        if setting.startswith("LUMENLATER_"):
            self.lumenlater.reset()
