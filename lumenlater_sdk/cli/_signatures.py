"""Resource commands described by the SDK methods they call.

Each command's parameters, their types and whether they are required are read from
the method's signature and type hints (``inspect``, ``typing.get_type_hints``), and
what each means from the API's OpenAPI document (:mod:`._api_docs`), so ``--help``
and the checks of what a user typed never drift from the SDK or the API. Values
arrive as text (:func:`._params.parse_data`) and are converted by type here; a
parameter the method does not take is refused in the API's words, not Python's.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import os
import re
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any

from ..resources.account import Accounts
from ..resources.bills import Bills
from ..resources.chain import Chains
from ..resources.checkout import CheckoutSessions
from ..resources.events import Events
from ..resources.test_helpers import TestBills, TestMerchants, TestWallets
from ..resources.webhook_endpoints import WebhookEndpoints
from ..types import LineItem
from ._api_docs import description
from ._params import AMOUNT_HELP, DURATION_HELP, ParamError, parse_amount, parse_duration

__all__ = ["COMMANDS", "Command", "Param", "command_spec", "missing_api_key", "print_api_error"]

COMMANDS: dict[str, tuple[str, type, tuple[str, ...]]] = {
    "account": ("account", Accounts, ("get",)),
    "bills": ("bills", Bills, ("list", "get", "create", "cancel")),
    "chain": ("chain", Chains, ("get",)),
    "checkout_sessions": (
        "checkout.sessions",
        CheckoutSessions,
        ("list", "get", "create", "expire"),
    ),
    "events": ("events", Events, ("list", "get", "resend")),
    "webhook_endpoints": (
        "webhook_endpoints",
        WebhookEndpoints,
        ("list", "get", "create", "update", "delete", "rotate_secret", "deliveries"),
    ),
    "wallets": ("test_helpers.wallets", TestWallets, ("list", "get", "create")),
    "test_bills": ("test_helpers.bills", TestBills, ("pay", "repay", "liquidate")),
    "merchants": (
        "test_helpers.merchants",
        TestMerchants,
        ("create", "approve", "suspend", "reject"),
    ),
}
"""CLI resource name → (client attribute path, SDK class, actions)."""

# Integer parameters that are money (7-decimal token amounts) or lengths of time.
AMOUNTS = frozenset({"amount", "unit_amount", "collateral"})
DURATIONS = frozenset({"expires_in", "expire_old_after", "seconds"})
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class Param:
    """One keyword parameter of an SDK method."""

    name: str
    kind: str
    """``string``, ``integer``, ``amount``, ``duration``, ``boolean``, ``map``,
    ``list of strings`` or ``list of line items``."""
    required: bool
    description: str = ""
    """What it means, from the API's OpenAPI document."""

    @property
    def metavar(self) -> str:
        """The placeholder ``--help`` shows."""
        return {"amount": "AMOUNT", "duration": "DURATION", "boolean": "true|false"}.get(
            self.kind, self.kind.split()[-1].upper().rstrip("S") if "list" in self.kind else
            self.kind.upper()
        )  # fmt: skip

    @property
    def help(self) -> str:
        """``TYPE, required|optional: what it means. On the command line: how to write it``."""
        need = "required" if self.required else "optional"
        how = {
            "amount": AMOUNT_HELP,
            "duration": DURATION_HELP,
            "map": f"-d '{self.name}[KEY]=VALUE', repeatable (or a JSON object)",
            "list of strings": f"-d '{self.name}[]=VALUE' repeated, or comma-separated",
            "list of line items": f"-d '{self.name}[0][name]=Mug' -d "
            f"'{self.name}[0][quantity]=2' -d '{self.name}[0][unit_amount]=12.50'",
        }.get(self.kind)
        # A parameter the API document does not list is one the API refuses.
        meaning = self.description or "(refused by the API: not in its OpenAPI document)"
        text = f"{self.kind}, {need}: {meaning}"
        return text + (f" On the command line: {how}." if how else "")

    def convert(self, value: Any) -> Any:
        """The text the user gave → the value the SDK method takes."""
        name = self.name
        if self.kind == "map":
            value = _maybe_json(value, dict, name)
            if not isinstance(value, dict):
                raise ParamError(f"{name} is a map: give -d '{name}[KEY]=VALUE'")
            return {k: _text(v, f"{name}[{k}]") for k, v in value.items()}
        if self.kind == "list of strings":
            value = _maybe_json(value, list, name)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                raise ParamError(f"{name} is a list: give -d '{name}[]=VALUE' for each")
            return [_text(v, f"{name}[{i}]") for i, v in enumerate(value)]
        if self.kind == "list of line items":
            value = _maybe_json(value, list, name)
            if not isinstance(value, list):
                raise ParamError(f"{name} is a list: give -d '{name}[0][name]=…'")
            return [_line_item(item, f"{name}[{i}]") for i, item in enumerate(value)]
        return _scalar(self.kind, value, name)


def _scalar(kind: str, value: Any, name: str) -> Any:
    text = _text(value, name)
    if kind == "amount":
        return parse_amount(text, name)
    if kind == "duration":
        return parse_duration(text)
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ParamError(f"{name} must be a whole number, not {text!r}") from None
    if kind == "boolean":
        if text.strip().lower() not in _TRUE:
            raise ParamError(f"{name} must be true or false, not {text!r}")
        return _TRUE[text.strip().lower()]
    return text


def _text(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # from a JSON value: converted again by type, exactly
    raise ParamError(f"{name} takes one value, not {_shape(value)}")


def _shape(value: Any) -> str:
    return "a list" if isinstance(value, list) else "a map" if isinstance(value, dict) else "that"


def _maybe_json(value: Any, kind: type, name: str) -> Any:
    """A JSON object or list written whole (``-d 'metadata={"k": "v"}'``)."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ParamError(f"{name}: not valid JSON ({exc.msg})") from None
        if not isinstance(parsed, kind):
            raise ParamError(f"{name}: expected a JSON {kind.__name__}, got {_shape(parsed)}")
        return parsed
    return value


_ITEM_FIELDS = tuple(LineItem.model_fields)


def _line_item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ParamError(f"{where} is a line item: give {where}[name], [quantity], [unit_amount]")
    unknown = sorted(set(item) - set(_ITEM_FIELDS))
    if unknown:
        raise ParamError(
            f"unknown field '{unknown[0]}' in {where}; known: {', '.join(_ITEM_FIELDS)}"
        )
    missing = [f for f in _ITEM_FIELDS if f not in item]
    if missing:
        raise ParamError(f"{where}[{missing[0]}] is required")
    kinds = {"name": "string", "quantity": "integer", "unit_amount": "amount"}
    return {f: _scalar(kinds[f], item[f], f"{where}[{f}]") for f in _ITEM_FIELDS}


def _kind(name: str, hint: Any) -> str:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind(name, args[0])
    if hint is bool:
        return "boolean"
    if hint is int:
        return "amount" if name in AMOUNTS else "duration" if name in DURATIONS else "integer"
    if hint is str:
        return "string"
    if origin is dict or origin is collections.abc.Mapping:
        return "map"
    if origin in (list, collections.abc.Sequence):
        return "list of line items" if name == "line_items" else "list of strings"
    raise TypeError(f"no command-line form for {name}: {hint!r}")  # pragma: no cover


@dataclass(frozen=True)
class Command:
    """One ``lumenlater RESOURCE ACTION``: the SDK method it calls and its parameters."""

    resource: str
    action: str
    method_name: str
    positional: str | None
    """The method's positional parameter (an id), if it has one."""
    params: tuple[Param, ...]
    summary: str
    is_list: bool

    @property
    def title(self) -> str:
        """``bills create``."""
        return f"{self.resource} {self.action}"

    @property
    def sdk_call(self) -> str:
        """``client.bills.create(...)``: what the command runs."""
        return f"Runs client.{COMMANDS[self.resource][0]}.{self.method_name}()."

    def bind(self, client: Any) -> Any:
        """This command's method on *client*."""
        target = client
        for part in COMMANDS[self.resource][0].split("."):
            target = getattr(target, part)
        return getattr(target, self.method_name)

    def convert(self, given: dict[str, Any]) -> dict[str, Any]:
        """Parameters as typed → keyword arguments of the method, or a :class:`ParamError`
        in the terms of the command (unknown, missing, malformed)."""
        known = {p.name: p for p in self.params}
        for name in given:
            if name not in known:
                listed = ", ".join(known) or "none"
                raise ParamError(f"unknown parameter '{name}' for {self.title}; known: {listed}")
        for p in self.params:
            if p.required and p.name not in given:
                raise ParamError(
                    f"missing required parameter '{p.name}' for {self.title} "
                    f"(--{p.name.replace('_', '-')} or -d {p.name}=…)"
                )
        return {name: known[name].convert(value) for name, value in given.items()}


def command_spec(resource: str, action: str) -> Command:
    """The :class:`Command` of ``lumenlater RESOURCE ACTION``, read from the SDK."""
    cls = COMMANDS[resource][1]
    method_name = "retrieve" if action == "get" else action
    method = getattr(cls, method_name)
    hints = typing.get_type_hints(method, vars(sys.modules[method.__module__]))
    positional: str | None = None
    params: list[Param] = []
    for p in list(inspect.signature(method).parameters.values())[1:]:
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            positional = p.name
        elif p.kind is inspect.Parameter.KEYWORD_ONLY:
            kind = _kind(p.name, hints[p.name])
            meaning = description(resource, action, p.name)
            params.append(Param(p.name, kind, p.default is p.empty, meaning))
    returns = typing.get_origin(hints.get("return")) or hints.get("return")
    doc = inspect.getdoc(method) or ""
    return Command(
        resource=resource,
        action=action,
        method_name=method_name,
        positional=positional,
        params=tuple(params),
        summary=_summary(doc, [p.name for p in params if p.kind == "amount"]),
        is_list=getattr(returns, "__name__", "") == "SyncPage",
    )


def _summary(doc: str, amounts: list[str]) -> str:
    """The docstring's first paragraph, without its reST markup; an amount the SDK
    takes in stroops is USDC or stroops on the command line."""
    text = re.sub(r"``|\*|:\w+:`|`", "", doc.split("\n\n")[0].replace("\n", " "))
    for name in amounts:
        text = re.sub(rf"\b{name} stroops\b", f"{name} (USDC or stroops)", text)
    return text


def print_api_error(exc: Exception, title: str) -> None:
    """An SDK error on stderr: the API's type, code, param, message and request id."""
    from ..errors import APIError

    if not isinstance(exc, APIError):
        print(f"error: {title}: {exc}", file=sys.stderr)
        return
    lines = [f"error: {exc.message}"]
    for label, value in (
        ("status", exc.status_code),
        ("type", exc.type),
        ("code", exc.code),
        ("param", exc.param),
        ("request id", exc.request_id),
    ):
        if value:
            lines.append(f"  {label + ':':<12}{value}")
    print("\n".join(lines), file=sys.stderr)


def missing_api_key(api_key: str | None) -> bool:
    """Say how to give a key, in the command line's terms, when there is none."""
    if api_key or os.environ.get("LUMENLATER_API_KEY"):
        return False
    print(
        "error: no API key: pass --api-key sk_test_… or set LUMENLATER_API_KEY "
        "(`lumenlater keys` prints the sandbox's test keys)",
        file=sys.stderr,
    )
    return True
