"""The Django project of the example shop: settings, root URLconf and WSGI entry point."""
