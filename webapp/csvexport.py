"""CSV for spreadsheets: streamed line by line, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Each row as one CSV line (CRLF), every cell as neutralised text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
