"""Integer money: USDC amounts in stroops (7 decimals) and the guard against floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

USDC_DECIMALS = 7
STROOPS_PER_USDC: int = 10_000_000


def usdc(value: str | int | Decimal) -> int:
    """Convert a USDC amount written in whole units to integer stroops.

    ``usdc("99.99") == 999900000``. Strings and :class:`~decimal.Decimal` keep
    every digit exactly; more than 7 decimal places is an error rather than a
    silent rounding. Floats are refused because they cannot carry money exactly.
    """
    if isinstance(value, (bool, float)):
        raise TypeError("usdc() takes a str, int or Decimal; floats cannot represent money exactly")
    if isinstance(value, int):
        return value * STROOPS_PER_USDC
    if not isinstance(value, (str, Decimal)):
        raise TypeError(f"usdc() takes a str, int or Decimal, not {type(value).__name__}")
    try:
        dec = Decimal(value.strip()) if isinstance(value, str) else value
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not dec.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    scaled: Decimal = dec.scaleb(USDC_DECIMALS)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than {USDC_DECIMALS} decimal places")
    return int(scaled)  # exact: checked integral above


def format_usdc(amount: int, *, currency: bool = True) -> str:
    """Stroops as shoppers read them: ``format_usdc(1_875_000_000) == "187.50 USDC"``.

    Thousands are grouped with commas, cents always shown, and further digits only when
    the amount has them (``format_usdc(1) == "0.0000001 USDC"``): never rounded, so two
    different amounts never print alike. ``currency=False`` leaves out `` USDC``. The
    hosted checkout, the embed widget and the example shops all print amounts with it.
    """
    check_amount("amount", amount)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), STROOPS_PER_USDC)
    digits = f"{frac:0{USDC_DECIMALS}d}".rstrip("0").ljust(2, "0")
    text = f"{sign}{whole:,}.{digits}"
    return f"{text} USDC" if currency else text


def to_decimal(amount: int) -> Decimal:
    """Stroops as a :class:`~decimal.Decimal` number of USDC (exact)."""
    return Decimal(amount).scaleb(-USDC_DECIMALS)


def check_amount(name: str, value: object, *, optional: bool = False) -> None:
    """Raise ``TypeError`` unless *value* is an ``int`` amount (never a float or bool)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = type(value).__name__
        raise TypeError(f"{name} must be an int number of stroops (use usdc('12.34')), not {kind}")
