"""notifications: a subscriber's written when they look, listed by change

A change used to write a notification for every subscriber of its site in its own
transaction: some 66 rows a change on the generated data, a third of what a write cost.
Now a change writes those of its people (and of whoever gets it by mail), and a
subscriber's are written when they look (``notify.catch_up``), up to the change their
cursor names. Everyone's cursor starts at the newest change: what came before was
written the old way. The partial indexes list a person's notifications by change, since
one about an older change may now be written after one about a newer.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 09:20:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

UNREAD = sa.text("seen IS NULL")
READ = sa.text("seen IS NOT NULL")


def upgrade():
    cursors = op.create_table(
        "notification_cursors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Integer(), nullable=False),
        sa.Column("caught_up", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    users, changes = sa.table("users", sa.column("id")), sa.table("changes", sa.column("id"))
    newest = sa.select(sa.func.coalesce(sa.func.max(changes.c.id), 0)).scalar_subquery()
    now = sa.literal(datetime.now(UTC).replace(tzinfo=None), sa.DateTime())
    op.execute(cursors.insert().from_select(
        ["user_id", "through", "caught_up"], sa.select(users.c.id, newest, now)))
    _index_by("change_id")


def downgrade():
    _index_by("id")
    op.drop_table("notification_cursors")


def _index_by(column):
    for name, where in (("ix_notifications_unread", UNREAD), ("ix_notifications_read", READ)):
        op.drop_index(name, table_name="notifications")
        op.create_index(name, "notifications", ["recipient_id", column],
                        sqlite_where=where, postgresql_where=where)
