"""Which install extra provides each optional package, and the hint when one is missing.

A plain ``pip install lumenlater-sdk`` holds the client and webhook verification only;
the backend, the framework adapters and the shared duplicate store need extras. When
one of their imports fails, the user is told the one line that fixes it instead of a
traceback. ``tests/test_packaging.py`` keeps this table equal to ``pyproject.toml``.

stellar-sdk is in two extras: ``backend`` (which the table names, for the backend
commands) and ``stellar``, the small one the client's self-custody signing needs
(``lumenlater_sdk._signing`` names it in its own error).
"""

from __future__ import annotations

__all__ = ["EXTRA_OF_MODULE", "install_hint", "missing_extra"]

EXTRA_OF_MODULE: dict[str, str] = {
    "starlette": "backend",
    "uvicorn": "backend",
    "httptools": "backend",
    "uvloop": "backend",
    "psycopg": "backend",
    "psycopg_pool": "backend",
    "prometheus_client": "backend",
    "cryptography": "backend",
    "nacl": "backend",
    "stellar_sdk": "backend",
    "certifi": "backend",
    "jinja2": "backend",
    "markupsafe": "backend",
    "flask": "flask",
    "django": "django",
    "redis": "redis",
}
"""Top-level import name of each optional package → the extra that installs it."""


def install_hint(extra: str) -> str:
    """The command that installs *extra* (from a checkout, or once published, from PyPI)."""
    return f"pip install 'lumenlater-sdk[{extra}]'"


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The extra whose absence raised *exc*, or ``None`` if it is not an optional package."""
    top = (exc.name or "").partition(".")[0]
    return EXTRA_OF_MODULE.get(top)
