"""list indexes hold only tickets that are not deleted

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:55:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_state_priority": ["state", "priority", "id"],
    "ix_tickets_state_site": ["state", "site_id"],
    "ix_tickets_assignee_priority": ["assignee_id", "priority", "modified", "id"],
    "ix_tickets_last_commenter_state": ["last_commenter_id", "state"],
    "ix_tickets_ref": ["ref"],
}
PRESENT = sa.text("deleted IS NULL")


def upgrade():
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns, sqlite_where=PRESENT, postgresql_where=PRESENT)


def downgrade():
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns)
