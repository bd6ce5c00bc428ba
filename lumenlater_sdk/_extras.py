"""Which install extra provides each optional package, and the hint when one is missing.

A plain ``pip install lumenlater-sdk`` holds the client and webhook verification only;
the backend, the framework adapters and the shared duplicate store need extras. When
one of their imports fails, the user is told the one line that fixes it instead of a
traceback: a command that works where this copy was installed from (the package is
not on PyPI yet, so a checkout's or a wheel file's own path).
``tests/test_packaging.py`` keeps this table equal to ``pyproject.toml``.

stellar-sdk is in two extras: ``backend`` (which the table names, for the backend
commands) and ``stellar``, the small one the client's self-custody signing needs
(``lumenlater_sdk._signing`` names it in its own error).
"""

from __future__ import annotations

import importlib.metadata
import json
import shlex
import urllib.parse

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


_NAME = "lumenlater-sdk"


def install_hint(extra: str) -> str:
    """The command that installs *extra* where this copy came from.

    A checkout installed with ``pip install -e DIR`` gets ``pip install -e 'DIR[extra]'``
    and a wheel installed from a file gets that file with the extra, since the package is
    not on PyPI yet; an install from an index gets ``pip install 'lumenlater-sdk[extra]'``.
    """
    source = _installed_from()
    if source is None:
        return f"pip install '{_NAME}[{extra}]'"
    path, editable = source
    return f"pip install {'-e ' if editable else ''}{shlex.quote(f'{path}[{extra}]')}"


def _installed_from() -> tuple[str, bool] | None:
    """``(local path, editable)`` of a checkout or wheel file this copy was installed
    from (pip's ``direct_url.json``, PEP 610), or ``None`` for an index or unknown."""
    # Every copy of the metadata on sys.path: run inside the checkout, its setuptools
    # egg-info (no direct_url.json) comes before the installed one.
    texts = (d.read_text("direct_url.json") for d in importlib.metadata.distributions(name=_NAME))
    try:
        record = json.loads(next((t for t in texts if t), "null"))
    except ValueError:
        return None
    url = record.get("url", "") if isinstance(record, dict) else ""
    if not isinstance(url, str) or not url.startswith("file://"):
        return None  # a VCS or remote archive: its URL may hold credentials; say PyPI
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    dir_info = record.get("dir_info")
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    return path, editable


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The extra whose absence raised *exc*, or ``None`` if it is not an optional package."""
    top = (exc.name or "").partition(".")[0]
    return EXTRA_OF_MODULE.get(top)
