"""The checkout helpers: redirect, return confirmation, and a self-custody merchant's
answer to ``checkout.session.authorization_required`` (the embed markup is in ``_embed``)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Literal, overload

from .._client import AsyncLumenLater, LumenLater
from ..errors import LumenLaterError
from ..resources.checkout import awaits_authorization
from ..types import Account, BaseEvent, CheckoutSession

__all__ = [
    "CheckoutNotPaidError",
    "SessionNotAwaitingAuthorizationError",
    "authorize_pending",
    "confirm_return",
    "redirect_url",
]


class CheckoutNotPaidError(LumenLaterError):
    """The shopper came back but the session is not paid (still open, or expired).

    ``session`` is the retrieved session; ``status`` / ``payment_status`` say why.
    """

    def __init__(self, session: CheckoutSession) -> None:
        super().__init__(
            f"checkout session {session.id} is not paid "
            f"(status={session.status}, payment_status={session.payment_status})"
        )
        self.session = session
        self.status = session.status
        self.payment_status = session.payment_status


def redirect_url(session: CheckoutSession) -> str:
    """The hosted payment page to redirect the shopper to (``session.url``).

    Raises ``ValueError`` if the session can no longer be paid.
    """
    if session.status != "open":
        raise ValueError(f"checkout session {session.id} is {session.status}, not open")
    return session.url


def _check_session_id(session_id: str) -> str:
    # The id comes back from the browser (success_url query string): refuse anything else early.
    if not isinstance(session_id, str) or not session_id.startswith("cs_"):
        raise ValueError(f"not a checkout session id: {session_id!r}")
    return session_id


def _paid(session: CheckoutSession) -> CheckoutSession:
    if session.payment_status != "paid":
        raise CheckoutNotPaidError(session)
    return session


async def _confirm_async(client: AsyncLumenLater, session_id: str) -> CheckoutSession:
    return _paid(await client.checkout.sessions.retrieve(session_id))


@overload
def confirm_return(client: LumenLater, session_id: str) -> CheckoutSession: ...
@overload
def confirm_return(client: AsyncLumenLater, session_id: str) -> Awaitable[CheckoutSession]: ...
def confirm_return(
    client: LumenLater | AsyncLumenLater, session_id: str
) -> CheckoutSession | Awaitable[CheckoutSession]:
    """Retrieve the session the shopper returned from; return it only if it is paid.

    Never trust the redirect itself: this asks the API. Raises
    :class:`CheckoutNotPaidError` when the session is unpaid (open or expired) and the
    client's usual errors otherwise. With an :class:`~lumenlater_sdk.AsyncLumenLater`
    the result is awaitable.
    """
    _check_session_id(session_id)
    if isinstance(client, AsyncLumenLater):
        return _confirm_async(client, session_id)
    return _paid(client.checkout.sessions.retrieve(session_id))


NotAwaitingReason = Literal["managed_custody", "no_bill", "session_closed"]


class SessionNotAwaitingAuthorizationError(LumenLaterError):
    """:func:`authorize_pending` was given a session with no bill waiting for the merchant's
    signature; nothing was signed or sent.

    ``reason`` says why: ``"managed_custody"`` (the account is managed: the backend signs
    its bills, there is nothing to authorize), ``"no_bill"`` (an open session whose shopper
    has not connected a wallet yet, so it has no bill) or ``"session_closed"`` (the session
    expired before its bill was authorized; that bill was cancelled). ``session`` is the
    session as retrieved.
    """

    def __init__(self, message: str, *, reason: NotAwaitingReason, session: CheckoutSession):
        super().__init__(message)
        self.message = message
        self.reason: NotAwaitingReason = reason
        self.session = session


SessionRef = CheckoutSession | BaseEvent | str
"""What :func:`authorize_pending` takes: a session, an event about one, or a session id."""


def _session_id(ref: SessionRef) -> str:
    if isinstance(ref, CheckoutSession):
        return ref.id
    if isinstance(ref, BaseEvent):
        obj = getattr(getattr(ref, "data", None), "object", None)
        if isinstance(obj, CheckoutSession):
            return obj.id
        raise TypeError(f"event {ref.id} ({ref.type}) is not about a checkout session")
    if isinstance(ref, str):
        return _check_session_id(ref)
    raise TypeError(
        "authorize_pending takes a CheckoutSession, a checkout.session.* event or a session "
        f"id, not a {type(ref).__name__}"
    )


def _not_awaiting(session: CheckoutSession, account: Account) -> CheckoutSession:
    """The session if its bill was authorized already (a redelivered event: nothing to do),
    else the error that says why there is nothing to authorize."""
    if account.custody != "self":
        raise SessionNotAwaitingAuthorizationError(
            f"checkout session {session.id} belongs to a managed account ({account.id}): the "
            "backend signs its bills, there is nothing to authorize",
            reason="managed_custody",
            session=session,
        )
    if session.status == "expired" or (session.bill is None and session.status != "open"):
        raise SessionNotAwaitingAuthorizationError(
            f"checkout session {session.id} is {session.status}: its bill can no longer be "
            "authorized",
            reason="session_closed",
            session=session,
        )
    if session.bill is None:
        raise SessionNotAwaitingAuthorizationError(
            f"checkout session {session.id} has no bill yet: no shopper has connected a "
            "wallet (wait for checkout.session.authorization_required), or create the "
            "session with customer=...",
            reason="no_bill",
            session=session,
        )
    return session


async def _authorize_async(client: AsyncLumenLater, ref: SessionRef) -> CheckoutSession:
    sessions = client.checkout.sessions
    session = await sessions.retrieve(_session_id(ref))
    if awaits_authorization(session):
        return await sessions._authorize(session)
    return _not_awaiting(session, await client.account.retrieve())


@overload
def authorize_pending(client: LumenLater, event_or_session: SessionRef) -> CheckoutSession: ...
@overload
def authorize_pending(
    client: AsyncLumenLater, event_or_session: SessionRef
) -> Awaitable[CheckoutSession]: ...
def authorize_pending(
    client: LumenLater | AsyncLumenLater, event_or_session: SessionRef
) -> CheckoutSession | Awaitable[CheckoutSession]:
    """Authorize the bill a self-custody merchant's checkout session waits on; return the
    session, now ready to pay (the hosted page continues by itself).

    Call it from the ``checkout.session.authorization_required`` webhook handler::

        @hooks.on("checkout.session.authorization_required")
        def confirm(event: CheckoutSessionAuthorizationRequiredEvent) -> None:
            authorize_pending(client, event)   # client made with stellar_signer=...

    *event_or_session* is that event, a :class:`~lumenlater_sdk.types.CheckoutSession` or a
    session id. The session is retrieved fresh (the event is only a pointer), its bill
    is checked and signed exactly as ``client.bills.authorize`` does it
    (``AuthorizationMismatchError`` / ``SignerMismatchError`` / ``AuthorizationRequiredError``
    without a ``stellar_signer``), and sent. A session whose bill was authorized already (a
    redelivered event) is returned as it is, nothing sent. A session with nothing to
    authorize raises :class:`SessionNotAwaitingAuthorizationError` (``reason``:
    ``managed_custody``, ``no_bill``, ``session_closed``). With an
    :class:`~lumenlater_sdk.AsyncLumenLater` the result is awaitable.
    """
    if isinstance(client, AsyncLumenLater):
        return _authorize_async(client, event_or_session)
    sessions = client.checkout.sessions
    session = sessions.retrieve(_session_id(event_or_session))
    if awaits_authorization(session):
        return sessions._authorize(session)
    return _not_awaiting(session, client.account.retrieve())
