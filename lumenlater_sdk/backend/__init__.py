"""The bundled LumenLater backend: the API of DESIGN §2–§3 over the BNPL contracts.

``create_app(BackendConfig(...))`` gives an ASGI app; ``python -m
lumenlater_sdk.backend`` (= ``lumenlater sandbox``) runs it with uvicorn;
:mod:`lumenlater_sdk.backend.testing` starts one on loopback for tests.
Names are imported lazily so that ``lumenlater_sdk.backend.db`` and
``lumenlater_sdk.backend.chain`` can be used without the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Backend, BackendApp, create_app
    from .config import BackendConfig

__all__ = ["Backend", "BackendApp", "BackendConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("Backend", "BackendApp", "create_app"):
        from . import app

        return getattr(app, name)
    if name == "BackendConfig":
        from .config import BackendConfig

        return BackendConfig
    raise AttributeError(name)
