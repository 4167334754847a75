"""notifications: a person's unread and read ones in two partial indexes

Not one index of all of them and another of the unread: a new notification (unread) is
written into one index, not two.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UNREAD = sa.text('seen IS NULL')
READ = sa.text('seen IS NOT NULL')


def upgrade():
    op.drop_index('ix_notifications_unread', table_name='notifications', sqlite_where=UNREAD, postgresql_where=UNREAD)
    op.drop_index('ix_notifications_recipient', table_name='notifications')
    op.create_index('ix_notifications_unread', 'notifications', ['recipient_id', 'id'], unique=False, sqlite_where=UNREAD, postgresql_where=UNREAD)
    op.create_index('ix_notifications_read', 'notifications', ['recipient_id', 'id'], unique=False, sqlite_where=READ, postgresql_where=READ)


def downgrade():
    op.drop_index('ix_notifications_read', table_name='notifications', sqlite_where=READ, postgresql_where=READ)
    op.drop_index('ix_notifications_unread', table_name='notifications', sqlite_where=UNREAD, postgresql_where=UNREAD)
    op.create_index('ix_notifications_recipient', 'notifications', ['recipient_id', 'id'], unique=False)
    op.create_index('ix_notifications_unread', 'notifications', ['recipient_id'], unique=False, sqlite_where=UNREAD, postgresql_where=UNREAD)
