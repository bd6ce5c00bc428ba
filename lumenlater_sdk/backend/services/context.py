"""What every service needs: the database, the chain, the configuration, the sealing key.

The chain is reached through the relay (``ctx.chain``), the sandbox-only powers
through ``ctx.sandbox`` (``None`` on a real chain: :meth:`ServiceContext.require_sandbox`
refuses with ``sandbox_only``), and the protocol constants are ``ctx.constants``, the
gateway's own, read once when the backend starts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from stellar_sdk import Keypair

from .._crypto import SecretBox
from ..chain import ProtocolConstants, SandboxControls
from ..config import BackendConfig
from ..db import Database, Tx
from ..store import merchants as merchant_store
from .errors import SandboxOnly
from .relay import ChainRelay

__all__ = ["KeyEpoch", "Principal", "RequestInfo", "ServiceContext"]


@dataclass(frozen=True)
class RequestInfo:
    """The API request behind a change (recorded in the events it causes)."""

    request_id: str | None = None
    idempotency_key: str | None = None

    def as_event_field(self) -> dict[str, Any] | None:
        """The event's ``request`` object, or ``None`` for changes no request caused."""
        if self.request_id is None:
            return None
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the merchant (its ``G…`` address) and what kind of key it used;
    which key (``key_id``) and when it stops working (``expires_at``, a rolled key's
    grace; Unix seconds of the backend's wall clock) when known."""

    merchant_id: str
    kind: str  # "secret" | "publishable"
    livemode: bool
    key_id: str | None = None
    expires_at: int | None = None


class KeyEpoch:
    """How many times this process changed API keys (revoked or rolled one): a cache of
    authenticated keys taken at another epoch must look its keys up again."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        """The current epoch."""
        return self._value

    def bump(self) -> None:
        """Record a change of keys."""
        with self._lock:
            self._value += 1


@dataclass
class ServiceContext:
    """Shared state of one backend process; thread-safe."""

    config: BackendConfig
    db: Database
    chain: ChainRelay
    box: SecretBox
    contract_id: str
    sandbox: SandboxControls | None = None
    key_epoch: KeyEpoch = field(default_factory=KeyEpoch)
    _keypairs: dict[str, Keypair] = field(default_factory=dict)
    _self_custody: set[str] = field(default_factory=set)
    _livemode: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def constants(self) -> ProtocolConstants:
        """The protocol constants of the chain (fee rate, APR, grace period...)."""
        return self.chain.constants

    def require_sandbox(self, action: str) -> SandboxControls:
        """The sandbox controls, or :class:`SandboxOnly` naming *action* on a real chain."""
        if self.sandbox is None:
            raise SandboxOnly(
                f"{action} is possible only on a sandbox ledger; this backend runs on a real chain."
            )
        return self.sandbox

    def with_db(self, db: Database) -> ServiceContext:
        """The same services on *db* (one request's unit of work); caches stay shared."""
        # A shallow copy of the fields (what dataclasses.replace makes, at half the cost:
        # no field walk and no __init__; a keyed POST makes one).
        ctx = object.__new__(type(self))
        ctx.__dict__.update(self.__dict__)
        ctx.db = db
        return ctx

    def cached_keypair(self, address: str) -> Keypair | None:
        """The keypair of *address* if this process already opened its seed."""
        return self._keypairs.get(address)

    def is_self_custody(self, merchant_id: str) -> bool:
        """Whether this process already saw that *merchant_id* keeps its own key."""
        return merchant_id in self._self_custody

    def remember_self_custody(self, merchant_id: str) -> None:
        """Note a self-custody merchant (custody never changes once set)."""
        with self._lock:
            self._self_custody.add(merchant_id)

    def is_live(self, tx: Tx, merchant_id: str) -> bool:
        """Whether *merchant_id* is a live-mode merchant (read once per process: a
        merchant's mode never changes)."""
        live = self._livemode.get(merchant_id)
        if live is None:
            live = merchant_store.is_live(tx, merchant_id)
            with self._lock:
                self._livemode[merchant_id] = live
        return live

    def keypair(self, address: str, sealed_seed: str) -> Keypair:
        """The keypair of *address*, decrypting its sealed seed once per process."""
        kp = self._keypairs.get(address)
        if kp is None:
            kp = Keypair.from_secret(self.box.open(sealed_seed))
            with self._lock:
                self._keypairs[address] = kp
        return kp
