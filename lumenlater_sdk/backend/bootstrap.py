"""A sandbox's own merchant: made on first start, its test keys shown again and rolled.

No webhook endpoint is registered unless one is asked for (``--webhook-url``): an
endpoint nobody listens at would be retried for a day for every event.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._crypto import check_secret_key
from .app import Backend
from .paging import PageRequest
from .services import api_keys, webhook_endpoints
from .store import events as state

__all__ = [
    "SandboxCredentials",
    "SandboxWebhook",
    "ensure_sandbox_merchant",
    "ensure_sandbox_webhook",
    "load_or_create_secret_key",
    "roll_sandbox_key",
    "sandbox_keys",
    "sandbox_merchant_id",
]

_STATE_KEY = "sandbox_merchant"


@dataclass(frozen=True)
class SandboxCredentials:
    """What the first start made. The keys are stored hashed and (test keys) sealed, so
    :func:`sandbox_keys` shows them again."""

    merchant_id: str
    secret_key: str
    publishable_key: str
    webhook_secret: str | None
    webhook_endpoint: str | None

    def __repr__(self) -> str:
        return f"SandboxCredentials(merchant_id={self.merchant_id!r})"


def load_or_create_secret_key(path: Path) -> bytes:
    """The sandbox's sealing key, created with mode 0600 on first use.

    A key file too short or too weak to seal with raises :class:`ValueError` naming
    the file and what is required.
    """
    path = path.expanduser()
    if path.exists():
        key = path.read_bytes().strip()
        try:
            return check_secret_key(key)
        except ValueError as exc:
            raise ValueError(
                f"the sealing key in {path} is refused: {exc}. The sandbox database is"
                " sealed under it, so start over with a new key file and a fresh database."
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _new_key() -> bytes:
    # 64 random hex digits all but never repeat fewer than 8 distinct ones; checking
    # anyway means a key this function hands out always opens a SecretBox.
    while True:
        key = secrets.token_hex(32).encode()
        try:
            return check_secret_key(key)
        except ValueError:  # pragma: no cover - probability below 2**-100
            continue


def ensure_sandbox_merchant(
    backend: Backend,
    *,
    webhook_url: str | None = None,
    business_name: str = "Sandbox Shop",
) -> SandboxCredentials | None:
    """Create the sandbox merchant once, with an endpoint at *webhook_url* if given;
    ``None`` if this database already has it."""
    with backend.db.transaction() as tx:
        if state.get_state(tx, _STATE_KEY, lock=True) is not None:
            return None
    creds = backend.create_merchant(business_name)
    endpoint_id = whsec = None
    if webhook_url:
        endpoint = backend.create_webhook_endpoint(creds.merchant_id, webhook_url)
        endpoint_id, whsec = endpoint["id"], endpoint.get("secret")
    with backend.db.transaction() as tx:
        state.set_state(tx, _STATE_KEY, creds.merchant_id)
    return SandboxCredentials(
        creds.merchant_id, creds.secret_key, creds.publishable_key, whsec, endpoint_id
    )


@dataclass(frozen=True)
class SandboxWebhook:
    """The sandbox merchant's endpoint at a URL, and the secret that signs for it now."""

    endpoint_id: str
    url: str
    secret: str
    created: bool

    def __repr__(self) -> str:
        return f"SandboxWebhook(endpoint_id={self.endpoint_id!r}, url={self.url!r})"


def sandbox_merchant_id(backend: Backend) -> str | None:
    """The id of the merchant the sandbox made on its first start, or ``None``."""
    with backend.db.transaction(write=False) as tx:
        return state.get_state(tx, _STATE_KEY)


def ensure_sandbox_webhook(backend: Backend, merchant_id: str, url: str) -> SandboxWebhook:
    """The merchant's enabled endpoint at *url*, made if it has none (so restarting with
    the same ``--webhook-url`` does not add another), with its current secret."""
    ctx = backend.ctx
    page = PageRequest(limit=100)
    while True:
        found, more = webhook_endpoints.list_endpoints(ctx, merchant_id, page)
        for endpoint in found:
            if endpoint["url"] == url and endpoint["status"] == "enabled":
                secret = webhook_endpoints.active_secrets(ctx, merchant_id, endpoint["id"])[0]
                return SandboxWebhook(endpoint["id"], url, secret, created=False)
        if not more or not found:
            break
        page = PageRequest(limit=100, starting_after=found[-1]["id"])
    made = backend.create_webhook_endpoint(merchant_id, url)
    return SandboxWebhook(made["id"], made["url"], made["secret"], created=True)


def sandbox_keys(backend: Backend, merchant_id: str) -> list[dict[str, Any]]:
    """The merchant's keys that still work (``api_key`` objects, oldest first), each test
    key that can be shown again with its ``secret``."""
    keys = api_keys.merchant_keys(backend.ctx, merchant_id, reveal=True)
    return [k for k in keys if k["status"] in ("active", "expiring")]


def roll_sandbox_key(backend: Backend, merchant_id: str, *, expires_in: int = 0) -> dict[str, Any]:
    """Roll the merchant's newest active secret key: the new key (with ``secret``); the
    old one works for *expires_in* more seconds."""
    active = [
        k
        for k in api_keys.merchant_keys(backend.ctx, merchant_id)
        if k["type"] == "secret" and k["status"] == "active" and not k["livemode"]
    ]
    if not active:
        raise ValueError("the sandbox merchant has no active test secret key to roll")
    return api_keys.roll_key(backend.ctx, merchant_id, active[-1]["id"], expires_in=expires_in)
