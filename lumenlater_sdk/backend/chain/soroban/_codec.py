"""Calls, results and events of the three contracts, to ScVals and back.

Python values are the local engine's shapes: what ``LocalGateway.invoke`` takes as
arguments, what ``TxRecord.result`` and ``read`` return, what
``ContractEvent.topics`` / ``data`` hold. ScVals are what the deployed contracts
take, return and emit (SOROBAN.md). The ``soroban`` gateway encodes arguments
and decodes results and events; the sandbox's RPC endpoint does the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from stellar_sdk import xdr

from ._schema import EVENTS, FUNCTIONS, Event, Function
from ._scval import read_symbol, show, symbol
from ._types import describe
from ._values import decode_value, encode_value

__all__ = [
    "decode_args",
    "decode_event",
    "decode_result",
    "encode_args",
    "encode_event",
    "encode_result",
    "function_schema",
]


def function_schema(contract: str, function: str) -> Function:
    """The deployed signature of *contract*.*function*; ``ValueError`` if there is none."""
    return _lookup(FUNCTIONS, contract, function, "function")


def encode_args(contract: str, function: str, args: Sequence[Any]) -> list[xdr.SCVal]:
    """The arguments of a call to *contract*.*function* as ScVals, in order.

    ``TypeError`` for a value of the wrong Python type (a float, ``True`` for an
    integer, an int for an address…), ``ValueError`` for an unknown contract or
    function, a wrong argument count, or a value that does not fit its type.
    """
    fn = function_schema(contract, function)
    values = _arguments(contract, fn, args, "arguments")
    return [
        encode_value(p.type, v, _arg_where(contract, fn, i))
        for i, (p, v) in enumerate(zip(fn.params, values, strict=True))
    ]


def decode_args(contract: str, function: str, scvals: Sequence[Any]) -> list[Any]:
    """The Python arguments of a call whose ScVal arguments are *scvals*."""
    fn = function_schema(contract, function)
    values = _arguments(contract, fn, scvals, "ScVal arguments")
    return [
        decode_value(p.type, v, _arg_where(contract, fn, i))
        for i, (p, v) in enumerate(zip(fn.params, values, strict=True))
    ]


def encode_result(
    contract: str, function: str, value: Any, *, args: Sequence[Any] | None = None
) -> xdr.SCVal:
    """What *contract*.*function* returns, as the deployed contract returns it.

    *args*, the call's Python arguments, are only checked against the signature.
    """
    fn = function_schema(contract, function)
    if args is not None:
        _arguments(contract, fn, args, "arguments")
    return encode_value(fn.returns, value, f"{contract}.{function} result")


def decode_result(
    contract: str, function: str, scval: Any, *, args: Sequence[Any] | None = None
) -> Any:
    """The Python value for the ScVal *contract*.*function* returned.

    *args*, the call's Python arguments, are only checked against the signature.
    """
    fn = function_schema(contract, function)
    if args is not None:
        _arguments(contract, fn, args, "arguments")
    return decode_value(fn.returns, scval, f"{contract}.{function} result")


def encode_event(
    contract: str, topics: Sequence[Any], data: Any
) -> tuple[list[xdr.SCVal], xdr.SCVal]:
    """A contract event (the engine's ``ContractEvent.topics`` and ``.data``) as ScVals.

    The first topic is the event's name; it becomes a Symbol.
    """
    if isinstance(topics, (str, bytes)) or not isinstance(topics, Sequence) or not topics:
        raise TypeError(
            f"{contract} event: topics must be a non-empty tuple or list, got {show(topics)}"
        )
    name = topics[0]
    if not isinstance(name, str):
        raise TypeError(f"{contract} event: the first topic must be its name, got {show(name)}")
    ev = _event_schema(contract, name)
    rest = _topic_values(contract, ev, topics[1:], "topics")
    encoded = [symbol(name)] + [
        encode_value(p.type, v, _topic_where(contract, ev, i))
        for i, (p, v) in enumerate(zip(ev.topics, rest, strict=True))
    ]
    return encoded, encode_value(ev.data, data, f"{contract} event {name} data")


def decode_event(
    contract: str, topic_scvals: Sequence[Any], data_scval: Any
) -> tuple[tuple[Any, ...], Any]:
    """``(topics, data)`` of a contract event, as the engine's ``ContractEvent`` holds them."""
    if not isinstance(topic_scvals, Sequence) or not topic_scvals:
        raise ValueError(f"{contract} event: expected a non-empty list of topic ScVals")
    name = read_symbol(topic_scvals[0], f"{contract} event topic 0 (name)")
    ev = _event_schema(contract, name)
    rest = _topic_values(contract, ev, topic_scvals[1:], "topic ScVals")
    decoded = [
        decode_value(p.type, v, _topic_where(contract, ev, i))
        for i, (p, v) in enumerate(zip(ev.topics, rest, strict=True))
    ]
    topics = (name, *decoded)
    return topics, decode_value(ev.data, data_scval, f"{contract} event {name} data")


# --- helpers ---------------------------------------------------------------------------
def _arguments(contract: str, fn: Function, args: Any, what: str) -> Sequence[Any]:
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(f"{contract}.{fn.name}: {what} must be a list, got {show(args)}")
    if len(args) != len(fn.params):
        expected = ", ".join(f"{p.name}: {describe(p.type)}" for p in fn.params)
        raise ValueError(
            f"{contract}.{fn.name} takes {len(fn.params)} arguments ({expected}), got {len(args)}"
        )
    return args


def _arg_where(contract: str, fn: Function, i: int) -> str:
    return f"{contract}.{fn.name} argument {i + 1} ({fn.params[i].name})"


def _event_schema(contract: str, name: str) -> Event:
    return _lookup(EVENTS, contract, name, "event")


T = TypeVar("T")


def _lookup(table: Mapping[str, Mapping[str, T]], contract: str, name: str, what: str) -> T:
    # One refusal text for functions and events.
    per_contract = table.get(contract)
    if per_contract is None:
        raise ValueError(f"unknown contract {contract!r} (expected one of {', '.join(table)})")
    found = per_contract.get(name)
    if found is None:
        raise ValueError(f"{contract} has no {what} {name!r}")
    return found


def _topic_values(contract: str, ev: Event, rest: Sequence[Any], what: str) -> Sequence[Any]:
    if len(rest) != len(ev.topics):
        expected = ", ".join(f"{p.name}: {describe(p.type)}" for p in ev.topics)
        raise ValueError(
            f"{contract} event {ev.name} has {len(ev.topics) + 1} {what} (name, {expected}),"
            f" got {len(rest) + 1}"
        )
    return rest


def _topic_where(contract: str, ev: Event, i: int) -> str:
    return f"{contract} event {ev.name} topic {i + 1} ({ev.topics[i].name})"
