"""The backend's configuration, passed down explicitly (no global settings)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_HOME", "BackendConfig"]

DEFAULT_HOME = Path("~/.lumenlater")


@dataclass
class BackendConfig:
    """Everything :func:`~lumenlater_sdk.backend.create_app` needs.

    ``secret_key`` seals Stellar seeds at rest and keys the hosted page's form
    tokens; the sandbox keeps one in ``~/.lumenlater/secret.key``. ``clock`` is the
    wall clock the local ledger starts from. ``delivery`` is passed unchanged to the
    webhook delivery worker (e.g. a compressed retry schedule for tests).

    ``livemode`` is the live switch: webhook endpoint URLs must then reach public
    addresses only, checked when an endpoint is created or changed and again on
    every connection (loopback, private, link-local... hosts are refused; the
    sandbox allows them). ``soroban_rpc`` serves a Soroban JSON-RPC endpoint over the
    sandbox ledger at ``/soroban/rpc`` (and ``/friendbot``); local chain only.
    ``webhook_proxy`` (``http://[user:password@]host:port``)
    carries every webhook POST; unset, the ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
    ``ALL_PROXY`` environment variables are used, and ``NO_PROXY`` is honoured
    either way.
    """

    database_url: str = "sqlite:///" + str(DEFAULT_HOME / "sandbox.db")
    secret_key: str | bytes | None = None
    host: str = "127.0.0.1"
    port: int = 8787
    public_base_url: str | None = None
    rate_limit: bool = True
    rate_limit_rate: float = 100.0
    rate_limit_burst: int = 200
    clock: Callable[[], float] = time.time
    chain_constants: Mapping[str, int] | None = None
    tick_interval: float = 5.0
    run_delivery: bool = True
    delivery: Mapping[str, Any] = field(default_factory=dict)
    livemode: bool = False
    webhook_proxy: str | None = None
    log_requests: bool = True
    soroban_rpc: bool = False

    @property
    def base_url(self) -> str:
        """Where browsers reach this server (hosted checkout links)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, **overrides: Any) -> BackendConfig:
        """Defaults, then ``DATABASE_URL`` / ``LUMENLATER_*`` variables, then *overrides*."""
        values: dict[str, Any] = {}
        if url := os.environ.get("DATABASE_URL"):
            values["database_url"] = url
        if base := os.environ.get("LUMENLATER_PUBLIC_URL"):
            values["public_base_url"] = base
        if proxy := os.environ.get("LUMENLATER_WEBHOOK_PROXY"):
            values["webhook_proxy"] = proxy
        if os.environ.get("LUMENLATER_SOROBAN_RPC", "").lower() in ("1", "true", "yes", "on"):
            values["soroban_rpc"] = True
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
