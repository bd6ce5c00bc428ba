"""A host that authorises as Soroban does for a submitted transaction (SOROBAN.md §8).

The engine's own :class:`~._host.Host` lets one signer through. A transaction sent
to the Soroban RPC endpoint carries authorization entries instead, one tree of
invocations per address; this host records, per address, the tree of invocations
in which that address's ``require_auth`` ran (a contract calling another
authorises its own address, as on chain, and is not recorded), so the endpoint can
hand the trees out in a recording simulation and compare them with the entries of a
submitted transaction. It also records which storage keys the call read and wrote
(the footprint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._constants import ProtocolConstants
from ._errors import unauthorized
from ._host import Contract, Host
from ._storage import Storage

__all__ = ["AuthHost", "AuthNode"]


@dataclass
class AuthNode:
    """One authorised invocation: the function with its engine arguments, and below it
    the invocations it led to that the same address authorised."""

    contract: str
    function: str
    args: tuple[Any, ...]
    children: list[AuthNode] = field(default_factory=list)


@dataclass
class _Frame:
    contract: str
    function: str
    args: tuple[Any, ...]
    nodes: dict[str, AuthNode] = field(default_factory=dict)


class AuthHost(Host):
    """A :class:`Host` whose ``require_auth`` passes for the addresses in *authorized*
    (every address when it is ``None``: a recording simulation), recording trees."""

    def __init__(
        self,
        storage: Storage,
        contracts: Mapping[str, Contract],
        ids: Mapping[str, str],
        constants: ProtocolConstants,
        timestamp: int,
        *,
        authorized: frozenset[str] | None,
    ) -> None:
        super().__init__(storage, contracts, ids, constants, timestamp, None)
        self.authorized = authorized
        self.trees: dict[str, list[AuthNode]] = {}
        """Per address, the roots of its authorised invocations, in call order."""
        self.reads: set[tuple[str, str]] = set()
        self.writes: set[tuple[str, str]] = set()
        self.called: list[str] = []
        """Contracts invoked, in order of first call."""
        self._frames: list[_Frame] = []
        self._callers: list[str] = []

    def call(self, contract: str, function: str, *args: Any) -> Any:
        self._frames.append(_Frame(contract, function, tuple(args)))
        self._callers.append(contract)
        if contract not in self.called:
            self.called.append(contract)
        try:
            return super().call(contract, function, *args)
        finally:
            self._frames.pop()
            self._callers.pop()

    def require_auth(self, address: str) -> None:
        if len(self._callers) >= 2 and address == self.address_of(self._callers[-2]):
            return  # the direct caller contract authorises its own address
        if self.authorized is not None and address not in self.authorized:
            raise unauthorized(self.contract, address)
        frame = self._frames[-1]
        if address in frame.nodes:
            return
        node = AuthNode(frame.contract, frame.function, frame.args)
        frame.nodes[address] = node
        for outer in reversed(self._frames[:-1]):
            parent = outer.nodes.get(address)
            if parent is not None:
                parent.children.append(node)
                return
        self.trees.setdefault(address, []).append(node)

    def get(self, key: str, default: Any = None) -> Any:
        self.reads.add((self.contract, key))
        return super().get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.writes.add((self.contract, key))
        super().set(key, value)
