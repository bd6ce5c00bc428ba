"""An event store in Redis, shared by every process that can reach the server."""

from __future__ import annotations

import secrets
from typing import Any

from ._store import DEFAULT_LEASE, Claim, ClaimStatus

__all__ = ["RedisEventStore"]

_DONE = b"done"
_HANDLERS = ":handlers"


def _text(value: bytes | str) -> str:
    # bytes, or str from a client made with decode_responses=True
    return value.decode() if isinstance(value, bytes) else value


# Delete the key only while it still holds our claim: after our lease expired another
# delivery may hold it, or it may be done.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# Renew the lease only while the key still holds our claim.
_EXTEND_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class RedisEventStore:
    """Remembers handled event ids in Redis.

    One key per event: a claim is ``SET key <token> NX PX lease`` (so a crashed
    claimer's lease simply expires, and is renewed with ``PEXPIRE`` while handlers
    run); success overwrites it with a done marker kept for ``done_ttl`` seconds
    (default 30 days, longer than the retry schedule and any likely manual resend).
    The handlers that finished for an event not yet done are a set under
    ``<key>:handlers``, kept ``done_ttl`` seconds too. ``redis`` is a URL or a
    ``redis.Redis`` client.
    """

    blocking = True

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "lumenlater:webhook-event:",
        lease: float = DEFAULT_LEASE,
        done_ttl: int = 30 * 86400,
    ) -> None:
        if isinstance(redis, str):
            import redis as redis_lib

            redis = redis_lib.Redis.from_url(redis)
        self.redis = redis
        self.prefix = prefix
        self.lease = lease
        self.done_ttl = done_ttl
        self._release = redis.register_script(_RELEASE_SCRIPT)
        self._extend = redis.register_script(_EXTEND_SCRIPT)

    def claim(self, event_id: str) -> Claim:
        """Take the event unless it is done or claimed by someone else."""
        key = self.prefix + event_id
        lease_ms = max(1, int(self.lease * 1000))
        while True:
            token = "claim:" + secrets.token_hex(8)
            if self.redis.set(key, token, nx=True, px=lease_ms):
                finished = self.redis.smembers(key + _HANDLERS)
                return Claim(ClaimStatus.CLAIMED, token, frozenset(map(_text, finished)))
            value = self.redis.get(key)
            if value is None:
                continue  # released or expired between the two commands: try again
            done = value in (_DONE, "done")  # bytes, or str with decode_responses
            return Claim(ClaimStatus.DONE if done else ClaimStatus.BUSY)

    def handler_done(self, event_id: str, token: str, handler: str) -> None:
        """Remember that ``handler`` finished for the event, so a retry skips it."""
        key = self.prefix + event_id + _HANDLERS
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(key, handler)
        pipe.expire(key, self.done_ttl)
        pipe.execute()

    def extend(self, event_id: str, token: str) -> bool:
        """Renew our lease for another ``lease`` seconds; ``False`` if it is not ours."""
        lease_ms = max(1, int(self.lease * 1000))
        return bool(self._extend(keys=[self.prefix + event_id], args=[token, lease_ms]))

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled."""
        key = self.prefix + event_id
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key, _DONE, ex=self.done_ttl)
        pipe.delete(key + _HANDLERS)
        pipe.execute()

    def release(self, event_id: str, token: str) -> None:
        """Drop our claim (if it is still ours) so a retry can run the handlers."""
        self._release(keys=[self.prefix + event_id], args=[token])

    def close(self) -> None:
        """Close the client's connections."""
        self.redis.close()
