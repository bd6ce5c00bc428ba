"""The embed script (``/v1/js/lumenlater.js``) that ships in this package, and its version.

The backend serves the file; :mod:`lumenlater_sdk.checkout` writes the ``<script>`` tag.
``SCRIPT_VERSION`` is the SDK version plus a digest of the file, so a versioned URL
(``/v1/js/lumenlater.js?v=SCRIPT_VERSION``) always names exactly these bytes and can be
cached for a year.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from ._version import __version__

__all__ = ["SCRIPT_PATH", "script_bytes", "script_url", "script_version"]

SCRIPT_PATH = "/v1/js/lumenlater.js"


@cache
def script_bytes() -> bytes:
    """The embed script's source."""
    return resources.files("lumenlater_sdk").joinpath("backend/static/lumenlater.js").read_bytes()


@cache
def script_version() -> str:
    """``<sdk version>-<first 10 hex digits of the file's SHA-256>``."""
    return f"{__version__}-{hashlib.sha256(script_bytes()).hexdigest()[:10]}"


def script_url(base_url: str) -> str:
    """The versioned URL of the embed script on the API at *base_url*."""
    return f"{base_url.rstrip('/')}{SCRIPT_PATH}?v={script_version()}"
