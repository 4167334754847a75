from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import AuthActions
from tests.factories import make_user
from webapp import accounts
from webapp.extensions import db
from webapp.models import Change, Comment, Group, Priority, Site, Ticket, TicketType, User
from webapp.workflow import LINO


def group_names() -> list[str]:
    return sorted(db.session.scalars(sa.select(Group.name)))


def test_create_groups_is_idempotent_and_uses_the_configured_names(app, runner):
    app.config["STAFF_GROUP"] = "helpdesk_staff"
    for _ in range(2):
        result = runner.invoke(args=["create-groups"])
        assert result.exit_code == 0, result.output
    assert group_names() == ["admin", "helpdesk_staff"]


def test_create_admin_creates_a_user_who_can_sign_in(app, runner):
    result = runner.invoke(args=["create-admin", "root", "--password", "long-password"])
    assert result.exit_code == 0, result.output
    assert "'root' is now an admin." in result.output
    user = accounts.find_user("root")
    assert user.is_admin and user.is_staff
    client = app.test_client()
    assert AuthActions(client).login("root", "long-password").status_code == 303


def test_create_admin_prompts_for_the_password(runner):
    result = runner.invoke(args=["create-admin", "root"], input="long-password\nlong-password\n")
    assert result.exit_code == 0, result.output
    assert accounts.find_user("root").check_password("long-password")


def test_create_admin_promotes_an_existing_user_and_keeps_the_password(runner):
    make_user("alice")
    result = runner.invoke(args=["create-admin", "alice"])
    assert result.exit_code == 0, result.output
    alice = accounts.find_user("alice")
    assert alice.is_admin
    assert alice.check_password("secret-pass")


def test_create_admin_refuses_a_bad_username(runner):
    result = runner.invoke(args=["create-admin", "no spaces", "--password", "long-password"])
    assert result.exit_code == 1
    assert "username" in result.output


def test_add_and_remove_staff(runner):
    make_user("bob")
    assert runner.invoke(args=["add-to-group", "bob", "staff"]).exit_code == 0
    assert accounts.find_user("bob").is_staff
    again = runner.invoke(args=["add-to-group", "bob@example.com", "staff"])
    assert "was already in" in again.output
    assert runner.invoke(args=["remove-from-group", "bob", "staff"]).exit_code == 0
    db.session.expire_all()
    assert not accounts.find_user("bob").is_staff


def test_group_commands_name_what_is_wrong(runner):
    make_user("bob")
    unknown_user = runner.invoke(args=["add-to-group", "nobody", "staff"])
    assert unknown_user.exit_code == 1 and "There is no user 'nobody'" in unknown_user.output
    unknown_group = runner.invoke(args=["add-to-group", "bob", "wizards"])
    assert unknown_group.exit_code == 1 and "There is no group 'wizards'" in unknown_group.output


def test_seed_demo_builds_a_lived_in_help_desk_once(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    assert "alice, bob" in result.output
    tickets = db.session.scalars(sa.select(Ticket)).all()
    assert 35 <= len(tickets) <= 50
    assert {t.state for t in tickets} == {s.name for s in LINO.states}
    assert {t.priority for t in tickets} == {int(p) for p in Priority}
    assert {t.site.name for t in tickets if t.site} == set(db.session.scalars(sa.select(Site.name)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) >= 20
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketType)) == 6
    for ticket in tickets:
        assert ticket.changes[0].kind == "created"
        assert ticket.changes[0].actor == ticket.author
        assert [c.created for c in ticket.changes] == sorted(c.created for c in ticket.changes)
        assert ticket.author.subscriptions or ticket.site is None or ticket.author.is_staff


def test_demo_users_sign_in_with_their_roles(app, runner):
    runner.invoke(args=["seed-demo", "--password", "other-pass"])
    roles = {u.username: u.role for u in db.session.scalars(sa.select(User))}
    assert roles == {"admin": "admin", "staff": "staff", "alice": "owner", "bob": "owner"}
    for username in roles:
        client = app.test_client()
        assert AuthActions(client).login(username, "other-pass").status_code == 303


def test_seed_demo_history_matches_the_ticket(app, runner):
    runner.invoke(args=["seed-demo"])
    closed = db.session.scalars(sa.select(Ticket).where(Ticket.state == "closed")).first()
    states = [
        (f.old, f.new)
        for c in closed.changes
        for f in c.fields
        if f.field == "state" and c.kind == "state"
    ]
    assert states[-1] == ("ready", "closed")
    last = db.session.scalars(
        sa.select(Change).where(Change.ticket_id == closed.id).order_by(Change.id.desc())
    ).first()
    assert last.actor == closed.author  # the owner confirmed it


def test_generate_data_builds_a_help_desk_its_staff_can_search(app, runner, client):
    """The benchmarks' data, made by the documented command. Its last step (the search
    index compacted, and on PostgreSQL the statistics) is committed on both databases."""
    result = runner.invoke(args=["generate-data", "--tickets", "40", "--comments-per-ticket", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("40 tickets, 80 comments, ")
    engine = db.engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":  # FTS5's optimize: one segment left
            segments = "SELECT count(DISTINCT segid) FROM ticket_search_idx"
            assert connection.exec_driver_sql(segments).scalar() == 1
        else:
            analyzed = "SELECT reltuples FROM pg_class WHERE relname = 'tickets'"
            assert connection.exec_driver_sql(analyzed).scalar() == 40
    word = db.session.scalar(sa.select(Ticket.summary).order_by(Ticket.id.desc())).split()[0]
    assert AuthActions(client).login("gen-staff-0", "demo").status_code == 303
    page = client.get(f"/tickets/?tab=all&q={word}").get_data(as_text=True)
    assert 'id="ticket-' in page
