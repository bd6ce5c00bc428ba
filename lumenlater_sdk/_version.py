"""Package and API versions."""

__version__ = "0.1.0"
API_VERSION = "2026-11-01"
