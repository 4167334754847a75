"""stamps: counters that move with every write to what pages show

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The "tickets" stamp moves with every recorded change (webapp/stamps.py). On PostgreSQL
# at the commit, once per transaction: the counter's row lock is the last a writer takes.
POSTGRESQL = """
CREATE FUNCTION tessera_move_tickets_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tessera.tickets_stamp_moved', true) IS DISTINCT FROM 'yes' THEN
        UPDATE stamps SET value = value + 1 WHERE name = 'tickets';
        PERFORM set_config('tessera.tickets_stamp_moved', 'yes', true);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER changes_move_tickets_stamp AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tessera_move_tickets_stamp();
"""
# SQLite: one writer at a time holds the whole database, so the order of locks is moot.
SQLITE = """
CREATE TRIGGER changes_move_tickets_stamp AFTER INSERT ON changes
BEGIN
    UPDATE stamps SET value = value + 1 WHERE name = 'tickets';
END
"""


def upgrade():
    stamps = op.create_table('stamps',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stamps'))
    )
    op.bulk_insert(stamps, [{'name': 'tickets', 'value': 0}, {'name': 'setup', 'value': 0}])
    op.execute(POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE)


def downgrade():
    op.execute('DROP TRIGGER changes_move_tickets_stamp' + (' ON changes' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION tessera_move_tickets_stamp()')
    op.drop_table('stamps')
