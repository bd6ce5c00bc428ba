"""The backend's configuration, passed down explicitly (no global settings)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["DEFAULT_HOME", "NETWORKS", "BackendConfig", "SorobanSettings", "parse_contracts"]

DEFAULT_HOME = Path("~/.lumenlater")

NETWORKS: Mapping[str, Mapping[str, Any]] = {
    "testnet": {
        "rpc_url": "https://soroban-testnet.stellar.org",
        "network_passphrase": "Test SDF Network ; September 2015",
        "contracts": {
            "bnpl_core": "CB35QWU7M7IJCAP3L7HPACQRV23LI3SGF35DXTLOGWNFLZBNR4XPYH65",
            "lp_token": "CAVNVTR65IGZTF4WBR24BYGK7CLRR26TXNXLNOBZXYPYRN4TV5FLMAQ4",
            "usdc": "CCWP65JEXNKOUO6YGPDBDUFLNEUPXJEL75WESLEOPZAIWLPFXW5KUZBX",
        },
    },
}
"""Network presets (``--network testnet``): the upstream deployment's RPC URL, passphrase
and contract ids (testnet is reset now and then: override ``contracts`` when it is)."""

_CONTRACT_NAMES = ("bnpl_core", "lp_token", "usdc")


def parse_contracts(text: str) -> dict[str, str]:
    """``bnpl_core=C…,lp_token=C…,usdc=C…`` as a mapping; ``ValueError`` saying what is wrong."""
    found: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, cid = part.partition("=")
        name, cid = name.strip(), cid.strip()
        if not sep or name not in _CONTRACT_NAMES or not cid.startswith("C") or len(cid) != 56:
            raise ValueError(
                f"contracts: {part!r} is not name=C… (names: {', '.join(_CONTRACT_NAMES)})"
            )
        found[name] = cid
    return found


@dataclass(frozen=True)
class SorobanSettings:
    """What the ``soroban`` chain needs, checked: see :meth:`BackendConfig.soroban`."""

    rpc_url: str
    network_passphrase: str
    contracts: Mapping[str, str]
    source_secret_file: Path


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
    ``chain`` picks the gateway: ``local`` (the contracts in-process, a sandbox) or
    ``soroban`` (a Soroban RPC endpoint at ``rpc_url`` on ``network_passphrase``, the
    contracts at ``contracts``; fees paid by the account whose secret seed is the only
    content of ``source_secret_file``, read at start and never stored). ``network``
    names a preset of :data:`NETWORKS` filling whichever of the three is unset.
    ``webhook_proxy`` (``http://[user:password@]host:port``)
    carries every webhook POST; unset, the ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
    ``ALL_PROXY`` environment variables are used, and ``NO_PROXY`` is honoured
    either way.

    Rate limits (``rate_limit``): ``rate_limit_rate`` requests per second with bursts
    of ``rate_limit_burst``, per API key once the key authenticated and per client
    address before; failed authentications of one address have their own bucket
    (``rate_limit_failure_rate`` / ``rate_limit_failure_burst``). Buckets live in each
    process's memory unless ``rate_limit_store`` names a Redis (``redis://…``) that
    every process shares. ``health_timeout`` bounds ``/healthz``'s database write;
    ``database_connect_timeout`` how long start waits for PostgreSQL to accept a
    connection before giving up.

    ``write_concurrency`` bounds the POST requests one process runs at once (each
    holds a worker thread while it writes). On the local chain every money movement
    waits for the one ledger row anyway, and threads queued behind it only contend
    for the interpreter with the one holding it: the default there is 4. With the
    ``soroban`` chain a call waits seconds for the network, so the default is anyio's
    40 threads.

    ``switch_interval`` is the interpreter's thread switch interval (seconds,
    :func:`sys.setswitchinterval`) while the backend serves, put back when it stops;
    ``None`` leaves the interpreter's own (5 ms). A writer holding the ledger gives up
    the interpreter at each statement it sends and must wait for it to come back: with
    5 ms slices every other thread's turn lengthens the hold all writers queue behind.
    The setting is the whole process's, so an app that embeds the backend shares it.

    Retention (``retention``, on by default; off keeps every row): rows that only pile
    up are deleted in the background every ``retention_interval`` seconds, in
    transactions of at most ``retention_batch`` rows with ``retention_pause`` seconds
    between them, so writers never wait long. Webhook outbox rows whose delivery is
    final go after ``retention_outbox_days``, the attempt log after
    ``retention_attempts_days``, the request log after ``retention_request_logs_days``
    (``None`` keeps those rows), idempotency keys an hour after their 24 h. Events are
    kept. See :mod:`lumenlater_sdk.backend.services.retention`.
    """

    database_url: str = "sqlite:///" + str(DEFAULT_HOME / "sandbox.db")
    secret_key: str | bytes | None = None
    host: str = "127.0.0.1"
    port: int = 8787
    public_base_url: str | None = None
    rate_limit: bool = True
    rate_limit_rate: float = 100.0
    rate_limit_burst: int = 200
    rate_limit_failure_rate: float = 0.2
    rate_limit_failure_burst: int = 10
    rate_limit_store: str | None = None
    health_timeout: float = 2.0
    database_connect_timeout: float = 5.0
    clock: Callable[[], float] = time.time
    chain_constants: Mapping[str, int] | None = None
    tick_interval: float = 5.0
    run_delivery: bool = True
    delivery: Mapping[str, Any] = field(default_factory=dict)
    livemode: bool = False
    webhook_proxy: str | None = None
    log_requests: bool = True
    soroban_rpc: bool = False
    chain: Literal["local", "soroban"] = "local"
    network: str | None = None
    rpc_url: str | None = None
    network_passphrase: str | None = None
    contracts: Mapping[str, str] | None = None
    source_secret_file: str | None = None
    write_concurrency: int | None = None
    switch_interval: float | None = 0.0005
    retention: bool = True
    retention_interval: float = 300.0
    retention_batch: int = 500
    retention_pause: float = 0.05
    retention_outbox_days: float | None = 1.0
    retention_attempts_days: float | None = 30.0
    retention_request_logs_days: float | None = 30.0

    @property
    def writers(self) -> int:
        """How many POST requests a process runs at once (``write_concurrency``)."""
        if self.write_concurrency is not None:
            if self.write_concurrency < 1:
                raise ValueError("write_concurrency must be at least 1")
            return self.write_concurrency
        return 4 if self.chain == "local" else 40

    @property
    def base_url(self) -> str:
        """Where browsers reach this server (hosted checkout links)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def soroban(self) -> SorobanSettings:
        """The ``soroban`` chain's settings, preset applied; ``ValueError`` naming what is
        missing or wrong (and the option or variable that sets it)."""
        preset: Mapping[str, Any] = {}
        if self.network is not None:
            if self.network not in NETWORKS:
                raise ValueError(
                    f"unknown network {self.network!r} (presets: {', '.join(NETWORKS)})"
                )
            preset = NETWORKS[self.network]
        rpc_url = self.rpc_url or preset.get("rpc_url")
        passphrase = self.network_passphrase or preset.get("network_passphrase")
        contracts = dict(self.contracts or preset.get("contracts") or {})
        missing = [
            option
            for option, value in (
                ("--rpc-url / LUMENLATER_RPC_URL", rpc_url),
                ("--network-passphrase / LUMENLATER_NETWORK_PASSPHRASE", passphrase),
                ("--source-secret-file / LUMENLATER_SOURCE_SECRET_FILE", self.source_secret_file),
            )
            if not value
        ]
        if missing:
            raise ValueError("the soroban chain needs " + ", ".join(missing))
        absent = [name for name in _CONTRACT_NAMES if name not in contracts]
        if absent or len(contracts) != len(_CONTRACT_NAMES):
            raise ValueError(
                "the soroban chain needs the ids of exactly bnpl_core, lp_token and usdc"
                " (--contracts / LUMENLATER_CONTRACTS bnpl_core=C…,lp_token=C…,usdc=C…)"
            )
        assert rpc_url and passphrase and self.source_secret_file
        return SorobanSettings(
            str(rpc_url), str(passphrase), contracts, Path(self.source_secret_file).expanduser()
        )

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
        if store := os.environ.get("LUMENLATER_RATE_LIMIT_STORE"):
            values["rate_limit_store"] = store
        if os.environ.get("LUMENLATER_SOROBAN_RPC", "").lower() in ("1", "true", "yes", "on"):
            values["soroban_rpc"] = True
        for name, var in (
            ("chain", "LUMENLATER_CHAIN"),
            ("network", "LUMENLATER_NETWORK"),
            ("rpc_url", "LUMENLATER_RPC_URL"),
            ("network_passphrase", "LUMENLATER_NETWORK_PASSPHRASE"),
            ("source_secret_file", "LUMENLATER_SOURCE_SECRET_FILE"),
        ):
            if value := os.environ.get(var):
                values[name] = value
        if contracts := os.environ.get("LUMENLATER_CONTRACTS"):
            values["contracts"] = parse_contracts(contracts)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("chain", "local") not in ("local", "soroban"):
            raise ValueError(f"chain must be local or soroban, got {values['chain']!r}")
        return cls(**values)
