"""What every service needs: the database, the chain, the configuration, the sealing key."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from stellar_sdk import Keypair

from .._crypto import SecretBox
from ..config import BackendConfig
from ..db import Database
from .relay import ChainRelay

__all__ = ["Principal", "RequestInfo", "ServiceContext"]


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
    """Who is calling: the merchant (its ``G…`` address) and what kind of key it used."""

    merchant_id: str
    kind: str  # "secret" | "publishable"
    livemode: bool


@dataclass
class ServiceContext:
    """Shared state of one backend process; thread-safe."""

    config: BackendConfig
    db: Database
    chain: ChainRelay
    box: SecretBox
    contract_id: str
    genesis: Any = None
    _keypairs: dict[str, Keypair] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def with_db(self, db: Database) -> ServiceContext:
        """The same services on *db* (one request's unit of work); caches stay shared."""
        return dataclasses.replace(self, db=db)

    def cached_keypair(self, address: str) -> Keypair | None:
        """The keypair of *address* if this process already opened its seed."""
        return self._keypairs.get(address)

    def keypair(self, address: str, sealed_seed: str) -> Keypair:
        """The keypair of *address*, decrypting its sealed seed once per process."""
        kp = self._keypairs.get(address)
        if kp is None:
            kp = Keypair.from_secret(self.box.open(sealed_seed))
            with self._lock:
                self._keypairs[address] = kp
        return kp
