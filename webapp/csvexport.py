"""CSV for spreadsheets: streamed, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIRST = frozenset(FORMULA_START)
# Lines sent at a time: big enough that the server writes few, large pieces; small
# enough that the first bytes leave at once and memory stays flat.
CHUNK = 500


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def utc_text(column, dialect: str):
    """A stored UTC time as the exports write it (2026-11-22T14:05:00Z), formatted by the
    database: a long export then costs no date object per cell."""
    if dialect == "postgresql":
        return sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", column)


def _cell(cell: object) -> str:
    return neutralise("" if cell is None else str(cell))


def lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The rows as CSV (CRLF line ends, every cell as neutralised text), in pieces of
    CHUNK whole lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    pending = 0
    for row in rows:
        # Most cells are text that needs nothing: they pass as they are.
        writer.writerow(
            [c if c.__class__ is str and c[:1] not in _FIRST else _cell(c) for c in row]
        )
        pending += 1
        if pending == CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
