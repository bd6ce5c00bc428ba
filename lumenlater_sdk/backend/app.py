"""Assembling the backend: database, chain, services, HTTP app and background work."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import TaskStatus
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from stellar_sdk import Keypair

from .._version import API_VERSION
from ._crypto import SecretBox
from .chain import ChainGateway, Genesis, ProtocolConstants, SandboxControls
from .chain.local import LocalGateway
from .chain.soroban import SorobanGateway, rpc_sandbox
from .config import BackendConfig
from .db import Database, connect, migrate
from .delivery import install as install_delivery
from .delivery import worker_for
from .http import (
    EXCEPTION_HANDLERS,
    CorsMiddleware,
    Gate,
    RateLimiter,
    RequestContextMiddleware,
    build_openapi,
    rate_store,
    routes_for,
)
from .observability import BackendMetrics
from .routes import api_routes
from .routes.meta import meta_routes
from .services import checkout_page, webhook_endpoints
from .services import clock as clock_service
from .services.context import ServiceContext
from .services.merchants import MerchantCredentials, create_merchant
from .services.relay import ChainRelay
from .services.request_log import RequestLog
from .services.retention import Pruner, RetentionPolicy
from .services.sealing import reseal_legacy
from .services.wallets import install_builtin_wallets
from .soroban_rpc import soroban_rpc_routes
from .store import COMPONENT, MIGRATIONS
from .web.dashboard import dashboard_routes

__all__ = ["Backend", "BackendApp", "create_app"]

log = logging.getLogger("lumenlater.backend")


class Backend:
    """One backend process's state: migrated database, chain (after genesis), services.

    Usable without HTTP (tests and the CLI create merchants through it). The chain is
    the local gateway on the backend's own database unless *gateway* is given; the
    sandbox powers (``ctx.sandbox``, :attr:`genesis`) exist only when the gateway is a
    :class:`~lumenlater_sdk.backend.chain.SandboxControls`, and the protocol constants
    are the gateway's, read once here.
    """

    gateway: ChainGateway
    sandbox: SandboxControls | None
    genesis: Genesis | None

    def __init__(self, config: BackendConfig, *, gateway: ChainGateway | None = None) -> None:
        if config.secret_key is None:
            raise ValueError("BackendConfig.secret_key is required (it seals secrets at rest)")
        box = SecretBox(config.secret_key)  # a weak key is refused before anything is touched
        self.config = config
        self.db: Database = connect(
            config.database_url, connect_timeout=config.database_connect_timeout
        )
        migrate(self.db, COMPONENT, MIGRATIONS)
        install_delivery(self.db)
        reseal_legacy(self.db, box)
        self._chain_db: Database | None = None
        sandbox: SandboxControls | None = None
        if isinstance(gateway, SandboxControls):
            sandbox = gateway
        if gateway is None and config.chain == "soroban":
            gateway, self._chain_db = soroban_gateway(config)
            # A development chain's powers, never a live backend's.
            if not config.livemode:
                sandbox = rpc_sandbox(gateway, self._chain_db, box)
        elif gateway is None:
            constants = ProtocolConstants(**dict(config.chain_constants or {}))
            gateway = sandbox = LocalGateway(
                self.db, clock=config.clock, constants=constants, sealer=box
            )
        self.gateway = gateway
        self.sandbox = sandbox
        self.genesis = gateway.genesis() if isinstance(gateway, LocalGateway) else None
        self.metrics = BackendMetrics()
        self.ctx = ServiceContext(
            config=config,
            db=self.db,
            chain=ChainRelay(gateway, self.metrics.observe_chain),
            box=box,
            contract_id=gateway.contract_id("bnpl_core"),
            sandbox=self.sandbox,
        )
        if self.sandbox is not None:
            wallets = self.sandbox.builtin_wallets()
            with self.db.transaction() as tx:
                install_builtin_wallets(self.ctx, tx, wallets)
        # The backend owns its delivery worker; the database hands enqueue's wake-ups to it.
        self.worker = worker_for(self.db, config, self.metrics)
        self.request_log = RequestLog(self.db)
        self.pruner = (
            Pruner(self.db, RetentionPolicy.of(config), config.clock, chain=self.ctx.chain)
            if config.retention
            else None
        )
        self._stopping: anyio.Event | None = None

    def create_merchant(
        self,
        business_name: str = "Sandbox Shop",
        *,
        livemode: bool = False,
        self_custody_key: Keypair | None = None,
    ) -> MerchantCredentials:
        """A new merchant, enrolled and approved on chain, with fresh API keys (a
        sandbox power: :class:`~lumenlater_sdk.backend.services.errors.SandboxOnly`
        on a real chain). With *self_custody_key*, a ``self`` custody merchant with
        that address, whose key the backend does not keep."""
        return create_merchant(
            self.ctx, business_name, livemode=livemode, self_custody_key=self_custody_key
        )

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

    async def serve(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the background work until :meth:`stop`: the clock tick, the request log's
        writer and (unless disabled) retention and webhook delivery, tasks of one task
        group on the caller's loop."""
        stopping = self._stopping = anyio.Event()
        before = sys.getswitchinterval()
        if self.config.switch_interval is not None:
            # A request thread that holds the ledger (or SQLite's write lock) gives up the
            # interpreter at every statement and waits up to this long to get it back from
            # the event loop or another request's thread: every writer waits that long.
            sys.setswitchinterval(self.config.switch_interval)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._tick, stopping)
                tasks.start_soon(self.request_log.serve, stopping)
                if self.pruner is not None:
                    tasks.start_soon(self.pruner.serve, stopping)
                if self.worker is not None:
                    await tasks.start(self.worker.serve)
                task_status.started()
        finally:
            self._stopping = None
            sys.setswitchinterval(before)

    def stop(self) -> None:
        """Have :meth:`serve` return (call it on serve's loop): the tick stops at once,
        deliveries in flight get the worker's ``drain_timeout`` to finish."""
        if self._stopping is not None:
            self._stopping.set()
        if self.worker is not None:
            self.worker.stop()

    def close(self) -> None:
        """Close the database (after :meth:`serve` returned)."""
        self.db.close()
        if self._chain_db is not None:
            self._chain_db.close()

    async def _tick(self, stopping: anyio.Event) -> None:
        while True:
            with anyio.move_on_after(self.config.tick_interval):
                await stopping.wait()
                return
            try:
                await anyio.to_thread.run_sync(self.run_time_triggers)
            except Exception:  # keep ticking; the next run catches up
                log.exception("time triggers failed")


def journal_url(database_url: str) -> str:
    """Where the soroban gateway keeps its journal: the backend's own database on
    PostgreSQL (through a pool of its own, so its commits never wait for a caller's
    transaction), a file beside it on SQLite (whose single writer is held by the
    caller's transaction while the gateway must commit)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url == prefix + ":memory:":
        return database_url
    return f"{database_url}.soroban"


def soroban_gateway(config: BackendConfig) -> tuple[SorobanGateway, Database]:
    """The ``soroban`` chain of *config*, and the database its journal is in.

    The fee-paying account's seed is read from ``source_secret_file`` here and kept only
    in memory. ``ValueError`` (missing options, unreadable key) and
    :class:`~lumenlater_sdk.backend.chain.ChainUnavailableError` (the RPC does not
    answer) say what is wrong.
    """
    settings = config.soroban()
    try:
        seed = settings.source_secret_file.read_text().strip()
    except OSError as exc:
        raise ValueError(
            f"cannot read the source secret file {settings.source_secret_file}: {exc.strerror}"
        ) from None
    try:
        source = Keypair.from_secret(seed)
    except Exception:  # the message could echo the file's content: say only where
        raise ValueError(
            f"{settings.source_secret_file} does not hold a Stellar secret seed (S…)"
        ) from None
    db = connect(journal_url(config.database_url))
    try:
        gateway = SorobanGateway(
            rpc_url=settings.rpc_url,
            network_passphrase=settings.network_passphrase,
            contracts=settings.contracts,
            source=source,
            db=db,
        )
    except BaseException:
        db.close()
        raise
    return gateway, db


class BackendApp(Starlette):
    """The backend's ASGI app: the API on Starlette, whose lifespan runs the background
    work of :attr:`backend`."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.api_version = API_VERSION
        api = api_routes()
        self.openapi = build_openapi(api, server_url=backend.config.base_url)
        config = backend.config
        self.specs = [
            *api,
            *meta_routes(
                lambda: self.openapi, backend.metrics, health_timeout=config.health_timeout
            ),
            *([] if config.livemode else dashboard_routes()),  # the sandbox dashboard
        ]
        limiter = RateLimiter(
            config.rate_limit_rate,
            config.rate_limit_burst,
            enabled=config.rate_limit,
            failure_rate=config.rate_limit_failure_rate,
            failure_burst=config.rate_limit_failure_burst,
            store=rate_store(config.rate_limit_store) if config.rate_limit else None,
        )
        self.limiter = limiter
        routes: list[BaseRoute] = [*routes_for(self.specs, backend.ctx, Gate(backend.ctx, limiter))]
        if backend.config.soroban_rpc:
            if not isinstance(backend.gateway, LocalGateway):
                raise ValueError("the Soroban RPC endpoint serves a sandbox (local) ledger only")
            routes = [*soroban_rpc_routes(backend.gateway, backend.config.base_url), *routes]
        super().__init__(
            routes=routes,
            middleware=[
                Middleware(
                    RequestContextMiddleware,
                    metrics=backend.metrics,
                    log_requests=backend.config.log_requests,
                    request_log=backend.request_log,
                    clock=backend.config.clock,
                ),
                Middleware(
                    CorsMiddleware,
                    allowed=functools.partial(checkout_page.embed_origins, backend.ctx),
                    limiter=limiter,
                ),
            ],
            exception_handlers=EXCEPTION_HANDLERS,
            lifespan=_lifespan,
        )
        # An API answers 404 for a path it lacks rather than redirecting to a lookalike.
        self.router.redirect_slashes = False


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    assert isinstance(app, BackendApp)
    async with anyio.create_task_group() as background:
        await background.start(app.backend.serve)
        try:
            yield
        finally:
            app.backend.stop()  # the task group then waits for deliveries to drain


def create_app(config: BackendConfig, *, backend: Backend | None = None) -> BackendApp:
    """The backend as an ASGI app (migrates, runs chain genesis; merchants are separate)."""
    return BackendApp(backend or Backend(config))
