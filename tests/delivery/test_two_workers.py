"""Two worker processes on one PostgreSQL never send the same attempt at the same time."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from delivery_receiver import Receiver
from delivery_support import MERCHANT, emit, prepare
from endpoint_support import Endpoints

from lumenlater_sdk.backend.db import connect

HERE = Path(__file__).parent


def test_two_worker_processes_share_the_outbox_without_overlap(pg_url: str) -> None:
    receiver = Receiver()
    receiver.fail_every = 3  # so that retries (new attempt numbers) are claimed too
    receiver.start()
    procs = []
    try:
        with connect(pg_url) as db:
            prepare(db)
            ep = Endpoints(db).create(MERCHANT, url=receiver.url, enabled_events=["*"])
            receiver.set_secret(ep["secret"])
            for _ in range(2):
                p = subprocess.Popen(
                    [sys.executable, str(HERE / "run_worker.py"), pg_url],
                    cwd=HERE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                procs.append(p)
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            events = emit(db, 300)
            receiver.wait_handled(len(events), timeout=90)
    finally:
        for p in procs:
            p.terminate()
            p.wait(15)
        receiver.stop()
    hits = [h for h in receiver.hits if h.ended]
    keys = [(h.event_id, h.attempt) for h in hits]
    assert len(keys) == len(set(keys)), "an attempt number was sent twice"
    by_event = defaultdict(list)
    for h in hits:
        by_event[h.event_id].append((h.started, h.ended))
    for spans in by_event.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, "two deliveries of one event overlapped"
    assert {h.event_id for h in hits} == {e["id"] for e in events}
