"""Soroban authorization entries (SOROBAN.md §8) of a transaction run on the local ledger:
recorded in simulation, checked before the call is applied."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stellar_sdk import Address, xdr

from ...db import Tx
from .._gateway import CONTRACTS
from ..soroban import (
    AuthorizationError,
    contract_invocation,
    signature_payload,
    verify_signature,
)
from ._auth_host import AuthHost, AuthNode
from ._rpc_ledger import RpcLedger

__all__ = ["AuthFailure", "Authorization", "check_entries", "check_trees", "recorded_entries"]

EXPIRATION_MARGIN = 100
"""Ledgers a recorded address entry's ``signatureExpirationLedger`` is ahead of the latest."""


class AuthFailure(Exception):
    """An authorization entry the host refuses: the call fails with Error(Auth, ...)."""


def invocation(node: AuthNode, ids: Mapping[str, str]) -> xdr.SorobanAuthorizedInvocation:
    """An engine auth tree as the ``SorobanAuthorizedInvocation`` it stands for."""
    children = [invocation(child, ids) for child in node.children]
    return contract_invocation(
        ids[node.contract], node.contract, node.function, node.args, children
    )


def _ids(ledger: RpcLedger) -> dict[str, str]:
    return {name: ledger.gateway.contract_id(name) for name in CONTRACTS}


def recorded_entries(
    host: AuthHost, source: str, latest: int, ledger: RpcLedger
) -> list[xdr.SorobanAuthorizationEntry]:
    """The entries a recording simulation returns: source-account credentials for the
    transaction's source, address credentials (fresh nonce, unsigned) for anyone else."""
    ids = _ids(ledger)
    entries = []
    for address, roots in host.trees.items():
        for root in roots:
            if address == source:
                credentials = xdr.SorobanCredentials(
                    xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT
                )
            else:
                credentials = xdr.SorobanCredentials(
                    xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS,
                    address=xdr.SorobanAddressCredentials(
                        Address(address).to_xdr_sc_address(),
                        xdr.Int64(secrets.randbits(63)),
                        xdr.Uint32(latest + EXPIRATION_MARGIN),
                        xdr.SCVal(xdr.SCValType.SCV_VOID),
                    ),
                )
            entries.append(xdr.SorobanAuthorizationEntry(credentials, invocation(root, ids)))
    return entries


@dataclass(frozen=True)
class Authorization:
    """What a transaction's entries authorise: per address, its root invocations (XDR)
    in order, and the nonces to consume if the call succeeds."""

    trees: dict[str, list[bytes]]
    nonces: list[tuple[str, int]]

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(self.trees)


def check_entries(
    t: Tx,
    entries: Sequence[xdr.SorobanAuthorizationEntry],
    source: str,
    current_ledger: int,
    ledger: RpcLedger,
) -> Authorization:
    """Check each entry as the host does before running the call (signature over the
    ``ENVELOPE_TYPE_SOROBAN_AUTHORIZATION`` preimage, expiration, unused nonce)."""
    trees: dict[str, list[bytes]] = {}
    nonces: list[tuple[str, int]] = []
    for entry in entries:
        creds = entry.credentials
        kind = creds.type
        if kind == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT:
            address = source
        elif kind == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS:
            assert creds.address is not None
            ac = creds.address
            address = Address.from_xdr_sc_address(ac.address).address
            if not address.startswith("G"):
                raise AuthFailure(f"{address}: only account addresses can sign here")
            if ledger.account(address, tx=t) is None:
                raise AuthFailure(f"{address}: no such account")
            expiration = ac.signature_expiration_ledger.uint32
            if expiration < current_ledger:
                raise AuthFailure(f"{address}: the authorization expired at ledger {expiration}")
            nonce = ac.nonce.int64
            if ledger.nonce_used(t, address, nonce) or (address, nonce) in nonces:
                raise AuthFailure(f"{address}: nonce {nonce} was already used")
            try:
                verify_signature(
                    address,
                    ac.signature,
                    signature_payload(
                        entry, expiration, ledger.gateway.describe().network_passphrase
                    ),
                )
            except AuthorizationError as exc:
                raise AuthFailure(str(exc)) from None
            nonces.append((address, nonce))
        else:
            raise AuthFailure(f"credentials {kind.name} are not supported by protocol 22")
        trees.setdefault(address, []).append(entry.root_invocation.to_xdr_bytes())
    return Authorization(trees, nonces)


def check_trees(host: AuthHost, authorization: Authorization, ledger: RpcLedger) -> None:
    """Every address the call needed authorised exactly the invocation tree it ran."""
    ids = _ids(ledger)
    needed = {
        address: [invocation(root, ids).to_xdr_bytes() for root in roots]
        for address, roots in host.trees.items()
    }
    for address, trees in needed.items():
        if authorization.trees.get(address) != trees:
            raise AuthFailure(f"{address}: the authorized invocation does not match the call")
