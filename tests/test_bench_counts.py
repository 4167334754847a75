"""bench/run.py counts the statements of each action in-process, on tickets its wrk runs
leave alone: a warm-up request, then the counted one. The count is what every request
reads, the same from run to run: the warm-up has read what a process keeps."""

from __future__ import annotations

import sqlalchemy as sa

from bench import run
from tests.test_query_budget import ACTION_BUDGET, ACTION_BUDGET_POSTGRESQL

NEW = "state = 'new' AND assignee_id IS NULL AND deleted IS NULL AND id > 1"


def test_the_counted_take_reads_only_what_every_take_reads(app, runner, database_url):
    result = runner.invoke(args=["generate-data", "--tickets", "120", "--comments-per-ticket", "0"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(database_url)
    with engine.begin() as c:
        first, second = c.scalars(
            sa.text(f"SELECT id FROM tickets WHERE {NEW} ORDER BY id LIMIT 2")
        )
        # The first new ticket private, the next not: a change to a private ticket never
        # reads the webhooks, which a process keeps once read.
        mark = "UPDATE tickets SET private = (id = :first) WHERE id IN (:first, :second)"
        c.execute(sa.text(mark), {"first": first, "second": second})
        private = set(c.scalars(sa.text("SELECT id FROM tickets WHERE private")))
    engine.dispose()

    ids = run.pools(database_url)
    assert not private & set(ids["spare_take"]) and not private & set(ids["spare_state"])
    assert not set(ids["spare_take"]) & set(ids["take"])
    assert not set(ids["spare_state"]) & set(ids["state"])
    take = [s for s in run.SCENARIOS if s.name == "take"]
    statements, _ = run.count_in_process(database_url, take, ids)["take"]
    postgresql = database_url.startswith("postgresql")
    assert statements == (ACTION_BUDGET_POSTGRESQL if postgresql else ACTION_BUDGET)["take"]
