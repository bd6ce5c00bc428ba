"""Turning claimed outbox rows into :class:`Claim`\\ s: join events, endpoints and secrets."""

from __future__ import annotations

import time
from collections.abc import Callable

from .._crypto import SecretBox
from ..db import Tx
from ._outbox import Claim, claim_due, drop

__all__ = ["SecretCache", "claim_batch"]


class SecretCache:
    """Decrypted signing secrets, keyed by ciphertext, each kept for *ttl* seconds.

    Decrypting costs far more than signing, and a busy endpoint's secret is needed
    for every attempt. Keying by ciphertext makes rotation safe (a new secret is a
    new key); the TTL bounds how long a plaintext secret lingers in memory after
    its endpoint goes quiet.
    """

    def __init__(self, box: SecretBox, *, ttl: float = 300.0, limit: int = 10_000) -> None:
        self._box = box
        self._ttl = ttl
        self._limit = limit
        self._plain: dict[str, tuple[str, float]] = {}

    def open(self, ciphertext: str, now: float | None = None) -> str:
        """The plaintext of *ciphertext*, decrypting it at most once per TTL."""
        at = time.monotonic() if now is None else now
        hit = self._plain.get(ciphertext)
        if hit is not None and hit[1] > at:
            return hit[0]
        if len(self._plain) >= self._limit:
            self._plain = {k: v for k, v in self._plain.items() if v[1] > at}
            if len(self._plain) >= self._limit:
                self._plain.clear()
        plain = self._box.open(ciphertext)
        self._plain[ciphertext] = (plain, at + self._ttl)
        return plain


def claim_batch(
    tx: Tx,
    *,
    now: float,
    lease: float,
    token: str,
    limit: int,
    per_endpoint: int,
    secret: Callable[[str], str],
) -> tuple[list[Claim], bool]:
    """Lease up to *limit* due rows and return what to send; rows that cannot be sent are dropped.

    No endpoint gets more than *per_endpoint* attempts in flight (over all workers);
    the flag says that one at its cap has due rows left (an answer from it frees a slot).

    A row is dropped when its event or endpoint is gone, the endpoint is disabled,
    or it has no active secret to sign with.
    """
    rows, events, endpoints, secret_rows, capped = claim_due(
        tx, now=now, lease=lease, token=token, limit=limit, per_endpoint=per_endpoint
    )
    if not rows:
        return [], capped
    by_event = {e["id"]: e for e in events}
    keys: dict[str, list[str]] = {}
    for s in secret_rows:
        keys.setdefault(s["endpoint_id"], []).append(secret(s["ciphertext"]))
    frozen = {endpoint_id: tuple(k) for endpoint_id, k in keys.items()}
    claims: list[Claim] = []
    dead: list[int] = []
    for r in rows:
        ev, ep = by_event.get(r["event_id"]), endpoints.get(r["endpoint_id"])
        if ev is None or ep is None or ep["status"] != "enabled" or not frozen.get(ep["id"]):
            dead.append(r["seq"])
            continue
        payload = ev["payload"]
        claims.append(
            Claim(
                seq=r["seq"],
                event_id=ev["id"],
                event_type=ev["type"],
                payload=payload.encode("utf-8") if isinstance(payload, str) else bytes(payload),
                endpoint_id=ep["id"],
                merchant_id=r["merchant_id"],
                url=ep["url"],
                secrets=frozen[ep["id"]],
                attempt=r["attempts"] + 1,
                cycle_attempt=r["cycle_attempts"] + 1,
                cycle_started=(r["cycle_started_ms"] or now * 1000) / 1000,
            )
        )
    drop(tx, dead)
    return claims, capped
