"""The ``lumenlater`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``, which
adds an ``argparse`` parser whose ``func`` default runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main", "sandbox_main"]

# Modules that provide subcommands; a module missing its optional dependencies
# (e.g. the backend extras) leaves its commands out with a hint instead of failing.
_COMMAND_MODULES = (
    "_sandbox",
    "_worker",
    "_demo",
    "_listen",
    "_trigger",
    "_clock",
    "_resources",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every subcommand whose module imports)."""
    parser = argparse.ArgumentParser(prog="lumenlater", description="LumenLater SDK tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{__name__}."):
                continue  # subcommand not written yet
            continue  # optional dependency missing: command unavailable
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lumenlater`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


def sandbox_main(argv: Sequence[str] | None = None) -> int:
    """``python -m lumenlater_sdk.backend``: the ``sandbox`` command on its own (needs the
    backend extras)."""
    from ._sandbox import main as run_sandbox

    return run_sandbox(argv)


if __name__ == "__main__":
    sys.exit(main())
