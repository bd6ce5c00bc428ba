"""Run a real backend on loopback for tests: ``with run_sandbox(database_url=...) as sb:``.

The server is uvicorn on a free 127.0.0.1 port in a background thread, with a
fresh merchant whose keys (and a webhook secret) are on the handle::

    with run_sandbox(database_url="sqlite:///tmp/t.db") as sb:
        client = LumenLater(api_key=sb.secret_key, base_url=sb.base_url)
        other = sb.create_merchant("Other Shop")   # for isolation tests

A backend whose chain is ``soroban`` runs the same way, pointed at another
sandbox's Soroban RPC endpoint (whose ``lumenlater_*`` methods give it the sandbox
powers)::

    with run_sandbox(chain_url, soroban_rpc=True, webhook_url=None) as chain:
        rpc_url = f"{chain.base_url}/soroban/rpc"
        with run_sandbox(db_url, **soroban_options(rpc_url, tmp_dir)) as sb:
            ...
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stellar_sdk import Keypair

from .._ports import free_port
from .._serving import ThreadedServer
from .app import Backend, BackendApp, create_app
from .chain.soroban import Rpc
from .config import BackendConfig
from .services.merchants import MerchantCredentials
from .soroban_rpc import PASSPHRASE

__all__ = ["SandboxHandle", "run_sandbox", "soroban_options"]


@dataclass
class SandboxHandle:
    """A running backend and its first merchant."""

    base_url: str
    secret_key: str
    publishable_key: str
    webhook_secret: str | None
    webhook_endpoint: str | None
    merchant_id: str
    backend: Backend
    app: BackendApp
    config: BackendConfig

    def create_merchant(self, business_name: str = "Other Shop") -> MerchantCredentials:
        """Another merchant on the same backend (``.secret_key``, ``.publishable_key``)."""
        return self.backend.create_merchant(business_name)

    def create_self_custody_merchant(
        self, keypair: Keypair, business_name: str = "Self Shop"
    ) -> MerchantCredentials:
        """A ``self`` custody merchant at *keypair*'s address: enrolled with that key's
        signature and approved by the sandbox admin; the backend keeps no key for it."""
        return self.backend.create_merchant(business_name, self_custody_key=keypair)

    def create_webhook_endpoint(
        self, url: str, enabled_events: list[str] | None = None, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """An endpoint for the sandbox merchant (or *merchant_id*); includes ``secret``."""
        return self.backend.create_webhook_endpoint(
            merchant_id or self.merchant_id, url, enabled_events
        )

    def run_time_triggers(self) -> int:
        """Emit time-driven events now instead of waiting for the tick."""
        return self.backend.run_time_triggers()


@contextmanager
def run_sandbox(
    database_url: str,
    *,
    webhook_url: str | None = "http://127.0.0.1:9/webhooks/lumenlater",
    business_name: str = "Sandbox Shop",
    **config: Any,
) -> Iterator[SandboxHandle]:
    """Start a backend on a free loopback port; stop it (and close its database) on exit.

    *config* overrides :class:`BackendConfig` fields; rate limits are off unless
    ``rate_limit=True`` is passed, and ``secret_key`` defaults to a random one.
    """
    port = config.pop("port", None) or free_port()
    config.setdefault("rate_limit", False)
    config.setdefault("secret_key", secrets.token_hex(32))
    config.setdefault("log_requests", False)
    cfg = BackendConfig(database_url=database_url, host="127.0.0.1", port=port, **config)
    app = create_app(cfg)
    backend = app.backend
    creds = backend.create_merchant(business_name)
    endpoint: dict[str, Any] = {}
    if webhook_url:
        endpoint = backend.create_webhook_endpoint(creds.merchant_id, webhook_url)
    server = ThreadedServer(
        app, port, name="the sandbox server", lifespan="on", access_log=False
    ).start()
    try:
        yield SandboxHandle(
            base_url=f"http://127.0.0.1:{port}",
            secret_key=creds.secret_key,
            publishable_key=creds.publishable_key,
            webhook_secret=endpoint.get("secret"),
            webhook_endpoint=endpoint.get("id"),
            merchant_id=creds.merchant_id,
            backend=backend,
            app=app,
            config=cfg,
        )
    finally:
        server.stop()
        backend.close()


def soroban_options(rpc_url: str, directory: Path) -> dict[str, Any]:
    """:class:`BackendConfig` fields for a backend on the sandbox chain whose Soroban RPC
    endpoint is *rpc_url* (a sandbox started with ``soroban_rpc=True``): the URL, the
    passphrase, the contract ids it lists in ``lumenlater_sandbox``, and a fee-paying
    account made with ``lumenlater_fund``, its seed in a file in *directory*."""
    rpc = Rpc(rpc_url)
    found = rpc.extension("lumenlater_sandbox", {})
    if found is None:
        raise ValueError(f"{rpc_url} is not a sandbox's Soroban RPC endpoint")
    source = Keypair.random()
    rpc.extension("lumenlater_fund", {"address": source.public_key})
    secret_file = Path(directory) / "source.secret"
    secret_file.write_text(source.secret + "\n")
    secret_file.chmod(0o600)
    return {
        "chain": "soroban",
        "rpc_url": rpc_url,
        "network_passphrase": PASSPHRASE,
        "contracts": dict(found["contracts"]),
        "source_secret_file": str(secret_file),
    }
