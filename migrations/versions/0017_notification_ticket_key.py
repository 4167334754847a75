"""notifications: no foreign key to tickets of their own

A deleted ticket's notifications go with its changes, through the key to changes; on
PostgreSQL each key is a check that locks the row it names, for every one of the few
hundred notifications a change writes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notifications_ticket_id_tickets', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_notifications_ticket_id_tickets', 'tickets', ['ticket_id'], ['id'], ondelete='CASCADE')
