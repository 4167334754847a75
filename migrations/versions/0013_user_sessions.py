"""user sessions: one row per sign-in, instead of one token per user

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 21:28:06.095782

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_last_seen'), ['last_seen'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Everyone signs in again. Not in batch mode: on SQLite that would copy the users table
    # and drop the old one, and with foreign keys on, dropping it deletes what refers to
    # users (ON DELETE CASCADE). SQLite drops a plain column itself since 3.35.
    op.drop_column('users', 'session_token')


def downgrade():
    # Every session of the new kind ends; the old code finds no token and signs nobody in.
    op.add_column('users', sa.Column('session_token', sa.String(length=32), nullable=False, server_default=''))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_last_seen'))

    op.drop_table('user_sessions')
