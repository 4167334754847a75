"""notifications, mail mode, state times

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 18:37:45.502488

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('seen', sa.DateTime(), nullable=True),
    sa.Column('mail', sa.String(length=10), nullable=False),
    sa.Column('due', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease', sa.DateTime(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('delivered', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_notifications_change_id_changes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notifications_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_change_id'), ['change_id'], unique=False)
        batch_op.create_index('ix_notifications_outbox', ['mail', 'due'], unique=False, sqlite_where=sa.text("mail IN ('pending', 'digest')"), postgresql_where=sa.text("mail IN ('pending', 'digest')"))
        batch_op.create_index('ix_notifications_recipient', ['recipient_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('ix_notifications_unread', ['recipient_id'], unique=False, sqlite_where=sa.text('seen IS NULL'), postgresql_where=sa.text('seen IS NULL'))

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved', sa.DateTime(), nullable=True))
    # A ticket entered its state at its latest state change (or when it was reported);
    # those in a solved state of the preset workflows were solved then.
    op.execute("""
        UPDATE tickets SET state_since = COALESCE(
            (SELECT MAX(c.created) FROM changes c JOIN change_fields f ON f.change_id = c.id
             WHERE c.ticket_id = tickets.id AND f.field = 'state'),
            created)
    """)
    op.execute("""
        UPDATE tickets SET resolved = state_since
        WHERE state IN ('ready', 'solved', 'closed', 'done')
    """)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('state_since', existing_type=sa.DateTime(), nullable=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_mode', sa.String(length=20), nullable=True))
    op.execute("UPDATE users SET mail_mode = 'immediately'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('mail_mode', existing_type=sa.String(length=20), nullable=False)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mail_mode')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('resolved')
        batch_op.drop_column('state_since')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread', sqlite_where=sa.text('seen IS NULL'), postgresql_where=sa.text('seen IS NULL'))
        batch_op.drop_index(batch_op.f('ix_notifications_ticket_id'))
        batch_op.drop_index('ix_notifications_recipient')
        batch_op.drop_index('ix_notifications_outbox', sqlite_where=sa.text("mail IN ('pending', 'digest')"), postgresql_where=sa.text("mail IN ('pending', 'digest')"))
        batch_op.drop_index(batch_op.f('ix_notifications_change_id'))

    op.drop_table('notifications')
