"""``lumenlater logs tail``: stream the account's API request log as it grows.

It polls ``GET /v1/request_logs`` with the newest id it has as ``ending_before``. Each
backend process writes its entries in batches (within a second), so with several
processes an entry can become visible after a newer one from another process: the tail
keeps its cursor :data:`SETTLE_SECONDS` behind what it printed and skips entries it has
already shown, so none is missed and none is printed twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ._interrupt import StopOnSignal
from ._trigger import add_connection_options

if TYPE_CHECKING:
    from .. import LumenLater
    from ..types import RequestLog

__all__ = ["SETTLE_SECONDS", "Tail", "format_line", "register"]

SETTLE_SECONDS = 5.0
"""How long after an entry is seen the tail's cursor may move past it."""


def register(subparsers: Any) -> None:
    """Add the ``logs`` subcommand."""
    parser = subparsers.add_parser(
        "logs",
        help="stream the API request log (logs tail)",
        description="Streams the account's API requests as the backend answers them: "
        "time, status, method, path, request id, latency. Ctrl-C stops.",
    )
    parser.add_argument("action", choices=["tail"], help="tail: follow the log")
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: one aligned line per request (default); json: one JSON object per line",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="first print the N most recent requests (default: 0, only new ones; at most 100)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between polls (default: 1.0)",
    )
    add_connection_options(parser)
    parser.set_defaults(func=_run)


def format_line(entry: RequestLog) -> str:
    """One request as a line: UTC time, status, method, path, request id, latency."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.created))
    line = (
        f"{stamp}  {entry.status}  {entry.method:<6} {entry.path}  "
        f"{entry.request_id}  {entry.latency_ms:.1f} ms"
    )
    if entry.idempotency_key:
        line += f"  idempotency_key={entry.idempotency_key}"
    return line


class Tail:
    """The tail's cursor and what it has shown (see the module docstring)."""

    def __init__(
        self,
        client: LumenLater,
        emit: Callable[[RequestLog], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.emit = emit
        self.clock = clock
        self.cursor: str | None = None  # every entry up to it was shown (or predates the tail)
        self.recent: dict[str, float] = {}  # shown after the cursor: id -> when seen

    def start(self, history: int) -> None:
        """Set the cursor at the newest entry, printing the *history* newest first."""
        page = self.client.request_logs.list(limit=max(1, min(history, 100)))
        entries = list(page.data)
        if entries:
            self.cursor = entries[0].id
        for entry in reversed(entries[:history]):
            self.emit(entry)

    def poll(self) -> int:
        """Print the entries that appeared since the last poll; return how many."""
        shown = 0
        # With no cursor yet (an empty log at start), from the oldest: every id is after
        # its bare prefix.
        after = self.cursor or "reqlog_"
        while True:
            page = self.client.request_logs.list(limit=100, ending_before=after)
            entries = list(reversed(page.data))  # oldest first
            now = self.clock()
            for entry in entries:
                if entry.id not in self.recent:
                    self.recent[entry.id] = now
                    self.emit(entry)
                    shown += 1
            if not page.has_more or not entries:
                break
            after = entries[-1].id
        self._settle(self.clock())
        return shown

    def _settle(self, now: float) -> None:
        settled = [i for i, seen in self.recent.items() if now - seen >= SETTLE_SECONDS]
        if settled:
            newest = max(settled)
            self.cursor = newest if self.cursor is None else max(self.cursor, newest)
            self.recent = {i: t for i, t in self.recent.items() if i > self.cursor}


def _run(args: argparse.Namespace) -> int:
    from .. import LumenLater
    from ..errors import LumenLaterError

    out: TextIO = sys.stdout

    def emit(entry: RequestLog) -> None:
        if args.format == "json":
            out.write(json.dumps(entry.model_dump(mode="json"), separators=(",", ":")) + "\n")
        else:
            out.write(format_line(entry) + "\n")
        out.flush()

    if args.interval <= 0 or args.history < 0:
        print("lumenlater logs tail: --interval must be > 0, --history >= 0", file=sys.stderr)
        return 2
    try:
        with (
            StopOnSignal() as stop,
            LumenLater(api_key=args.api_key, base_url=args.base_url) as client,
        ):
            tail = Tail(client, emit)
            tail.start(args.history)
            print(
                f"Tailing the request log of {client.base_url} (Ctrl-C to stop)",
                file=sys.stderr,
                flush=True,
            )
            # Ctrl-C lets the poll in flight finish (and print what it found), then stops.
            while stop.pause(args.interval):
                tail.poll()
        return 0
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the handler was in place
        return 0
    except LumenLaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
