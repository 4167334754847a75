"""indexes that answer the work and feedback counts alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 18:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PRESENT = sa.text("deleted IS NULL")


def upgrade():
    op.drop_index("ix_tickets_state_site", table_name="tickets")
    op.create_index("ix_tickets_state_site", "tickets", ["state", "site_id", "last_commenter_id"],
                    sqlite_where=PRESENT, postgresql_where=PRESENT)
    op.create_index("ix_tickets_assignee_state", "tickets",
                    ["assignee_id", "state", "priority", "modified", "id"],
                    sqlite_where=PRESENT, postgresql_where=PRESENT)


def downgrade():
    op.drop_index("ix_tickets_assignee_state", table_name="tickets")
    op.drop_index("ix_tickets_state_site", table_name="tickets")
    op.create_index("ix_tickets_state_site", "tickets", ["state", "site_id"],
                    sqlite_where=PRESENT, postgresql_where=PRESENT)
