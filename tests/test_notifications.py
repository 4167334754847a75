"""Who hears about what, written with the change itself, read in the app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import accounts, notify, notify_mail, services
from webapp.extensions import db
from webapp.models import (
    Change,
    Comment,
    MailState,
    Notification,
    NotificationCursor,
    Ticket,
    User,
    clock_at,
)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(app):
    alice, bob = make_user("alice"), make_user("bob")
    dan = make_user("dan")
    people = {
        "alice": alice,
        "bob": bob,
        "carol": make_user("carol"),
        "sam": make_user("sam", role="staff"),
        "tom": make_user("tom", role="staff"),
        "ada": make_user("ada", role="admin"),
        "dan": dan,
    }
    with clock_at(datetime(2025, 1, 1, tzinfo=UTC)):  # followed before any test's changes
        people["site"] = make_site("Webshop", alice, bob, dan)
    dan.active = False
    db.session.commit()
    return people


def everyone_looks() -> None:
    """Every active person's bell refreshes: what their sites saw is written for them."""
    for user in db.session.scalars(sa.select(User).where(User.active)).all():
        notify.catch_up(user)


def written(ticket=None, change=None) -> dict[str, str]:
    """Who has a notification (username: reason) of a ticket's latest change, or of
    ``change``, so far."""
    if change is None:
        change = db.session.scalar(
            sa.select(Change).where(Change.ticket_id == ticket.id).order_by(Change.id.desc())
        )
    notes = db.session.scalars(sa.select(Notification).where(Notification.change_id == change.id))
    return {n.recipient.username: n.reason for n in notes}


def told(ticket=None, change=None) -> dict[str, str]:
    """The same, once everyone looked: who was told."""
    everyone_looks()
    return written(ticket, change)


def test_a_new_ticket_tells_the_sites_subscribers_and_every_admin(people):
    ticket = make_ticket(people["alice"], site=people["site"])
    # Not alice (she acted), not carol (not subscribed), not sam (staff, not admin),
    # not dan (deactivated).
    assert told(ticket) == {"bob": "created", "ada": "created"}


def test_a_private_ticket_is_not_announced_to_subscribers(people):
    ticket = make_ticket(people["alice"], site=people["site"], private=True)
    assert told(ticket) == {"ada": "created"}


def test_a_comment_tells_author_assignee_and_subscribers_but_not_the_one_who_wrote_it(people):
    ticket = make_ticket(people["alice"], site=people["site"])
    services.take(actor=people["sam"], ticket=ticket)
    services.comment(actor=people["bob"], ticket=ticket, body="Same here since Tuesday.")
    assert told(ticket) == {"alice": "commented", "sam": "commented"}
    services.comment(actor=people["sam"], ticket=ticket, body="Looking into it.")
    assert told(ticket) == {"alice": "commented", "bob": "commented"}


def test_an_assignment_tells_the_new_assignee_and_the_one_it_was_taken_from(people):
    ticket = make_ticket(people["alice"], site=people["site"])
    services.assign(actor=people["ada"], ticket=ticket, assignee=people["sam"])
    assert told(ticket) == {"sam": "assigned", "alice": "changed", "bob": "changed"}
    services.steal(actor=people["tom"], ticket=ticket)
    assert told(ticket) == {"sam": "changed", "alice": "changed", "bob": "changed"}


def test_the_one_a_private_ticket_was_taken_from_hears_of_it_only_if_they_still_see_it(people):
    ticket = make_ticket(people["alice"], site=people["site"], private=True)
    services.take(actor=people["sam"], ticket=ticket)
    services.steal(actor=people["tom"], ticket=ticket)
    assert told(ticket) == {"sam": "changed", "alice": "changed"}
    accounts.remove_from_group(user=people["tom"], group=accounts.role_group("staff"))
    db.session.commit()  # tom is no longer staff, so the private ticket is not his to see
    services.steal(actor=people["sam"], ticket=ticket)
    assert told(ticket) == {"alice": "changed"}


def test_nobody_who_may_not_see_the_ticket_hears_of_it(people):
    ticket = make_ticket(people["alice"], site=people["site"], private=True)
    services.comment(actor=people["sam"], ticket=ticket, body="Can you send a screenshot?")
    assert told(ticket) == {"alice": "commented"}  # bob follows the site, but it is private
    services.edit(actor=people["alice"], ticket=ticket, version=ticket.version, private=False)
    assert told(ticket) == {"bob": "changed"}  # now he may see it
    services.delete_ticket(actor=people["ada"], ticket=ticket)
    assert told(ticket) == {}  # a deleted ticket is seen by nobody


def test_a_change_writes_its_peoples_notifications_a_subscribers_when_they_look(people):
    ticket = make_ticket(people["alice"], site=people["site"])
    services.take(actor=people["sam"], ticket=ticket)
    services.comment(actor=people["ada"], ticket=ticket, body="Any news?")
    assert written(ticket) == {"alice": "commented", "sam": "commented"}  # bob follows
    assert notify.catch_up(people["bob"]) == 3  # the new ticket, the take, the comment
    assert written(ticket) == {"alice": "commented", "sam": "commented", "bob": "commented"}
    assert notify.catch_up(people["bob"]) == 0  # once
    assert notify.catch_up(people["carol"]) == 0  # follows nothing


def test_a_subscriber_hears_of_what_was_made_while_they_followed_the_site(people):
    from webapp import subscriptions

    carol, site = people["carol"], people["site"]
    with clock_at(datetime(2026, 3, 1, tzinfo=UTC)):
        before = make_ticket(people["alice"], site=site)
    with clock_at(datetime(2026, 3, 2, tzinfo=UTC)):
        subscriptions.subscribe(actor=carol, site=site)
        db.session.commit()
    with clock_at(datetime(2026, 3, 3, tzinfo=UTC)):
        services.comment(actor=people["alice"], ticket=before, body="Still broken.")
    notify.catch_up(carol)
    mine = db.session.scalars(sa.select(Notification).where(Notification.recipient == carol))
    assert [n.reason for n in mine] == ["commented"]


def test_one_back_after_a_long_while_hears_of_the_latest_changes(people, monkeypatch):
    earlier = make_ticket(people["alice"], site=people["site"])
    notify.catch_up(people["bob"])
    cursor = db.session.get(NotificationCursor, people["bob"].id)
    cursor.caught_up -= timedelta(days=30)  # he last looked a month ago
    db.session.commit()
    monkeypatch.setattr(notify, "BACKLOG", 2)
    tickets = [make_ticket(people["alice"], site=people["site"]) for _ in range(3)]
    assert notify.catch_up(people["bob"]) == 2
    mine = {n.ticket_id for n in db.session.scalars(sa.select(Notification))
            if n.recipient == people["bob"]}  # fmt: skip
    assert mine == {earlier.id, tickets[1].id, tickets[2].id}


def test_two_looks_at_once_write_each_notification_once(people, monkeypatch):
    """Both read the cursor where it was; the one that moves it second writes nothing."""
    ticket = make_ticket(people["alice"], site=people["site"])
    stale = db.session.execute(notify._CURSOR, {"me": people["bob"].id}).one()
    assert notify.catch_up(people["bob"]) == 1
    services.comment(actor=people["alice"], ticket=ticket, body="Still broken.")
    newest = db.session.scalar(sa.select(sa.func.max(Change.id)))
    as_read = sa.select(sa.literal(newest), sa.literal(stale[1]), sa.literal(stale[2]))
    monkeypatch.setattr(notify, "_CURSOR", as_read.where(sa.bindparam("me") > 0))
    assert notify.catch_up(people["bob"]) == 0
    monkeypatch.undo()
    assert notify.catch_up(people["bob"]) == 1
    assert len(ticket_notes(ticket)) == len({(n.recipient_id, n.change_id)
                                            for n in ticket_notes(ticket)})  # fmt: skip


def test_a_change_committed_after_a_look_passed_its_number_is_not_lost(people):
    """On PostgreSQL a change is numbered when written and seen when committed: a look
    in between moves the cursor past it. The next look reads such changes again."""
    ticket = make_ticket(people["alice"], site=people["site"])
    notify.catch_up(people["bob"])
    late = services.comment(actor=people["alice"], ticket=ticket, body="Committed late.")
    cursor = db.session.get(NotificationCursor, people["bob"].id)
    cursor.through = late.id  # as if a look had passed it before it was committed
    db.session.commit()
    services.comment(actor=people["alice"], ticket=ticket, body="And one more.")
    assert notify.catch_up(people["bob"]) == 2
    assert late.id in {n.change_id for n in ticket_notes(ticket) if n.recipient == people["bob"]}


def test_the_list_is_in_the_order_of_the_changes_whenever_each_was_written(people, app):
    his = make_ticket(people["bob"], summary="His own", site=people["site"])
    make_ticket(people["alice"], site=people["site"], summary="Older, on his site")
    services.comment(actor=people["sam"], ticket=his, body="On it.")  # he is told at once
    page = signed_in(app, "bob").get("/notifications").get_data(as_text=True)  # his site's now
    assert page.index("His own: Sam commented") < page.index("Older, on his site")
    newest = sa.select(Notification).order_by(Notification.id)
    ids = {n.ticket_id: n.id for n in db.session.scalars(newest)}  # each ticket's newest
    assert ids[his.id] < max(ids.values())  # written first


def test_notifications_are_written_in_the_transaction_of_the_change(people, monkeypatch):
    ticket = make_ticket(people["alice"], site=people["site"])
    change = services.comment(actor=people["sam"], ticket=ticket, body="On it.")
    notes = db.session.scalars(sa.select(Notification).where(Notification.change_id == change.id))
    assert {n.created for n in notes} == {change.created}

    told = notify.told

    def broken(change, ticket):  # alice's notification refused by the database
        found = told(change, ticket)
        return notify.Told(found.shape, {**found.params, "at": None})

    monkeypatch.setattr(notify, "told", broken)
    with pytest.raises(sa.exc.IntegrityError):
        services.comment(actor=people["sam"], ticket=ticket, body="A second comment.")
    db.session.rollback()
    # Without its notifications the comment is not there either.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
    kinds = db.session.scalars(
        sa.select(Change.kind).where(Change.ticket_id == ticket.id).order_by(Change.id)
    )
    assert list(kinds) == ["created", "comment"]


def test_mail_is_planned_by_each_recipients_choice(people, app):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    people["bob"].mail_mode = "daily"
    people["ada"].mail_mode = "none"
    db.session.commit()
    ticket = make_ticket(people["alice"], site=people["site"])
    notes = {n.recipient.username: n for n in ticket_notes(ticket)}
    assert notes["bob"].mail == MailState.DIGEST
    assert notes["ada"].mail == MailState.OFF
    app.config["MAIL_SERVER"] = ""
    services.comment(actor=people["sam"], ticket=ticket, body="Without a mail server.")
    assert {n.mail for n in ticket_notes(ticket)[-2:]} == {MailState.OFF}


def ticket_notes(ticket) -> list[Notification]:
    everyone_looks()
    query = sa.select(Notification).where(Notification.ticket_id == ticket.id)
    return list(db.session.scalars(query.order_by(Notification.id)))


# -- In the app ----------------------------------------------------------------------------


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def refreshes(html: str) -> str:
    return re.search(r'id="bell"[^>]*hx-trigger="([^"]*)"', html).group(1)


def bell(html: str) -> str:
    match = re.search(r'class="badge" data-count="(\d+)">([^<]*)<', html)
    assert match, "no bell on the page"
    return match.group(2)


def test_the_bell_counts_unread_notifications_and_the_page_lists_them(people, app):
    ticket = make_ticket(people["alice"], site=people["site"], summary="Checkout is slow")
    services.comment(actor=people["alice"], ticket=ticket, body="Very slow **today**.")
    bob = signed_in(app, "bob")
    # His site's are written when he looks: the page's bell refreshes at once, and writes.
    html = bob.get("/").get_data(as_text=True)
    assert (bell(html), refreshes(html)) == ("0", "load, every 30s")
    assert bell(bob.get("/notifications/bell").get_data(as_text=True)) == "2"
    html = bob.get("/").get_data(as_text=True)
    assert (bell(html), refreshes(html)) == ("2", "every 30s")
    services.comment(actor=people["bob"], ticket=ticket, body="Same here.")  # his own
    assert refreshes(bob.get("/").get_data(as_text=True)) == "every 30s"
    page = bob.get("/notifications").get_data(as_text=True)
    assert f"#{ticket.id} Checkout is slow: Alice commented" in page
    assert f"#{ticket.id} Checkout is slow: Alice reported this ticket" in page
    assert "Very slow **today**." in page  # an excerpt, as text
    carol = signed_in(app, "carol")
    assert bell(carol.get("/").get_data(as_text=True)) == "0"
    assert "No notifications yet" in carol.get("/notifications").get_data(as_text=True)


def test_opening_a_notification_marks_it_read_and_lands_on_the_change(people, app):
    ticket = make_ticket(people["alice"], site=people["site"])
    change = services.comment(actor=people["alice"], ticket=ticket, body="More detail.")
    bob = signed_in(app, "bob")
    bob.get("/notifications/bell")
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.change_id == change.id, Notification.recipient == people["bob"]
        )
    )
    token = csrf_token(bob, "/notifications")
    response = bob.post(f"/notifications/{note.id}/open", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.location.endswith(f"/tickets/{ticket.id}#comment-{change.comment_id}")
    assert bell(bob.get("/").get_data(as_text=True)) == "1"
    # Another person's notification is not there for bob.
    (ada_note,) = [n for n in ticket_notes(ticket) if n.recipient == people["ada"]]
    response = bob.post(f"/notifications/{ada_note.id}/open", data={"csrf_token": token})
    assert response.status_code == 404


def test_mark_read_and_mark_all_read_with_htmx(people, app):
    ticket = make_ticket(people["alice"], site=people["site"])
    services.comment(actor=people["alice"], ticket=ticket, body="One.")
    services.comment(actor=people["alice"], ticket=ticket, body="Two.")
    bob = signed_in(app, "bob")
    token = csrf_token(bob, "/notifications")
    first = [n for n in ticket_notes(ticket) if n.recipient == people["bob"]][0]
    response = bob.post(f"/notifications/{first.id}/read", headers={**HTMX, "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="notification-{first.id}" class="notification"' in html  # no longer unseen
    assert 'id="bell"' in html and 'hx-swap-oob="true"' in html and bell(html) == "2"
    response = bob.post("/notifications/read-all", headers={**HTMX, "X-CSRFToken": token})
    assert bell(response.get_data(as_text=True)) == "0"
    assert "unseen" not in response.get_data(as_text=True)
    # Without JavaScript: back to the page.
    response = bob.post(f"/notifications/{first.id}/read", data={"csrf_token": token})
    assert response.status_code == 303 and response.location.endswith("/notifications")


def test_the_bell_refresh_of_a_signed_out_browser_is_a_bare_401(client):
    response = client.get("/notifications/bell")
    assert response.status_code == 401 and response.get_data() == b""


def test_a_broken_page_link_is_a_400(people, app):
    bob = signed_in(app, "bob")
    response = bob.get("/notifications?before=abc")
    assert response.status_code == 400
    assert "must be a number" in response.get_data(as_text=True)


def test_older_notifications_are_a_page_away(people, app):
    ticket = make_ticket(people["alice"], site=people["site"])
    for n in range(notify.PAGE_SIZE + 2):
        services.comment(actor=people["alice"], ticket=ticket, body=f"Comment number {n}.")
    bob = signed_in(app, "bob")
    page = bob.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification unseen"') == notify.PAGE_SIZE
    older = re.search(r'href="(/notifications\?before=\d+)"', page).group(1)
    rest = bob.get(older).get_data(as_text=True)
    assert rest.count('class="notification unseen"') == 3  # 2 comments and the new ticket
    assert "Older notifications" not in rest


def test_read_and_unread_notifications_are_listed_together_newest_first(people, app):
    ticket = make_ticket(people["alice"], site=people["site"])
    for n in range(notify.PAGE_SIZE + 4):
        services.comment(actor=people["alice"], ticket=ticket, body=f"Comment number {n}.")
    mine = sorted(
        (n.id for n in ticket_notes(ticket) if n.recipient == people["bob"]), reverse=True
    )
    for read in mine[1::3]:
        notify.mark_seen(people["bob"], read)
    bob = signed_in(app, "bob")
    listed, path = [], "/notifications"
    while path:
        page = bob.get(path).get_data(as_text=True)
        listed += re.findall(r'class="notification( unseen)?"', page)
        older = re.search(r'href="(/notifications\?before=\d+)"', page)
        path = older and older.group(1)
    assert listed == [" unseen" if i % 3 != 1 else "" for i in range(len(mine))]


def test_reading_a_persons_notifications_uses_an_index(people, app):
    """The bell, the list, catching up, marking all read, the mail mode and the mail
    queue must each find a person's notifications without reading the whole table.
    SQLite uses a partial index only for a statement that states its condition;
    PostgreSQL, told not to read whole tables where it can help it (its plans for a
    test's few rows would), must find an index for each."""
    app.config["MAIL_SERVER"] = "127.0.0.1"
    make_ticket(people["alice"], site=people["site"])
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "notifications" in statement and "INTO notification_cursors" not in statement:
            statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        notify.unread_count(people["bob"])
        notify.page(people["bob"], services.current_workflow())
        notify.set_mail_mode(people["bob"], "daily")
        db.session.commit()
        notify.mark_all_seen(people["carol"])
        notify_mail.deliver_pending()
        notify_mail.deliver_digests()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) >= 7
    postgresql = db.engine.dialect.name == "postgresql"
    explain = "EXPLAIN" if postgresql else "EXPLAIN QUERY PLAN"
    whole = re.compile(r"SCAN notifications\b|Seq Scan on notifications")
    with db.engine.connect() as c:
        if postgresql:
            c.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            plan = [row[-1] for row in c.exec_driver_sql(f"{explain} {statement}", parameters)]
            scans = [line for line in plan if whole.search(line)]
            assert not scans, (statement, plan)
        c.rollback()


def test_catching_up_reads_the_changes_since_not_the_tickets_of_ones_sites(people, app):
    """A look costs what changed since the last one, whatever the size of the sites: the
    changes are read by their numbers, their tickets and the subscription by key. The
    plan is SQLite's, which joined to the tickets began with every ticket of the sites;
    PostgreSQL's for a test's few rows says nothing (at 100,000 tickets it reads them so
    too: docs/performance.md, the twelfth round)."""
    for _ in range(3):
        make_ticket(people["alice"], site=people["site"])
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO notifications") and "FROM changes" in statement:
            statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert notify.catch_up(people["bob"]) == 3
        make_ticket(people["alice"], site=people["site"])
        assert notify.catch_up(people["bob"]) == 1  # looking back, too
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as c:
        for statement, parameters in statements:
            plan = [row[-1] for row in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                         parameters)]  # fmt: skip
            assert plan[0].startswith("SEARCH changes USING INTEGER PRIMARY KEY"), plan
            tickets = [line for line in plan if "tickets" in line]
            assert tickets == ["SEARCH tickets USING INTEGER PRIMARY KEY (rowid=?)"], plan


def test_a_ticket_deleted_from_the_database_takes_its_notifications_along(people, app):
    """Notifications have no key to tickets of their own: they go with the changes."""
    ticket = make_ticket(people["alice"], site=people["site"])
    services.comment(actor=people["alice"], ticket=ticket, body="Still broken.")
    other = make_ticket(people["alice"], site=people["site"])
    assert ticket_notes(ticket)
    db.session.execute(sa.delete(Ticket).where(Ticket.id == ticket.id))
    db.session.commit()
    left = db.session.scalars(sa.select(Notification.ticket_id)).all()
    assert left and set(left) == {other.id}


def test_a_notification_about_a_ticket_one_may_no_longer_see_is_gone(people, app):
    ticket = make_ticket(people["alice"], site=people["site"])
    bob = signed_in(app, "bob")
    assert bell(bob.get("/notifications/bell").get_data(as_text=True)) == "1"
    services.edit(actor=people["alice"], ticket=ticket, version=ticket.version, private=True)
    assert bell(bob.get("/").get_data(as_text=True)) == "0"
    assert f"#{ticket.id}" not in bob.get("/notifications").get_data(as_text=True)


def test_settings_choose_the_mail_mode_and_waiting_mail_follows(people, app):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    ticket = make_ticket(people["alice"], site=people["site"])
    (waiting,) = [n for n in ticket_notes(ticket) if n.recipient == people["bob"]]
    assert waiting.mail == MailState.PENDING
    bob = signed_in(app, "bob")
    page = bob.get("/account").get_data(as_text=True)
    assert "Daily digest" in page
    data = {"csrf_token": csrf_token(bob, "/account"), "display_name": "Bob B.",
            "language": "de", "timezone": "Europe/Berlin", "mail_mode": "daily"}  # fmt: skip
    response = bob.post("/account", data=data)
    assert response.status_code == 303
    db.session.refresh(waiting)
    assert waiting.mail == MailState.DIGEST
    assert waiting.due.astimezone(people["bob"].zone).hour == app.config["DIGEST_HOUR"]
    bad = bob.post("/account", data={**data, "mail_mode": "hourly", "timezone": "Mars/Base"})
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).count('class="field-error"') == 2  # (now in German)
    db.session.refresh(people["bob"])
    assert (people["bob"].timezone, people["bob"].language) == ("Europe/Berlin", "de")
    assert 'lang="de"' in bob.get("/account").get_data(as_text=True)


def test_notifications_read_long_ago_are_deleted_unread_ones_stay(people, app):
    with clock_at(datetime(2026, 1, 5, tzinfo=UTC)):
        ticket = make_ticket(people["alice"], site=people["site"])
        services.comment(actor=people["alice"], ticket=ticket, body="Still broken.")
    bob_first = [n.id for n in ticket_notes(ticket) if n.recipient == people["bob"]][0]
    with clock_at(datetime(2026, 1, 6, tzinfo=UTC)):
        notify.mark_seen(people["bob"], bob_first)
    with clock_at(datetime(2026, 4, 5, tzinfo=UTC)):
        assert notify.forget_old() == 0  # read 89 days ago
    with clock_at(datetime(2026, 4, 6, 0, 1, tzinfo=UTC)):
        assert notify.forget_old() == 1
    assert bob_first not in {n.id for n in ticket_notes(ticket)}
    assert len(ticket_notes(ticket)) == 2  # ada's and bob's unread ones stay
    app.config["NOTIFICATIONS_KEEP_DAYS"] = 0
    notify.mark_all_seen(people["ada"])
    with clock_at(datetime(2030, 1, 1, tzinfo=UTC)):
        assert notify.forget_old() == 0


@pytest.mark.parametrize("mail", [False, True])
def test_a_child_ticket_tells_each_tickets_people_of_its_own_change(people, app, mail):
    """The child's creation and its parent's new child are recorded together (their
    notifications by one statement on SQLite): each change tells its own people, with
    mail planned for each as for a change alone."""
    app.config["MAIL_SERVER"] = "127.0.0.1" if mail else ""
    people["bob"].mail_mode = "daily"
    db.session.commit()
    parent = make_ticket(people["alice"], site=people["site"])
    services.take(actor=people["tom"], ticket=parent)
    child = services.spawn_child(
        actor=people["sam"], parent=parent, summary="Order toner", description="It is empty."
    )
    created, news = child.changes[0], parent.changes[-1]
    assert (created.kind, news.kind) == ("created", "child")
    notes = {(n.recipient.username, n.change_id, n.reason, n.mail, n.due is not None)
             for n in notes_of(created, news)}  # fmt: skip
    at_once, digest = MailState.PENDING, MailState.DIGEST  # bob reads a daily digest
    if mail:  # the subscribers with mail are told at once; bob's digest is due
        assert notes == {
            ("alice", created.id, "created", at_once, True),
            ("bob", created.id, "created", digest, True),
            ("ada", created.id, "created", at_once, True),
            ("alice", news.id, "changed", at_once, True),
            ("bob", news.id, "changed", digest, True),
            ("tom", news.id, "changed", at_once, True),
        }
    else:  # the ticket's people and the admins; the subscribers when they look
        assert notes == {
            ("ada", created.id, "created", MailState.OFF, False),
            ("alice", news.id, "changed", MailState.OFF, False),
            ("tom", news.id, "changed", MailState.OFF, False),
        }
    assert told(change=created) == {"alice": "created", "bob": "created", "ada": "created"}
    assert told(change=news) == {"alice": "changed", "bob": "changed", "tom": "changed"}


def notes_of(*changes: Change) -> list[Notification]:
    query = sa.select(Notification).where(Notification.change_id.in_([c.id for c in changes]))
    return list(db.session.scalars(query))
