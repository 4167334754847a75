"""search index kept in step by the database: triggers on tickets and comments

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 04:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# A ticket's entry (webapp/search.py) is its summary, and its description followed by its
# comments. A new comment is added to the entry; any other change of the text writes the
# entry anew.
SQLITE_ENTRY = """
    DELETE FROM ticket_search WHERE rowid = {id};
    INSERT INTO ticket_search (rowid, summary, body) SELECT id, summary, description
        || coalesce((SELECT char(10) || group_concat(body, char(10)) FROM comments
                     WHERE ticket_id = tickets.id), '')
        FROM tickets WHERE id = {id};
"""
SQLITE = [
    """CREATE TRIGGER ticket_search_new_ticket AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, summary, body)
        VALUES (NEW.id, NEW.summary, NEW.description);
END""",
    "CREATE TRIGGER ticket_search_ticket_text AFTER UPDATE OF summary, description ON tickets "
    f"BEGIN {SQLITE_ENTRY.format(id='NEW.id')} END",
    """CREATE TRIGGER ticket_search_new_comment AFTER INSERT ON comments BEGIN
    UPDATE ticket_search SET body = body || char(10) || NEW.body WHERE rowid = NEW.ticket_id;
END""",
    "CREATE TRIGGER ticket_search_comment_text AFTER UPDATE OF body ON comments "
    f"BEGIN {SQLITE_ENTRY.format(id='NEW.ticket_id')} END",
    "CREATE TRIGGER ticket_search_gone_comment AFTER DELETE ON comments "
    f"BEGIN {SQLITE_ENTRY.format(id='OLD.ticket_id')} END",
]
SQLITE_TRIGGERS = ["ticket_search_new_ticket", "ticket_search_ticket_text",
                   "ticket_search_new_comment", "ticket_search_comment_text",
                   "ticket_search_gone_comment"]

POSTGRESQL = """
CREATE FUNCTION ticket_search_write(ticket integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_search (ticket_id, document)
    SELECT id, setweight(to_tsvector('simple', summary), 'A')
        || setweight(to_tsvector('simple', description
            || coalesce((SELECT chr(10) || string_agg(body, chr(10) ORDER BY id)
                         FROM comments WHERE ticket_id = ticket), '')), 'B')
    FROM tickets WHERE id = ticket
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
$$;
CREATE FUNCTION ticket_search_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ticket_search_write(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_search_ticket AFTER INSERT OR UPDATE OF summary, description ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket();
CREATE FUNCTION ticket_search_comment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE ticket_search
            SET document = document || setweight(to_tsvector('simple', NEW.body), 'B')
            WHERE ticket_id = NEW.ticket_id;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ticket_search_write(NEW.ticket_id);
    ELSE
        PERFORM ticket_search_write(OLD.ticket_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_search_comment AFTER INSERT OR UPDATE OF body OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION ticket_search_comment();
"""
POSTGRESQL_DOWN = """
DROP TRIGGER ticket_search_comment ON comments;
DROP TRIGGER ticket_search_ticket ON tickets;
DROP FUNCTION ticket_search_comment();
DROP FUNCTION ticket_search_ticket();
DROP FUNCTION ticket_search_write(integer);
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL)
    else:
        for trigger in SQLITE:
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_DOWN)
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER {name}')
