"""tickets: the tickets due before a day

The deadline filter ("due before") had no index of its own: the deadline's sort indexes
begin with "deadline IS NULL", which PostgreSQL cannot match to "deadline < day", so a
list due before a day read every ticket's entry (10 ms at a million tickets for none at
all, twice a page), and sorted by last change walked every ticket changed since. This
index holds only the tickets that have a deadline, with when each last changed and its
state, so that a list of them by last change or number is answered from it alone, as
the tickets created in some days are (0026, ``listing._range_first``).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

DUE = sa.text("deleted IS NULL AND deadline IS NOT NULL")


def upgrade():
    op.create_index("ix_tickets_deadline", "tickets", ["deadline", "modified", "id", "state"],
                    sqlite_where=DUE, postgresql_where=DUE)


def downgrade():
    op.drop_index("ix_tickets_deadline", table_name="tickets")
