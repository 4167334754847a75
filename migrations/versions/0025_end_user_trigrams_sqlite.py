"""tickets on SQLite: the end user's name and e-mail address found by any part

The lists' end-user filter matches part of a name or an address, which no ordinary
index answers: SQLite read every ticket for it (some 20 ms of CPU at 10,000 tickets, ten
times that at 100,000). An FTS5 table with the trigram tokenizer (SQLite 3.34 or later)
answers it, as pg_trgm does on PostgreSQL (0024). It holds no text of its own (its
content is the tickets table); triggers keep its index in step with every write of the
two columns, whoever makes it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 00:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

TABLE = "ticket_end_users"
COLUMNS = "end_user_name, end_user_email"
NEW = f"INSERT INTO {TABLE} (rowid, {COLUMNS}) VALUES (NEW.id, NEW.end_user_name, NEW.end_user_email);"
OLD = (f"INSERT INTO {TABLE} ({TABLE}, rowid, {COLUMNS}) "
       "VALUES ('delete', OLD.id, OLD.end_user_name, OLD.end_user_email);")
TRIGGERS = {
    "ticket_end_users_new": f"AFTER INSERT ON tickets BEGIN {NEW} END",
    "ticket_end_users_changed": f"AFTER UPDATE OF {COLUMNS} ON tickets BEGIN {OLD} {NEW} END",
    "ticket_end_users_gone": f"AFTER DELETE ON tickets BEGIN {OLD} END",
}


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute(f"CREATE VIRTUAL TABLE {TABLE} USING fts5({COLUMNS}, content='tickets', "
               "content_rowid='id', tokenize='trigram')")
    op.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"DROP TABLE {TABLE}")
