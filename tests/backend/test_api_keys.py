"""``/v1/api_keys`` through the SDK against a real backend, on SQLite and PostgreSQL:
list, create, show again (test keys only), roll with a grace period, revoke, the
last secret key, merchants apart, idempotent retries."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lumenlater_sdk import (
    AsyncLumenLater,
    AuthenticationError,
    BadRequestError,
    LumenLater,
    NotFoundError,
    PermissionDeniedError,
)
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


class Clock:
    """The backend's wall clock, moved by the test (key expiry is read from it)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sb(db_url: str, clock: Clock) -> Iterator[SandboxHandle]:
    with run_sandbox(db_url, webhook_url=None, run_delivery=False, clock=clock) as handle:
        yield handle


def _client(sb: SandboxHandle, key: str) -> LumenLater:
    return LumenLater(api_key=key, base_url=sb.base_url, max_retries=0)


def _secret_id(ll: LumenLater) -> str:
    return next(k.id for k in ll.api_keys.list() if k.type == "secret")


def test_list_create_and_reveal_test_keys(sb: SandboxHandle) -> None:
    with _client(sb, sb.secret_key) as ll:
        first = ll.api_keys.list()
        assert sorted(k.type for k in first) == ["publishable", "secret"]
        assert all(k.status == "active" and k.secret is None for k in first)
        hints = {k.type: k.hint for k in first}
        assert hints == {"secret": sb.secret_key[-4:], "publishable": sb.publishable_key[-4:]}

        made = ll.api_keys.create(type="secret", name="ci runner")
        assert made.object == "api_key" and made.name == "ci runner" and not made.livemode
        assert made.secret is not None and made.secret.startswith("sk_test_")
        assert made.hint == made.secret[-4:] and made.secret not in repr(made)
        with _client(sb, made.secret) as other:
            assert other.account.retrieve().id == sb.merchant_id

        assert ll.api_keys.retrieve(made.id).secret is None
        assert ll.api_keys.retrieve(made.id, reveal=True).secret == made.secret
        original = ll.api_keys.retrieve(_secret_id(ll), reveal=True)
        assert original.secret in (sb.secret_key, made.secret)

        pk = ll.api_keys.create(type="publishable")
        assert pk.secret is not None and pk.secret.startswith("pk_test_")
        page = ll.api_keys.list(limit=2)
        assert [k.id for k in page.data] == [pk.id, made.id] and page.has_more
        assert len(list(ll.api_keys.list(limit=1))) == 4

        with pytest.raises(BadRequestError) as bad:
            ll.api_keys.create(type="restricted")  # type: ignore[arg-type]
        assert bad.value.param == "type"
        with pytest.raises(NotFoundError):
            ll.api_keys.retrieve("key_doesnotexist")


def test_test_keys_are_kept_sealed_and_live_keys_as_a_hash_only(sb: SandboxHandle) -> None:
    live = sb.backend.create_merchant("Live Shop", livemode=True)
    with _client(sb, live.secret_key) as ll:
        keys = ll.api_keys.list()
        assert {k.livemode for k in keys} == {True}
        made = ll.api_keys.create(type="secret")
        assert made.secret is not None and made.secret.startswith("sk_live_")
        for key_id in (made.id, *(k.id for k in keys)):
            with pytest.raises(BadRequestError) as refused:
                ll.api_keys.retrieve(key_id, reveal=True)
            assert refused.value.code == "api_key_not_revealable"
            assert refused.value.param == "reveal"
    with sb.backend.db.transaction(write=False) as tx:
        rows = tx.fetchall("SELECT merchant_id, livemode, key_hash, sealed_key FROM api_keys")
    for row in rows:
        assert len(row["key_hash"]) == 64
        if row["livemode"]:
            assert row["sealed_key"] is None
        else:
            assert str(row["sealed_key"]).startswith("v2:")
            assert sb.secret_key not in str(row["sealed_key"])


def test_roll_keeps_the_old_key_until_it_expires(sb: SandboxHandle, clock: Clock) -> None:
    with _client(sb, sb.secret_key) as ll:
        old_id = _secret_id(ll)
        new = ll.api_keys.roll(old_id, expires_in=3600)
        assert new.id != old_id and new.type == "secret" and new.status == "active"
        assert new.secret is not None and new.secret != sb.secret_key
        old = ll.api_keys.retrieve(old_id)  # still works: the old key asks
        assert old.status == "expiring" and old.expires_at == new.created + 3600

        with pytest.raises(BadRequestError) as again:
            ll.api_keys.roll(old_id)
        assert again.value.code == "api_key_inactive"
        with pytest.raises(BadRequestError) as too_long:
            ll.api_keys.roll(new.id, expires_in=7 * 86400 + 1)
        assert too_long.value.param == "expires_in"

        clock.now += 3600
        with pytest.raises(AuthenticationError) as expired:
            ll.account.retrieve()
        assert expired.value.code == "api_key_expired"
    with _client(sb, new.secret) as fresh:
        assert fresh.account.retrieve().id == sb.merchant_id
        assert fresh.api_keys.retrieve(old_id).status == "expired"
        # The default: the old key stops at once.
        newer = fresh.api_keys.roll(new.id)
        with pytest.raises(AuthenticationError) as stopped:
            fresh.account.retrieve()
        assert stopped.value.code == "api_key_expired"
    assert newer.secret is not None
    with _client(sb, newer.secret) as newest:
        assert newest.api_keys.retrieve(new.id).status == "expired"


def test_revoke_and_the_last_secret_key(sb: SandboxHandle) -> None:
    with _client(sb, sb.secret_key) as ll:
        own = _secret_id(ll)
        with pytest.raises(BadRequestError) as last:
            ll.api_keys.revoke(own)
        assert last.value.code == "last_secret_key" and last.value.param == "id"
        assert ll.api_keys.retrieve(own).status == "active"

        spare = ll.api_keys.create(type="secret", name="spare")
        assert spare.secret is not None
        # Revoking the key of the request itself is allowed; the answer still arrives.
        revoked = ll.api_keys.revoke(own)
        assert revoked.status == "revoked" and revoked.revoked_at is not None
        with pytest.raises(AuthenticationError) as refused:
            ll.account.retrieve()
        assert refused.value.code == "api_key_revoked"
    with _client(sb, spare.secret) as ll:
        assert ll.api_keys.revoke(own).status == "revoked"  # again: answered as it is
        with pytest.raises(BadRequestError) as hidden:
            ll.api_keys.retrieve(own, reveal=True)
        assert hidden.value.code == "api_key_not_revealable"
        pk = next(k for k in ll.api_keys.list() if k.type == "publishable")
        assert ll.api_keys.revoke(pk.id).status == "revoked"  # the last publishable may go
        with pytest.raises(BadRequestError) as still_last:
            ll.api_keys.revoke(spare.id)
        assert still_last.value.code == "last_secret_key"
        assert {k.status for k in ll.api_keys.list()} == {"active", "revoked"}


def test_a_merchant_never_sees_another_merchants_keys(sb: SandboxHandle) -> None:
    other = sb.create_merchant("Other Shop")
    with _client(sb, sb.secret_key) as mine, _client(sb, other.secret_key) as theirs:
        my_ids = {k.id for k in mine.api_keys.list()}
        their_ids = {k.id for k in theirs.api_keys.list()}
        assert my_ids and their_ids and not my_ids & their_ids
        target = _secret_id(mine)
        for attempt in (
            lambda: theirs.api_keys.retrieve(target),
            lambda: theirs.api_keys.retrieve(target, reveal=True),
            lambda: theirs.api_keys.roll(target),
            lambda: theirs.api_keys.revoke(target),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        assert mine.api_keys.retrieve(target).status == "active"
        assert mine.account.retrieve().id == sb.merchant_id


def test_only_a_secret_key_manages_keys(sb: SandboxHandle) -> None:
    with _client(sb, sb.publishable_key) as ll:
        with pytest.raises(PermissionDeniedError):
            ll.api_keys.list()
        with pytest.raises(PermissionDeniedError):
            ll.api_keys.create(type="secret")


def test_retried_posts_answer_once(sb: SandboxHandle) -> None:
    with _client(sb, sb.secret_key) as ll:
        a = ll.api_keys.create(type="secret", idempotency_key="make-one")
        b = ll.api_keys.create(type="secret", idempotency_key="make-one")
        assert (a.id, a.secret) == (b.id, b.secret)
        r1 = ll.api_keys.roll(a.id, expires_in=60, idempotency_key="roll-one")
        r2 = ll.api_keys.roll(a.id, expires_in=60, idempotency_key="roll-one")
        assert (r1.id, r1.secret) == (r2.id, r2.secret)
        assert len(list(ll.api_keys.list())) == 4  # 2 first keys, a, and one roll of it


def test_async_client(sandbox: SandboxHandle) -> None:
    import asyncio

    async def go() -> None:
        async with AsyncLumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as ll:
            made = await ll.api_keys.create(type="publishable", name="widget")
            shown = await ll.api_keys.retrieve(made.id, reveal=True)
            assert shown.secret == made.secret
            ids = [k.id async for k in ll.api_keys.list(limit=1)]
            assert made.id == ids[0] and len(ids) == 3
            rolled = await ll.api_keys.roll(made.id)
            assert rolled.name == "widget"
            assert (await ll.api_keys.revoke(rolled.id)).status == "revoked"

    asyncio.run(go())
