from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db
from webapp.search import include_name


def test_migrations_build_exactly_the_models(app):
    """What `flask db check` checks, on every backend the suite runs on."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, db.metadata) == []


def test_0013_keeps_every_user_and_what_refers_to_them_on_sqlite(tmp_path):
    """0013 drops a column of users: on SQLite without copying the table, which (with
    foreign keys on) would have deleted group memberships, subscriptions and tokens."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from webapp import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite3", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as c:
            c.exec_driver_sql(
                "INSERT INTO users (id, username, email, display_name, password_hash, active,"
                " language, timezone, mail_mode, created, session_token) VALUES (1, 'alice',"
                " 'a@example.com', '', 'x', 1, 'en', 'UTC', 'none', '2026-01-01', 'tok')"
            )
            c.exec_driver_sql("INSERT INTO groups (id, name) VALUES (1, 'staff')")
            c.exec_driver_sql("INSERT INTO user_groups (user_id, group_id) VALUES (1, 1)")
        upgrade()
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM user_groups").scalar() == 1
            assert c.exec_driver_sql("SELECT username FROM users").scalar() == "alice"
            assert "session_token" not in {
                col["name"] for col in sa.inspect(c).get_columns("users")
            }
        downgrade(revision="0012")
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM user_groups").scalar() == 1
        db.engine.dispose()


def test_0017_keeps_every_notification_and_its_indexes_on_sqlite(tmp_path):
    """0017 drops a key of notifications: on SQLite by copying the table, which must
    keep its rows and its partial indexes."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from tests.factories import make_site, make_ticket, make_user
    from webapp import create_app, services
    from webapp.models import Notification

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite3", "SECRET_KEY": "x"})
    with app.app_context(), app.test_request_context():
        upgrade(revision="0016")
        alice = make_user("alice")
        ticket = make_ticket(alice, site=make_site("Webshop", alice, make_user("bob")))
        services.comment(actor=alice, ticket=ticket, body="Still broken.")
        written = db.session.scalars(sa.select(Notification.id)).all()
        db.session.remove()
        assert written
        upgrade()
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT id FROM notifications").scalars().all() == written
            indexes = {i["name"]: i for i in sa.inspect(c).get_indexes("notifications")}
            assert set(indexes) >= {"ix_notifications_unread", "ix_notifications_read",
                                    "ix_notifications_outbox", "ix_notifications_ticket_id",
                                    "ix_notifications_change_id"}  # fmt: skip
            assert "sqlite_where" in indexes["ix_notifications_unread"]["dialect_options"]
        downgrade(revision="0016")
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT id FROM notifications").scalars().all() == written
        db.engine.dispose()
