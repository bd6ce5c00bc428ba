"""WSGI entry point (``lumenshop_site.wsgi:application``) for any WSGI server."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lumenshop_site.settings")

application = get_wsgi_application()
