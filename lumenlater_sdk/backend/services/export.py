"""``GET /v1/analytics/export``: a merchant's ledger lines as a streamed CSV or JSON file.

A merchant with years of history exports a million lines or more, so the body is
made batch by batch (``ledger.iterate_lines``: one short read per batch, none open
while the client reads) and sent in chunks of about :data:`CHUNK_BYTES`: one chunk
per line would cost the server a thread hop and a write per line.

Each line is formatted straight from its row, byte for byte as
``json.dumps(line_object(row))`` and the CSV of :data:`CSV_COLUMNS` would give it,
without building the object: at a million lines that object and the general
encoder were most of the export's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii as _json_str

from ..db import Row
from ..store import ledger as ledger_store
from .context import ServiceContext

__all__ = ["CHUNK_BYTES", "CSV_COLUMNS", "export_lines", "format_lines"]

CHUNK_BYTES = 64 * 1024
"""The size a chunk of the body reaches before it is sent (the last one may be smaller)."""

CSV_COLUMNS = ("id", "type", "bill", "amount", "fee", "net", "created", "tx_hash")
"""The CSV header: the fields of an ``analytics.transaction``, ``object`` left out."""


def _csv_line(r: Row) -> str:
    # Ids, types and hashes never hold a comma, a quote or a newline: no quoting,
    # as before; a missing value is an empty field.
    bill, tx_hash = r["bill_id"], r["tx_hash"]
    return (
        f"{r['id']},{r['type']},{'' if bill is None else bill},{int(r['amount'])},"
        f"{int(r['fee'])},{int(r['net'])},{int(r['created'])},"
        f"{'' if tx_hash is None else tx_hash}\n"
    )


def _json_line(r: Row) -> str:
    # json.dumps' default separators and ensure_ascii escaping, key order of line_object.
    bill, tx_hash = r["bill_id"], r["tx_hash"]
    return (
        f'{{"id": {_json_str(r["id"])}, "object": "analytics.transaction",'
        f' "type": {_json_str(r["type"])},'
        f' "bill": {"null" if bill is None else _json_str(bill)},'
        f' "amount": {int(r["amount"])}, "fee": {int(r["fee"])}, "net": {int(r["net"])},'
        f' "created": {int(r["created"])},'
        f' "tx_hash": {"null" if tx_hash is None else _json_str(tx_hash)}}}'
    )


def _chunks(head: str, parts: Iterable[str], tail: str) -> Iterator[bytes]:
    """*head*, *parts* and *tail* joined, in chunks of at least CHUNK_BYTES (but the last)."""
    buf = [head]
    size = len(head)
    for part in parts:
        buf.append(part)
        size += len(part)
        if size >= CHUNK_BYTES:
            yield "".join(buf).encode()
            buf.clear()
            size = 0
    buf.append(tail)
    yield "".join(buf).encode()


def _json_items(rows: Iterable[Row]) -> Iterator[str]:
    it = iter(rows)
    for r in it:
        yield _json_line(r)
        break
    for r in it:
        yield "," + _json_line(r)


def format_lines(fmt: str, rows: Iterable[Row]) -> Iterator[bytes]:
    """Ledger line *rows* (``iterate_lines``) as the export's body in *fmt* (``csv`` or
    ``json``), in chunks."""
    if fmt == "csv":
        return _chunks(",".join(CSV_COLUMNS) + "\n", map(_csv_line, rows), "")
    return _chunks("[", _json_items(rows), "]")


def export_lines(
    ctx: ServiceContext, merchant_id: str, fmt: str, start: int | None, end: int | None
) -> Iterator[bytes]:
    """The merchant's lines created in ``[start, end)``, oldest first, as a CSV or a
    JSON array, produced batch by batch."""
    return format_lines(fmt, ledger_store.iterate_lines(ctx.db, merchant_id, start=start, end=end))
