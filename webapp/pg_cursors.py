"""PostgreSQL cursors that describe a result's columns only when asked to.

After every statement SQLAlchemy reads ``cursor.description``, to learn whether it
returned rows. What the columns are it reads from it only the first time a compiled
statement runs: it keeps what it learnt with the statement. psycopg makes the
description anew on every read, a Python object per column: for the sign-in's 57
columns some 5 % of the instructions of a whole state change. Here the description is
a sequence of the same columns, made from the result on first use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.pq import ExecStatus

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)
_DESCRIBE = psycopg.Cursor.description.fget  # psycopg's own, which makes the columns


def describe_on_demand(connection) -> None:
    """Give a psycopg 3 connection these cursors (a psycopg2 one is left as it is)."""
    if isinstance(connection, psycopg.Connection):
        connection.cursor_factory = Cursor


class Cursor(psycopg.Cursor):
    """psycopg's cursor, whose ``description`` makes its columns on first use."""

    @property
    def description(self) -> Sequence[Any] | None:
        result = self.pgresult
        # psycopg's rule for a result with rows (even "SELECT ;", which has no columns)
        if result and (result.nfields or result.status in _ROWS):
            return _Description(self, result)
        return None


class _Description(Sequence):
    """The columns of the cursor's result ``result``, as psycopg describes them."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor: Cursor, result) -> None:
        self._cursor, self._result, self._columns = cursor, result, None

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def _made(self) -> list:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                # Never so in SQLAlchemy, which reads a description before it goes on.
                raise RuntimeError("a description read after its cursor moved on")
            self._columns = _DESCRIBE(self._cursor)
        return self._columns
