"""CSV for spreadsheets: streamed, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .extensions import db

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIRST = frozenset(FORMULA_START)
_FIRST_CODES = tuple(ord(c) for c in FORMULA_START)
# Lines sent at a time: big enough that the server writes few, large pieces; small
# enough that the first bytes leave at once and memory stays flat.
CHUNK = 500
# Rows read from the database at a time, where Python writes the CSV.
BATCH = 1000


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def neutralised(column, dialect: str):
    """``neutralise``, done by the database, for a text column people type: an export
    whose every other cell is safe as it comes (numbers, the times ``utc_text`` writes,
    labels neutralised once) then writes its rows as they are (``lines``). The first
    character is compared by its code point, not cut out as text: at a million rows of
    seven such cells, PostgreSQL's work shrinks by a fifth. On PostgreSQL an empty text
    comes as NULL, an empty cell either way (its CSV would write "" for it)."""
    if dialect == "sqlite":
        return sa.case((sa.func.unicode(column).in_(_FIRST_CODES), "'" + column), else_=column)
    cell = sa.case((sa.func.ascii(column).in_(_FIRST_CODES), "'" + column), else_=column)
    return sa.func.nullif(cell, "")


def labelled(column, labels: Mapping[Any, str]):
    """The label of the column's value, neutralised (NULL for a value without one)."""
    return sa.case({value: neutralise(label) for value, label in labels.items()}, value=column)


def utc_text(column, dialect: str):
    """A stored UTC time as the exports write it (2026-11-22T14:05:00Z), formatted by the
    database: a long export then costs no date object per cell."""
    if dialect == "postgresql":
        return sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", column)


def day_text(column, dialect: str):
    """A stored day as the exports write it (2026-11-22), by the database (SQLite keeps
    it so: read as text, not parsed)."""
    if dialect == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.type_coerce(column, sa.String)


def written(statement: sa.Select, header: Sequence[str]) -> Iterator[str | bytes]:
    """The statement's rows as CSV, the header first, streamed (run on the session's
    connection as the download starts): any length costs time, not memory. Its columns
    are the cells as written: text made safe by the database (``neutralised``,
    ``labelled``, ``utc_text``, ``day_text``), numbers, or NULL for an empty cell.
    PostgreSQL writes the CSV itself (``COPY``): the worker passes it on, for a third of
    its CPU, and the two work at once. Elsewhere csv.writer writes the rows, read a batch
    at a time."""
    yield from lines([header])
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        yield from _copied(connection, statement)
        return
    # For this statement alone: Connection.execution_options() would change the
    # session's connection for every statement after it, writes included.
    streamed = {"stream_results": True, "max_row_buffer": BATCH}
    yield from lines(connection.execute(statement, execution_options=streamed), safe=True)


def _copied(connection: sa.Connection, statement: sa.Select) -> Iterator[bytes]:
    """PostgreSQL's CSV of the statement's rows (``COPY … TO STDOUT``), as csv.writer
    writes them: both quote exactly the cells that hold a comma, a quote, CR or LF (and
    COPY an empty text, which ``neutralised`` makes NULL), and a row ends with CRLF here
    (COPY ends it with LF). CHUNK rows a piece. COPY takes no parameters: psycopg
    writes them into the statement, quoted. A download left half way cancels the
    statement (psycopg's way out of a COPY)."""
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    dialect, params = connection.dialect, compiled.construct_params()
    for name, value in params.items():  # as SQLAlchemy's execution would pass them
        process = _bind_type(compiled, name).dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            params[name] = process(value)
    raw = connection.connection.dbapi_connection
    encoding = raw.info.encoding
    command = f"COPY ({compiled}) TO STDOUT (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(command, params) as copy:
        rows = (row[:-1] for row in copy)  # a row a read, its LF last
        while piece := list(itertools.islice(rows, CHUNK)):
            text = b"\r\n".join(piece) + b"\r\n"
            yield text if encoding == "utf-8" else text.decode(encoding).encode()


def _bind_type(compiled, name: str):
    """The type of a compiled statement's parameter."""
    bind = compiled.binds.get(name)
    if bind is None:  # a value of an IN list, "<its parameter>_<n>" once rendered
        bind = compiled.binds[name.rpartition("_")[0]]
    return bind.type


def _cell(cell: object) -> str:
    return neutralise("" if cell is None else str(cell))


def lines(rows: Iterable[Iterable[object]], *, safe: bool = False) -> Iterator[str]:
    """The rows as CSV (CRLF line ends), in pieces of CHUNK whole lines: every cell
    neutralised as text here, or, when the caller says the rows are ``safe`` already
    (see ``neutralised``), written as they come, a piece at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if not safe:
        # Most cells are text that needs nothing: they pass as they are.
        rows = ([c if c.__class__ is str and c[:1] not in _FIRST else _cell(c) for c in row]
                for row in rows)  # fmt: skip
    rows = iter(rows)
    while piece := list(itertools.islice(rows, CHUNK)):
        writer.writerows(piece)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
