"""tickets: a site's tickets in order of urgency

A site's page shows its first hundred active tickets, most urgent first. With an index on
the site alone, PostgreSQL read and sorted all of a site's active tickets (48,000 of a
million, 160 ms). The new index leads with the site, so it serves every lookup the old
one did.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 22:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tickets_site_priority", "tickets", ["site_id", "priority", "id"])
    op.drop_index("ix_tickets_site_id", table_name="tickets")


def downgrade():
    op.create_index("ix_tickets_site_id", "tickets", ["site_id"])
    op.drop_index("ix_tickets_site_priority", table_name="tickets")
