#!/usr/bin/env python3
"""Django's command-line utility for the example shop.

``python examples/django_shop/manage.py migrate`` creates the tables and
``python examples/django_shop/manage.py runserver`` serves the shop; see README.md.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run a Django management command with the shop's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lumenshop_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
