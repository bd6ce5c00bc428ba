"""The ``lumenlater`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``, which
adds an ``argparse`` parser whose ``func`` default runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from .._extras import install_hint, missing_extra

__all__ = ["build_parser", "main", "sandbox_main"]

# Modules that provide subcommands. Each imports only the client at module level, so
# every command is listed on a plain install; one that needs an extra says which when
# it runs (see ``main``).
_COMMAND_MODULES = (
    "_sandbox",
    "_worker",
    "_demo",
    "_listen",
    "_trigger",
    "_clock",
    "_resources",
    "_logs",
    "_dashboard",
    "_keys",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every subcommand whose module imports)."""
    parser = argparse.ArgumentParser(prog="lumenlater", description="LumenLater SDK tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lumenlater`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return _with_extra_hint(f"lumenlater {args.command}", lambda: func(args))


def _with_extra_hint(command: str, run: Callable[[], int | None]) -> int:
    # A command whose extra is missing fails on its first optional import: answer with
    # the one line that fixes it, not a traceback.
    try:
        return int(run() or 0)
    except ModuleNotFoundError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        print(
            f"{command}: needs the '{extra}' extra ({exc.name} is not installed):"
            f" {install_hint(extra)}",
            file=sys.stderr,
        )
        return 1


def sandbox_main(argv: Sequence[str] | None = None) -> int:
    """``python -m lumenlater_sdk.backend``: the ``sandbox`` command on its own (needs the
    backend extras)."""
    from ._sandbox import main as run_sandbox

    return _with_extra_hint("python -m lumenlater_sdk.backend", lambda: run_sandbox(argv))


if __name__ == "__main__":
    sys.exit(main())
