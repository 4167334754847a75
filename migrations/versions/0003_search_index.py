"""full-text search index over summary, description and comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:45:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COMMENTS_SQLITE = "SELECT group_concat(body, char(10)) FROM comments WHERE ticket_id = tickets.id"
COMMENTS_PG = "SELECT string_agg(body, chr(10)) FROM comments WHERE ticket_id = tickets.id"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search USING fts5("
            "summary, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        op.execute(
            "INSERT INTO ticket_search (rowid, summary, body) SELECT id, summary, "
            f"description || char(10) || coalesce(({COMMENTS_SQLITE}), '') FROM tickets"
        )
    else:
        op.execute(
            "CREATE TABLE ticket_search ("
            "ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE, "
            "document tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (document)")
        op.execute(
            "INSERT INTO ticket_search (ticket_id, document) SELECT id, "
            "setweight(to_tsvector('simple', summary), 'A') || setweight(to_tsvector('simple', "
            f"description || chr(10) || coalesce(({COMMENTS_PG}), '')), 'B') FROM tickets"
        )


def downgrade():
    op.execute("DROP TABLE ticket_search")
