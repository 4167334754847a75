"""Files on tickets and comments: limits, storage, serving, access, dangerous names, and
the change monitor."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import accounts, administration, notify, services
from webapp.attachments import clean_name
from webapp.exceptions import Invalid
from webapp.extensions import db
from webapp.models import Attachment, Change, Comment, Notification, User
from webapp.monitor import UnrecordedTicketWrite

HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def image_bytes(fmt: str, size: tuple[int, int] = (640, 400)) -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt == "JPEG" else "RGBA"
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 255)).save(out, fmt)
    return out.getvalue()


def files_on_disk(app) -> list[Path]:
    folder = Path(app.config["ATTACHMENTS_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def upload(client, ticket_id: int, *files, htmx: bool = False, url: str | None = None, **data):
    """Post files (bytes, name[, content type]) as the field ``file``."""
    form = {"csrf_token": csrf_token(client, "/"), **data}
    form["file"] = [(io.BytesIO(f[0]), *f[1:]) for f in files]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        url or f"/tickets/{ticket_id}/attachments",
        data=form,
        headers=headers,
        content_type="multipart/form-data",
    )


def fetch(client, url: str):
    """GET a file and close the response (it holds the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def rows() -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attachment).order_by(Attachment.id)))


@pytest.fixture
def scene(app):
    """alice reports a ticket on a site carol follows; bob sees nothing of it; sam is staff."""
    alice, carol = make_user("alice"), make_user("carol")
    make_user("bob")
    make_user("sam", role="staff")
    make_user("ada", role="admin")
    site = make_site("Webshop", alice, carol)
    return make_ticket(alice, "The printer jams", site=site)


def test_owner_attaches_several_files_at_once(app, scene):
    alice = signed_in(app, "alice")
    response = upload(
        alice, scene.id, (b"%PDF-1.4 report", "report.pdf"), (image_bytes("PNG"), "shot.png")
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tickets/{scene.id}#attachments")
    report, shot = rows()
    assert (report.name, report.size, report.is_image) == ("report.pdf", 15, False)
    assert report.content_type == "application/octet-stream"
    assert (shot.name, shot.is_image, shot.content_type) == ("shot.png", True, "image/png")
    names = {p.name for p in files_on_disk(app)}
    assert names == {report.stored_name, shot.stored_name, f"{shot.stored_name}.thumb"}
    assert all(re.fullmatch(r"[0-9a-f]{32}", a.stored_name) for a in (report, shot))

    page = alice.get(f"/tickets/{scene.id}").get_data(as_text=True)
    section = page[page.index('id="attachments"') :]
    assert "report.pdf" in section and "15 bytes" in section and "Alice" in section
    assert f'src="/attachments/{shot.id}/thumbnail"' in section
    assert f'src="/attachments/{report.id}/thumbnail"' not in section
    assert f'href="/attachments/{report.id}"' in section
    assert 'id="attach-file" multiple name="file" type="file"' in page


def test_upload_by_htmx_answers_the_list_and_the_timeline(app, scene):
    alice = signed_in(app, "alice")
    response = upload(alice, scene.id, (b"a", "a.txt"), (b"b", "b.txt"), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="attachments"')
    appended = html[html.index('<ol hx-swap-oob="beforeend:#timeline">') :]
    assert "attached a.txt, b.txt" in appended and appended.count('<li class="entry') == 1


def test_upload_without_a_file_is_refused(app, scene):
    alice = signed_in(app, "alice")
    response = upload(alice, scene.id, (b"", ""))
    assert response.status_code == 422
    assert "Choose a file to attach." in response.get_data(as_text=True)


def test_a_file_over_max_upload_mb_is_refused_and_nothing_stays(app, scene):
    app.config["MAX_UPLOAD_MB"] = 0.001  # 1,048 bytes
    alice = signed_in(app, "alice")
    response = upload(alice, scene.id, (b"small", "fine.txt"), (b"x" * 2000, "big.log"))
    assert response.status_code == 422
    assert "big.log is too large: a file may have 0.001 MB." in response.get_data(as_text=True)
    assert rows() == []
    assert files_on_disk(app) == []  # not the big one's part, nor the fine one before it

    response = upload(alice, scene.id, (b"x" * 2000, "big.log"), htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.startswith('<section id="attachments"')
    assert "big.log is too large" in html
    assert files_on_disk(app) == [] and rows() == []


def test_over_max_ticket_uploads_mb_together_is_refused_and_nothing_stays(app, scene):
    app.config["MAX_TICKET_UPLOADS_MB"] = 0.003  # 3,145 bytes
    alice = signed_in(app, "alice")
    assert upload(alice, scene.id, (b"x" * 2000, "first.txt")).status_code == 303
    kept = files_on_disk(app)
    response = upload(alice, scene.id, (b"y" * 1000, "second.txt"), (b"z" * 1000, "third.txt"))
    assert response.status_code == 422
    assert "A ticket&#39;s files may have 0.003 MB together" in response.get_data(as_text=True)
    assert [a.name for a in rows()] == ["first.txt"]
    assert files_on_disk(app) == kept

    other = make_ticket(scene.author, "Another ticket", site=scene.site)
    assert upload(alice, other.id, (b"y" * 1000, "second.txt")).status_code == 303
    # A removed file makes room again.
    services.remove_attachment(actor=scene.author, attachment=rows()[0])
    assert upload(alice, scene.id, (b"y" * 2000, "again.txt")).status_code == 303


def test_a_request_over_max_content_length_is_a_clear_413(app, scene):
    app.config["MAX_CONTENT_LENGTH"] = 4000
    alice = signed_in(app, "alice")
    response = upload(alice, scene.id, (b"x" * 5000, "huge.bin"))
    assert response.status_code == 413
    assert "What you sent is too large: a file may have 10 MB" in response.get_data(as_text=True)
    response = upload(alice, scene.id, (b"x" * 5000, "huge.bin"), htmx=True)
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#alerts"
    assert rows() == [] and files_on_disk(app) == []


def test_max_content_length_follows_the_ticket_limit(app):
    from webapp import create_app

    derived = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    assert derived.config["MAX_CONTENT_LENGTH"] == 101 * 1024 * 1024
    small = create_app(
        {"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "MAX_TICKET_UPLOADS_MB": 20}
    )
    assert small.config["MAX_CONTENT_LENGTH"] == 21 * 1024 * 1024


@pytest.mark.parametrize(
    ("content", "name", "claimed"),
    [
        (HTML, "page.html", "text/html"),
        (SVG, "drawing.svg", "image/svg+xml"),
        (HTML, "fake.png", "image/png"),
        (b"\x89PNG\r\n\x1a\n" + HTML, "truncated.png", "image/png"),
    ],
)
def test_html_svg_and_fake_images_are_only_ever_downloaded(app, scene, content, name, claimed):
    alice = signed_in(app, "alice")
    upload(alice, scene.id, (content, name, claimed))
    (attachment,) = rows()
    assert not attachment.is_image
    response = fetch(alice, f"/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "private" in response.headers["Cache-Control"]
    assert alice.get(f"/attachments/{attachment.id}/thumbnail").status_code == 404
    page = alice.get(f"/tickets/{scene.id}").get_data(as_text=True)
    assert f"/attachments/{attachment.id}/thumbnail" not in page


@pytest.mark.parametrize(
    ("fmt", "served", "thumbnail"),
    [
        ("PNG", "image/png", "image/png"),
        ("JPEG", "image/jpeg", "image/jpeg"),
        ("GIF", "image/gif", "image/png"),
        ("WEBP", "image/webp", "image/png"),
    ],
)
def test_real_images_are_recognised_by_content_and_get_a_thumbnail(
    app, scene, fmt, served, thumbnail
):
    alice = signed_in(app, "alice")
    # Named and typed as anything: the content decides.
    upload(alice, scene.id, (image_bytes(fmt), "picture.dat", "application/octet-stream"))
    (attachment,) = rows()
    assert attachment.is_image and attachment.content_type == served
    download = fetch(alice, f"/attachments/{attachment.id}")
    assert download.headers["Content-Type"] == served
    assert download.headers["Content-Disposition"] == "attachment; filename=picture.dat"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    response = fetch(alice, f"/attachments/{attachment.id}/thumbnail")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == thumbnail
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    small = Image.open(io.BytesIO(response.data))
    assert max(small.size) <= 320 and small.format == thumbnail.split("/")[1].upper()


def test_the_original_name_is_encoded_in_the_download(app, scene):
    # Through the service: the test client cannot send a quote in a file name.
    file = FileStorage(io.BytesIO(b"x"), filename='Bericht "über" Drucker.pdf')
    services.attach(actor=scene.author, ticket=scene, files=[file])
    (attachment,) = rows()
    alice = signed_in(app, "alice")
    disposition = fetch(alice, f"/attachments/{attachment.id}").headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="Bericht \\"uber\\" Drucker.pdf"; '
        "filename*=UTF-8''Bericht%20%22%C3%BCber%22%20Drucker.pdf"
    )


DANGEROUS = [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
    ("evil\r\nSet-Cookie: x=1.txt", "evil Set-Cookie: x=1.txt"),
    ("nul\x00byte\x07bell.txt", "nul byte bell.txt"),
    ("invoice\u202egpj.exe", "invoice gpj.exe"),
    ("line\u2028break.txt", "line break.txt"),
    ("..", "file"),
    ("", "file"),
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
]


@pytest.mark.parametrize(("given", "kept"), DANGEROUS)
def test_dangerous_names_are_made_harmless(given, kept):
    assert clean_name(given) == kept


def test_dangerous_names_are_stored_safely_and_shown_escaped(app, scene):
    owner = scene.author
    names = [given for given, _ in DANGEROUS if given]
    files = [FileStorage(io.BytesIO(b"x"), filename=name) for name in names]
    services.attach(actor=owner, ticket=scene, files=files)
    stored = rows()
    assert [a.name for a in stored] == [kept for given, kept in DANGEROUS if given]
    folder = Path(app.config["ATTACHMENTS_DIR"]).resolve()
    for a in stored:
        assert re.fullmatch(r"[0-9a-f]{32}", a.stored_name)
        assert (folder / a.stored_name).resolve().parent == folder

    client = signed_in(app, "alice")
    page = client.get(f"/tickets/{scene.id}").get_data(as_text=True)
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page
    assert "Set-Cookie: x=1.txt" in page and "evil\r\n" not in page

    csv = client.get(f"/tickets/{scene.id}/monitor.csv").get_data(as_text=True)
    assert ",attachment_added,attachment,,<img src=x onerror=alert(1)>.png\r\n" in csv
    assert ",attachment_added,attachment,,evil Set-Cookie: x=1.txt\r\n" in csv
    assert "\x00" not in csv and "\u202e" not in csv

    html_name = next(a for a in stored if a.name.startswith("<img"))
    response = fetch(client, f"/attachments/{html_name.id}")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="<img src=x onerror=alert(1)>.png"'
    )
    carol = signed_in(app, "carol")  # told of it, and the notification is escaped too
    notes = carol.get("/notifications").get_data(as_text=True)
    assert "attached passwd, win.ini, &lt;img src=x onerror=alert(1)&gt;.png" in notes


def test_attachments_of_a_ticket_one_may_not_see_are_404_everywhere(app, scene):
    alice = signed_in(app, "alice")
    upload(alice, scene.id, (image_bytes("PNG"), "shot.png"))
    (shot,) = rows()
    urls = [f"/attachments/{shot.id}", f"/attachments/{shot.id}/thumbnail"]
    bob = signed_in(app, "bob")
    for url in urls:
        assert bob.get(url).status_code == 404
    token = csrf_token(bob, "/")
    assert bob.post(f"/attachments/{shot.id}/delete", data={"csrf_token": token}).status_code == 404
    assert upload(bob, scene.id, (b"x", "sneaky.txt")).status_code == 404
    assert bob.get("/attachments/9999").status_code == 404  # the same as a missing one

    carol, sam = signed_in(app, "carol"), signed_in(app, "sam")
    for client in (alice, carol, sam):
        for url in urls:
            assert fetch(client, url).status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(urls[0]).status_code == 302  # sent to sign in

    services.edit(actor=scene.author, ticket=scene, version=scene.version, private=True)
    assert carol.get(urls[0]).status_code == 404  # private: no longer hers to see
    administration.delete_ticket(actor=accounts.find_user("ada"), ticket=scene)
    for client in (alice, sam):
        assert client.get(urls[0]).status_code == 404


def test_uploader_and_staff_remove_others_may_not(app, scene):
    alice, carol, sam = signed_in(app, "alice"), signed_in(app, "carol"), signed_in(app, "sam")
    upload(alice, scene.id, (b"a", "mine.txt"))
    upload(carol, scene.id, (b"c", "carols.txt"))
    mine, carols = rows()
    page = alice.get(f"/tickets/{scene.id}").get_data(as_text=True)
    assert f"/attachments/{mine.id}/delete" in page
    assert f"/attachments/{carols.id}/delete" not in page

    def remove(client, attachment, **kwargs):
        data = {"csrf_token": csrf_token(client, "/")}
        return client.post(f"/attachments/{attachment.id}/delete", data=data, **kwargs)

    assert remove(carol, mine).status_code == 403
    assert remove(alice, carols).status_code == 403
    assert (Path(app.config["ATTACHMENTS_DIR"]) / mine.stored_name).exists()

    assert remove(alice, mine).status_code == 303
    assert not (Path(app.config["ATTACHMENTS_DIR"]) / mine.stored_name).exists()
    assert alice.get(f"/attachments/{mine.id}").status_code == 404
    assert remove(alice, mine).status_code == 404  # gone already

    response = remove(sam, carols, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No files yet." in html and "removed carols.txt" in html
    assert files_on_disk(app) == []
    assert all(a.removed is not None for a in rows())  # the rows stay for the history


def test_adding_and_removing_are_recorded_in_the_monitor_and_timeline(app, scene):
    alice = signed_in(app, "alice")
    upload(alice, scene.id, (b"%PDF", "report.pdf"), (b"log", "app.log"))
    report, _ = rows()
    services.remove_attachment(actor=accounts.find_user("sam"), attachment=report)
    changes = db.session.scalars(
        sa.select(Change).where(Change.kind.like("attachment%")).order_by(Change.id)
    ).all()
    assert [(c.kind, c.actor.username) for c in changes] == [
        ("attachment_added", "alice"),
        ("attachment_removed", "sam"),
    ]
    assert [(f.field, f.old, f.new) for f in changes[0].fields] == [
        ("attachment", None, "report.pdf"),
        ("attachment", None, "app.log"),
    ]
    assert [(f.field, f.old, f.new) for f in changes[1].fields] == [
        ("attachment", "report.pdf", None)
    ]
    page = alice.get(f"/tickets/{scene.id}").get_data(as_text=True)
    assert "attached report.pdf, app.log" in page and "removed report.pdf" in page
    csv = alice.get(f"/tickets/{scene.id}/monitor.csv").get_data(as_text=True)
    assert ",alice,attachment_added,attachment,,report.pdf\r\n" in csv
    assert ",sam,attachment_removed,attachment,report.pdf,\r\n" in csv
    # Notifications follow the recorded changes: carol follows the site.
    notify.catch_up(db.session.scalar(sa.select(User).where(User.username == "carol")))
    told = db.session.scalars(
        sa.select(Notification.change_id).where(Notification.recipient.has(username="carol"))
    ).all()
    assert {c.id for c in changes} <= set(told)


def test_a_comment_with_files_is_saved_in_one_go(app, scene):
    alice = signed_in(app, "alice")
    url = f"/tickets/{scene.id}/comments"
    response = upload(
        alice, scene.id, (image_bytes("PNG"), "shot.png"), (b"log", "app.log"),
        url=url, body="Here is what I see.", htmx=True,
    )  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    note = db.session.scalars(sa.select(Comment)).one()
    shot, log = rows()
    assert shot.comment_id == note.id and log.comment_id == note.id
    assert f'id="comment-{note.id}"' in html
    assert f'href="/attachments/{log.id}" download>app.log</a>' in html  # under the comment
    assert '<section id="attachments" class="card attachments"' in html and "hx-swap-oob" in html
    change = db.session.scalars(sa.select(Change).where(Change.kind == "comment")).one()
    assert [f.field for f in change.fields] == [
        "comment", "last_commenter", "attachment", "attachment"
    ]  # fmt: skip


def test_a_refused_file_keeps_the_comment_unsaved_and_its_text_in_the_form(app, scene):
    app.config["MAX_UPLOAD_MB"] = 0.001
    alice = signed_in(app, "alice")
    url = f"/tickets/{scene.id}/comments"
    for htmx in (False, True):
        response = upload(
            alice, scene.id, (b"x" * 2000, "big.log"), url=url, body="Look at this log.",
            htmx=htmx,
        )  # fmt: skip
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "big.log is too large" in html
        assert re.search(r"<textarea[^>]*>\s*Look at this log\.</textarea>", html)
    assert db.session.scalars(sa.select(Comment)).all() == []
    assert rows() == [] and files_on_disk(app) == []


def test_an_empty_comment_with_files_leaves_no_file(app, scene):
    with pytest.raises(Invalid):
        services.comment(
            actor=scene.author, ticket=scene, body="  ",
            files=[FileStorage(io.BytesIO(b"x"), filename="a.txt")],
        )  # fmt: skip
    assert rows() == [] and files_on_disk(app) == []


def test_a_failure_after_storing_leaves_no_file(app, scene, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_add_attachments", broken)
    with pytest.raises(RuntimeError):
        services.attach(
            actor=scene.author, ticket=scene,
            files=[FileStorage(io.BytesIO(image_bytes("PNG")), filename="a.png")],
        )  # fmt: skip
    db.session.rollback()
    assert rows() == [] and files_on_disk(app) == []


def test_an_attachment_written_past_the_services_is_refused(app, scene):
    db.session.add(
        Attachment(
            ticket=scene, uploader=scene.author, name="x", stored_name="0" * 32, size=1,
            content_type="application/octet-stream",
        )
    )  # fmt: skip
    with pytest.raises(UnrecordedTicketWrite):
        db.session.flush()
    db.session.rollback()
