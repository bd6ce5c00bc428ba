"""Assembling the backend: database, chain, services, HTTP app and background work."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .._version import API_VERSION
from ._crypto import SecretBox
from .chain.local import LocalGateway, ProtocolConstants
from .config import BackendConfig
from .db import Database, connect, migrate
from .delivery import install as install_delivery
from .http import (
    EXCEPTION_HANDLERS,
    Gate,
    RateLimiter,
    RequestContextMiddleware,
    build_openapi,
    routes_for,
)
from .observability import BackendMetrics
from .routes import api_routes
from .routes.meta import meta_routes
from .services import clock as clock_service
from .services import webhook_endpoints
from .services.context import ServiceContext
from .services.merchants import MerchantCredentials, create_merchant
from .services.relay import ChainRelay
from .services.sealing import reseal_legacy
from .services.wallets import install_builtin_wallets
from .store import COMPONENT, MIGRATIONS

__all__ = ["Backend", "BackendApp", "create_app"]

log = logging.getLogger("lumenlater.backend")


class Backend:
    """One backend process's state: migrated database, chain (after genesis), services.

    Usable without HTTP (tests and the CLI create merchants through it).
    """

    def __init__(self, config: BackendConfig) -> None:
        if config.secret_key is None:
            raise ValueError("BackendConfig.secret_key is required (it seals secrets at rest)")
        box = SecretBox(config.secret_key)  # a weak key is refused before anything is touched
        self.config = config
        self.db: Database = connect(config.database_url)
        migrate(self.db, COMPONENT, MIGRATIONS)
        install_delivery(self.db)
        reseal_legacy(self.db, box)
        constants = ProtocolConstants(**dict(config.chain_constants or {}))
        self.gateway = LocalGateway(self.db, clock=config.clock, constants=constants)
        self.genesis = self.gateway.genesis()
        self.metrics = BackendMetrics()
        self.ctx = ServiceContext(
            config=config,
            db=self.db,
            chain=ChainRelay(self.gateway, self.metrics.observe_chain),
            box=box,
            contract_id=self.gateway.contract_id("bnpl_core"),
            genesis=self.genesis,
        )
        with self.db.transaction() as tx:
            install_builtin_wallets(self.ctx, tx, dict(self.genesis.wallets))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._worker: Any = None

    def create_merchant(
        self, business_name: str = "Sandbox Shop", *, livemode: bool = False
    ) -> MerchantCredentials:
        """A new merchant, enrolled and approved on chain, with fresh API keys."""
        return create_merchant(self.ctx, business_name, livemode=livemode)

    def create_webhook_endpoint(
        self, merchant_id: str, url: str, enabled_events: list[str] | None = None
    ) -> dict[str, Any]:
        """A webhook endpoint for the merchant; the result carries its ``secret``."""
        return webhook_endpoints.create_endpoint(
            self.ctx,
            merchant_id,
            url=url,
            enabled_events=enabled_events or ["*"],
            livemode=self.config.livemode,
        )

    def run_time_triggers(self) -> int:
        """Emit what ledger time has caused (also run periodically in the background)."""
        return clock_service.run_time_triggers(self.ctx)

    def start(self) -> None:
        """Start the periodic tick and (unless disabled) the webhook delivery worker."""
        self._stop.clear()
        ticker = threading.Thread(target=self._tick_loop, name="lumenlater-tick", daemon=True)
        ticker.start()
        self._threads.append(ticker)
        if self.config.run_delivery:
            self._worker = _delivery_worker(self)
            if self._worker is not None:
                self._worker.start()

    def stop(self) -> None:
        """Stop background work (the database stays open)."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()
        if self._worker is not None:
            self._worker.stop(timeout=10)
            self._worker = None

    def close(self) -> None:
        """Stop everything and close the database."""
        self.stop()
        self.db.close()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_interval):
            try:
                self.run_time_triggers()
            except Exception:  # keep ticking; the next run catches up
                log.exception("time triggers failed")


def _delivery_worker(backend: Backend) -> Any:
    try:
        from .delivery import DeliveryWorker
    except ImportError:  # pragma: no cover
        return None
    metrics = backend.metrics

    def observe(recorded: Any) -> None:
        metrics.webhook_deliveries.labels(outcome=str(recorded.status)).inc()

    options = dict(backend.config.delivery)
    return DeliveryWorker(
        backend.db, secret_key=backend.config.secret_key or b"", observer=observe, **options
    )


class BackendApp(Starlette):
    """The backend's ASGI app: the API on Starlette, whose lifespan runs the background
    work of :attr:`backend`."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.api_version = API_VERSION
        api = api_routes()
        self.openapi = build_openapi(api, server_url=backend.config.base_url)
        self.specs = [*api, *meta_routes(lambda: self.openapi, backend.metrics)]
        limiter = RateLimiter(
            backend.config.rate_limit_rate,
            backend.config.rate_limit_burst,
            enabled=backend.config.rate_limit,
        )
        super().__init__(
            routes=routes_for(self.specs, backend.ctx, Gate(backend.ctx, limiter)),
            middleware=[
                Middleware(
                    RequestContextMiddleware,
                    metrics=backend.metrics,
                    log_requests=backend.config.log_requests,
                )
            ],
            exception_handlers=EXCEPTION_HANDLERS,
            lifespan=_lifespan,
        )
        # An API answers 404 for a path it lacks rather than redirecting to a lookalike.
        self.router.redirect_slashes = False


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    assert isinstance(app, BackendApp)
    app.backend.start()
    try:
        yield
    finally:
        app.backend.stop()


def create_app(config: BackendConfig, *, backend: Backend | None = None) -> BackendApp:
    """The backend as an ASGI app (migrates, runs chain genesis; merchants are separate)."""
    return BackendApp(backend or Backend(config))
