"""What the codec tests share: sample addresses, a bare Symbol, and exact refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from stellar_sdk import xdr

ZERO = "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
"""The all-zero account key (SOROBAN.md's worked examples)."""
CORE_ID = "CB35QWU7M7IJCAP3L7HPACQRV23LI3SGF35DXTLOGWNFLZBNR4XPYH65"
"""bnpl_core's testnet contract id (SOROBAN.md §1)."""
X = xdr.SCValType


def refusal(kind: type[Exception], call: Callable[..., Any], *args: Any) -> str:
    """The message of the exception ``call(*args)`` raises, which must be exactly *kind*."""
    # Any exception, so that the assertion below shows the one raised if it is another.
    with pytest.raises(Exception) as e:
        call(*args)
    assert type(e.value) is kind, f"{type(e.value).__name__}: {e.value}"
    return str(e.value)


def sym(name: str) -> xdr.SCVal:
    """A bare ``Symbol`` ScVal."""
    return xdr.SCVal(X.SCV_SYMBOL, sym=xdr.SCSymbol(name.encode()))
