from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import BACKENDS, _migrated, new_postgres_database
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
    keep its rows and its partial indexes (down past it and up again)."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from tests.factories import make_site, make_ticket, make_user
    from webapp import create_app, notify, services
    from webapp.models import Notification

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite3", "SECRET_KEY": "x"})
    with app.app_context(), app.test_request_context():
        upgrade()
        alice, bob = make_user("alice"), make_user("bob")
        ticket = make_ticket(alice, site=make_site("Webshop", alice, bob))
        services.comment(actor=alice, ticket=ticket, body="Still broken.")
        notify.catch_up(bob)
        written = db.session.scalars(sa.select(Notification.id)).all()
        db.session.remove()
        assert written
        downgrade(revision="0016")
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT id FROM notifications").scalars().all() == written
        upgrade()
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SELECT id FROM notifications").scalars().all() == written
            indexes = {i["name"]: i for i in sa.inspect(c).get_indexes("notifications")}
            assert set(indexes) >= {"ix_notifications_unread", "ix_notifications_read",
                                    "ix_notifications_outbox", "ix_notifications_ticket_id",
                                    "ix_notifications_change_id"}  # fmt: skip
            assert "sqlite_where" in indexes["ix_notifications_unread"]["dialect_options"]
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def new_database(request, tmp_path) -> str:
    """A database of its own, migrated, for a test that moves it between revisions."""
    if request.param == "postgresql":
        return new_postgres_database("migrations")
    url = f"sqlite:///{tmp_path}/m.sqlite3"
    _migrated(url)
    return url


def test_0018_moves_every_changed_field_into_its_change_and_back(new_database):
    """0018 moves the change_fields rows into their change's row, in order, and its
    downgrade moves them back; on each database with its own JSON functions."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from tests.factories import make_site, make_ticket, make_user
    from webapp import create_app, services
    from webapp.models import Change

    app = create_app({"DATABASE_URL": new_database, "SECRET_KEY": "x"})
    with app.app_context(), app.test_request_context():
        alice, bob = make_user("alice"), make_user("bob", role="staff")
        ticket = make_ticket(alice, site=make_site("Webshop", alice, bob))
        services.comment(actor=alice, ticket=ticket, body='Still "broken", 50 %.')
        services.take(actor=bob, ticket=ticket)
        services.edit(actor=bob, ticket=ticket, version=ticket.version,
                      summary="Ünïcode — and a quote's end",
                      description="It jams;\nthen it stops, every time.")  # fmt: skip
        recorded = {c.id: c.fields for c in db.session.scalars(sa.select(Change))}
        db.session.remove()
        assert sum(len(f) for f in recorded.values()) > len(recorded) > 3
        flat = [(i, *f) for i, fields in sorted(recorded.items()) for f in fields]

        downgrade(revision="0017")
        with db.engine.connect() as c:
            rows = c.exec_driver_sql(
                "SELECT change_id, field, old, new FROM change_fields ORDER BY id"
            ).all()
            assert [tuple(r) for r in rows] == flat
            assert "fields" not in {col["name"] for col in sa.inspect(c).get_columns("changes")}

        upgrade()
        assert {c.id: c.fields for c in db.session.scalars(sa.select(Change))} == recorded
        assert not sa.inspect(db.engine).has_table("change_fields")
        db.session.remove()
        db.engine.dispose()
