"""tickets: an index for the Unassigned tab in its order

PostgreSQL cannot take the tab's order (priority, last change, number) from
ix_tickets_assignee_priority, as "assignee_id IS NULL" is no equality to it: it read and
sorted every unassigned ticket (124,000 of a million, 30 ms a page).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("deleted IS NULL AND assignee_id IS NULL")


def upgrade():
    op.create_index("ix_tickets_unassigned", "tickets", ["priority", "modified", "id"],
                    sqlite_where=UNASSIGNED, postgresql_where=UNASSIGNED)


def downgrade():
    op.drop_index("ix_tickets_unassigned", table_name="tickets")
