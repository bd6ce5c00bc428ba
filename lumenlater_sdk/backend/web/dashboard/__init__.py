"""The sandbox dashboard at ``/dashboard`` (test mode only): server-rendered pages over
the same services as the API, signed in with a test secret key or a one-time link."""

from .routes import dashboard_routes

__all__ = ["dashboard_routes"]
