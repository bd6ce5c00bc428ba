"""bench/history.py's measurement: the timed requests to the backend served on a filled
database (bench/_served.py), the figures, the goal lines and the plot."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

READS = [
    "GET bill (old)",
    "GET bill (new)",
    "list first page",
    "list deep page",
    *(
        f"status={s}"
        for s in ("created", "paid", "repaid", "liquidated", "cancelled", "overdue", "expired")
    ),
    "customer=",
    "order_id=",
    "created narrow",
    "created wide",
    "events first page",
    "events created wide",
    "sessions created wide",
]
WRITES = ["POST bill", "pay/repay cycle"]
ANALYTICS = ["metrics 30d", "metrics 365d"]
GOALS = {
    "reads": "p99 <= 10 ms at the largest size, p50 ratio <= 1.5",
    "writes": "p50 ratio <= 1.2",
    "analytics": "p99 <= 200 ms at the largest size",
}
DEEP = 10_000
DAY = 86_400


def _ok(r: httpx.Response) -> httpx.Response:
    if r.status_code != 200:
        raise SystemExit(f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}")
    return r


def timed(n: int, call: Callable[[], object], warm: int = 5) -> list[float]:
    """*n* timings (ms) of *call*, after *warm* untimed."""
    for _ in range(warm):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def middle_created(tx: Any, merchant: str, n: int) -> int:
    """When the middle of the merchant's *n* bills was made: the start of the narrow
    range, which so holds bills at every size (the middle of the time span may fall in a
    quiet stretch, and an empty page is cheaper than a full one)."""
    return int(
        tx.scalar(
            "SELECT created FROM bills WHERE merchant_id = ? ORDER BY created, id LIMIT 1 OFFSET ?",
            (merchant, n // 2),
        )
    )


def _sample(filler: Any, merchant: str) -> dict[str, Any]:
    """Ids and bounds of the merchant's history to ask for (read once, untimed)."""
    with filler.backend.db.transaction(write=False) as tx:
        old = [
            r["id"]
            for r in tx.fetchall(
                "SELECT id FROM bills WHERE merchant_id = ? ORDER BY id LIMIT 300", (merchant,)
            )
        ]
        new = [
            r["id"]
            for r in tx.fetchall(
                "SELECT id FROM bills WHERE merchant_id = ? ORDER BY id DESC LIMIT 300",
                (merchant,),
            )
        ]
        row = tx.fetchone(
            "SELECT min(created) AS lo, max(created) AS hi, count(*) AS n FROM bills"
            " WHERE merchant_id = ?",
            (merchant,),
        )
        assert row is not None
        mid = middle_created(tx, merchant, int(row["n"]))
    return {
        "old": old,
        "new": new,
        "lo": int(row["lo"]),
        "hi": int(row["hi"]),
        "n": int(row["n"]),
        "mid": mid,
    }


def measure(base: str, shop: Any, filler: Any, n: int) -> dict[str, list[float]]:
    """Latencies (ms) of every measured request as *shop*'s merchant, *n* each."""
    s = _sample(filler, shop.merchant_id)
    rng = random.Random(1)
    out: dict[str, list[float]] = {}
    headers = {"Authorization": f"Bearer {shop.secret_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:

        def get(path: str, **params: Any) -> Callable[[], object]:
            return lambda: _ok(http.get(path, params=params))

        out["GET bill (old)"] = timed(n, lambda: _ok(http.get(f"/v1/bills/{rng.choice(s['old'])}")))
        out["GET bill (new)"] = timed(n, lambda: _ok(http.get(f"/v1/bills/{rng.choice(s['new'])}")))
        out["list first page"] = timed(n, get("/v1/bills"))
        cursor, depth = None, 0
        target = min(DEEP, s["n"] - 100)
        while depth < target:
            page = _ok(
                http.get(
                    "/v1/bills",
                    params={"limit": 100, **({"starting_after": cursor} if cursor else {})},
                )
            ).json()["data"]
            cursor, depth = page[-1]["id"], depth + len(page)
        out["list deep page"] = timed(n, get("/v1/bills", starting_after=cursor))
        print(f"    deep page: {depth:,} bills in", flush=True)
        for status in (
            "created",
            "paid",
            "repaid",
            "liquidated",
            "cancelled",
            "overdue",
            "expired",
        ):
            out[f"status={status}"] = timed(n, get("/v1/bills", status=status))
        customer = str(shop.shoppers[0]["address"])
        out["customer="] = timed(n, get("/v1/bills", customer=customer))
        out["order_id="] = timed(
            n,
            lambda: _ok(
                http.get("/v1/bills", params={"order_id": f"order-{rng.randrange(1, shop.orders)}"})
            ),
        )
        mid = s["mid"]
        out["created narrow"] = timed(n, get("/v1/bills", created_gte=mid, created_lte=mid + 3600))
        wide = s["lo"] + (s["hi"] - s["lo"]) // 20
        out["created wide"] = timed(n, get("/v1/bills", created_gte=wide, created_lte=s["hi"]))
        out["events first page"] = timed(n, get("/v1/events"))
        # The newest 95 % of the bills' time: events and sessions fall in the same days.
        out["events created wide"] = timed(
            n, get("/v1/events", created_gte=wide, created_lte=s["hi"])
        )
        out["sessions created wide"] = timed(
            n, get("/v1/checkout/sessions", created_gte=wide, created_lte=s["hi"])
        )
        now = int(_ok(http.get("/v1/test_helpers/clock")).json()["now"])
        for days in (30, 365):
            out[f"metrics {days}d"] = timed(
                n, get("/v1/analytics/metrics", start=now - days * DAY, end=now, interval="day")
            )
        out["POST bill"] = timed(n, lambda: _post_bill(http, customer))
        payer = shop.shoppers[1]
        out["pay/repay cycle"] = timed(max(20, n // 3), lambda: _cycle(http, payer), warm=2)
    return out


def _post_bill(http: httpx.Client, customer: str) -> dict[str, Any]:
    body = {
        "customer": customer,
        "amount": 25_000_000,
        "order_id": f"bench-{uuid.uuid4().hex[:12]}",
    }
    idem = {"Idempotency-Key": uuid.uuid4().hex}
    return dict(_ok(http.post("/v1/bills", json=body, headers=idem)).json())


def _cycle(http: httpx.Client, wallet: Any) -> None:
    """POST a bill for *wallet*, pay it as that wallet, repay it: three requests."""
    bill = _post_bill(http, str(wallet["address"]))
    _ok(http.post(f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": wallet["name"]}))
    _ok(http.post(f"/v1/test_helpers/bills/{bill['id']}/repay", json={}))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def report(label: str, size: int, res: dict[str, list[float]]) -> None:
    """One line per endpoint: p50 and p99 at this size."""
    for name, values in res.items():
        print(
            f"{label:10} {size:>9,} {name:21} p50 {statistics.median(values):8.2f} ms"
            f"  p99 {_pct(values, 99):8.2f} ms  (n={len(values)})",
            flush=True,
        )


def goal_lines(
    label: str, by_size: dict[int, dict[str, list[float]]], small: int, large: int
) -> list[str]:
    """Ratios largest/smallest and ``goal: ...: met|NOT met`` per endpoint."""
    lines = []
    if large not in by_size or small not in by_size or large == small:
        return lines
    a, b = by_size[small], by_size[large]
    for name in READS + WRITES + ANALYTICS:
        if name not in a or name not in b:  # a file from before the endpoint was measured
            continue
        p50 = statistics.median(b[name]) / statistics.median(a[name])
        p99 = _pct(b[name], 99) / _pct(a[name], 99)
        at = _pct(b[name], 99)
        lines.append(
            f"{label:10} ratio {large:,}/{small:,} {name:21} p50 x{p50:.2f}  p99 x{p99:.2f}"
            f"  (p99 at {large:,}: {at:.2f} ms)"
        )
        if name in READS:
            checks = [
                (f"p99 {at:.2f} ms <= 10", at <= 10),
                (f"p50 ratio {p50:.2f} <= 1.5", p50 <= 1.5),
            ]
        elif name in WRITES:
            checks = [(f"p50 ratio {p50:.2f} <= 1.2", p50 <= 1.2)]
        else:
            checks = [(f"p99 {at:.2f} ms <= 200", at <= 200)]
        for what, held in checks:
            lines.append(
                f"goal: {label} {name} at {large:,}: {what}: {'met' if held else 'NOT met'}"
            )
    return lines


def plot_p99(results: dict[str, dict[int, dict[str, list[float]]]], path: str) -> None:
    """p99 against history size, one line per endpoint, a panel per database."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = READS + WRITES + ANALYTICS
    fig, axes = plt.subplots(1, len(results), figsize=(9 * len(results), 8), squeeze=False)
    cmap = plt.get_cmap("tab20")
    for ax, (label, by_size) in zip(axes[0], results.items(), strict=True):
        sizes = sorted(by_size)
        for i, name in enumerate(names):
            if any(name not in by_size[s] for s in sizes):
                continue
            ys = [_pct(by_size[s][name], 99) for s in sizes]
            style = "-" if i < 10 else "--" if i < 20 else ":"
            ax.plot(sizes, ys, style, marker="o", color=cmap(i % 20), label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("bills in the database")
        ax.set_ylabel("p99 latency (ms)")
        ax.set_title(f"{label}: p99 per endpoint against history size")
        for y, what in ((10, "read goal 10 ms"), (200, "analytics goal 200 ms")):
            ax.axhline(y, color="grey", lw=0.8, ls=":")
            ax.annotate(what, (sizes[0], y), fontsize=8, color="grey", va="bottom")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["GOALS", "goal_lines", "measure", "plot_p99", "report", "timed"]
