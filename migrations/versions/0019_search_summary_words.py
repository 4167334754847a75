"""ticket_search on PostgreSQL: the summary's words in a column and an index of their own

A search ranks matches in the summary first. Told apart by the weights in the entry, a
summary match could only be found by reading entries, and PostgreSQL could not tell how
common a word is in summaries. The column is generated from the entry (its weight-A
words), so the triggers of 0015 keep it in step; SQLite's FTS5 table has a summary
column already.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "ALTER TABLE ticket_search ADD COLUMN summary tsvector "
            "GENERATED ALWAYS AS (ts_filter(document, '{a}')) STORED"
        )
        op.execute("CREATE INDEX ix_ticket_search_summary ON ticket_search USING gin (summary)")
        op.execute("ANALYZE ticket_search")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE ticket_search DROP COLUMN summary")
