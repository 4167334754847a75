"""change monitor: the ticket version each change produced

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:29:51.876895

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('version', sa.Integer(), nullable=False, server_default='1')
        )
    # Each ticket's changes so far produced versions 1, 2, 3, ... in order.
    op.execute(
        "UPDATE changes SET version = (SELECT count(*) FROM changes AS earlier "
        "WHERE earlier.ticket_id = changes.ticket_id AND earlier.id <= changes.id)"
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.alter_column('version', server_default=None)


def downgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_column('version')
