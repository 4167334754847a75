"""Database connections checked before use, at the cost of a round trip only when that
can matter.

SQLAlchemy's ``pool_pre_ping`` pings every connection taken from the pool, so every
request to PostgreSQL pays one round trip more than its statements. A connection that
was in use a moment ago is alive all the same; one that sat idle in the pool may have
been closed by the server, a proxy or a restart. So it is pinged only after
``DB_PING_AFTER_IDLE_SECONDS`` idle, and a dead one is replaced before the request
sees it. (A server that goes away within that second costs the requests that meet it
an error; the pool then starts anew.) SQLite's connections are files: never pinged.
"""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_RETURNED = "tessera_returned"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine.pool, "checkin")
    def _returned(dbapi_connection, record) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as e:
            raise exc.DisconnectionError() from e  # the pool connects anew and retries
