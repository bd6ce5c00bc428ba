"""Showing integer stroop amounts to people (never through a float)."""

from __future__ import annotations

STROOPS_PER_USDC = 10_000_000


def format_usdc(stroops: int) -> str:
    """``125000000`` → ``"12.50 USDC"``; keeps every significant stroop (``"0.0147945 USDC"``)."""
    sign = "-" if stroops < 0 else ""
    whole, frac = divmod(abs(stroops), STROOPS_PER_USDC)
    # At least cents, more digits only when they carry value (late fees often do).
    digits = f"{frac:07d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole:,}.{digits} USDC"
