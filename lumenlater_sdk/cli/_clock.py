"""``lumenlater clock [advance SECONDS]``: read or move the sandbox ledger clock."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``clock`` subcommand."""
    parser = subparsers.add_parser("clock", help="show or advance the sandbox ledger clock")
    parser.add_argument("action", nargs="?", choices=["show", "advance"], default="show")
    parser.add_argument("seconds", nargs="?", type=int, default=None)
    parser.add_argument("--api-key", default=os.environ.get("LUMENLATER_API_KEY"))
    parser.add_argument(
        "--base-url", default=os.environ.get("LUMENLATER_BASE_URL", "http://127.0.0.1:8787")
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import httpx

    if not args.api_key:
        print("set LUMENLATER_API_KEY or pass --api-key (a sk_test_ key)")
        return 2
    headers = {"Authorization": f"Bearer {args.api_key}"}
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=60) as client:
        if args.action == "advance":
            if not args.seconds or args.seconds <= 0:
                print("usage: lumenlater clock advance SECONDS")
                return 2
            r = client.post("/v1/test_helpers/clock/advance", json={"seconds": args.seconds})
        else:
            r = client.get("/v1/test_helpers/clock")
    if r.status_code != 200:
        print(json.dumps(r.json().get("error", {}), indent=2))
        return 1
    print(r.json()["now"])
    return 0
