"""tickets on PostgreSQL: the end user's name and e-mail address found by any part

The lists' end-user filter matches part of a name or an address (LIKE '%part%'), which
no ordinary index answers: at a million tickets it read every ticket (730 ms). Trigram
indexes (the pg_trgm extension) answer it. PostgreSQL 13 and later let the database's
owner add pg_trgm; where the database user may not, the migration says so and goes on
without them (the filter still works, reading every ticket). SQLite reads its tickets
anyway, and fast enough at its sizes.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 00:45:00

"""
import logging

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

COLUMNS = {"ix_tickets_end_user_name_trgm": "end_user_name",
           "ix_tickets_end_user_email_trgm": "end_user_email"}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as e:
        logging.getLogger("alembic").warning(
            "pg_trgm could not be added (%s): the end-user filter will read every ticket. "
            "Add it as the database's owner, then run 'flask db downgrade 0023' and "
            "'flask db upgrade'.", e.orig)
        return
    for name, column in COLUMNS.items():
        op.execute(f"CREATE INDEX {name} ON tickets USING gin (lower({column}) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS {name}")
