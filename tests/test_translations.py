"""Every interface string is translatable, and the German catalogue is complete and up to
date; a German user reads German states, dates and mails."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "webapp/translations/de/LC_MESSAGES/messages.po"
# Words that are the same in every language: names and abbreviations.
# A capitalised string literal inside {{ }} or {% %}, not passed to gettext; CamelCase
# literals are code (a form field's type), not text.
LITERAL = re.compile(r"""(?<!_\()(?<!gettext\()["']([A-Z][^"']*[a-z][^"']*)["']""")
CAMEL_CASE = re.compile(r"^[A-Z][a-z]+[A-Z]\w*$")
UNTRANSLATED = {"Tessera", "CSV", "Markdown", "htmx", "Lino", "simpletickets", "spire", "UTC"}


def pybabel(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_the_catalogues_hold_every_string_of_the_code_and_templates(tmp_path):
    pot = tmp_path / "messages.pot"
    extract = pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                      "-o", str(pot), "--no-location", "--sort-output", ".")  # fmt: skip
    assert extract.returncode == 0, extract.stderr
    check = pybabel("update", "--check", "--ignore-pot-creation-date", "--no-fuzzy-matching",
                    "-i", str(pot), "-d", "webapp/translations")  # fmt: skip
    assert check.returncode == 0, "catalogues out of date: run bash script/i18n\n" + check.stderr


def test_the_german_catalogue_is_complete():
    with CATALOGUE.open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == [], f"{len(missing)} strings without a German translation"
    for message in catalog:
        if message.id and "%(" in str(message.id):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            names = set(re.findall(r"%\((\w+)\)", ids[0]))
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for string in strings:
                assert set(re.findall(r"%\((\w+)\)", string)) == names, message.id


def visible_text(source: str, *, markup: bool) -> list[str]:
    """The words of a template that reach people without passing through gettext."""
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    source = re.sub(r"{% block page_class %}.*?{% endblock %}", " ", source, flags=re.S)
    source = re.sub(r"{%-?\s*trans\b.*?endtrans\s*-?%}", " ", source, flags=re.S)
    texts = []
    for expression in re.findall(r"{%.*?%}|{{.*?}}", source, flags=re.S):
        # A capitalised string literal in an expression is a text too, unless translated.
        texts += [t for t in LITERAL.findall(expression) if not CAMEL_CASE.match(t)]
    source = re.sub(r"{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    if markup:
        source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
        texts += re.findall(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"', source)
        source = re.sub(r"<[^>]*>", " ", source, flags=re.S)
    texts.append(html.unescape(source))
    words = []
    for text in texts:
        words += [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in UNTRANSLATED]
    return words


TEMPLATES = sorted(
    p for p in (ROOT / "templates").rglob("*") if p.suffix in (".html", ".txt") and p.is_file()
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_show_no_text_outside_gettext(path):
    words = visible_text(path.read_text(), markup=path.suffix == ".html")
    assert words == [], f"untranslatable text in {path.name}: {' '.join(words[:20])}"


# -- A German user's view -------------------------------------------------------------------


def test_a_german_owner_reads_german_states_dates_and_messages(app):
    from datetime import UTC, datetime

    from tests.conftest import AuthActions
    from tests.factories import make_ticket, make_user
    from webapp.models import clock_at

    greta = make_user("greta", language="de", timezone="Europe/Berlin")
    with clock_at(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)):
        ticket = make_ticket(greta, "Drucker streikt")
    client = app.test_client()
    AuthActions(client).login("greta")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Neu" in page  # the state's German name
    assert "23. Nov. 2026, 00:30" in page  # her timezone, German format
    assert 'lang="de"' in page
    token = _token(client, "/")
    response = client.post(f"/tickets/{ticket.id}/take", data={"csrf_token": token})
    assert response.status_code == 403
    assert "Nur das Team kann Tickets übernehmen." in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_days_and_moments_are_written_as_babel_writes_their_pattern(lang):
    """``format_moment`` writes the day (kept) and the time itself: it must write what
    Babel writes for the whole pattern, in every month, across summer time changes and
    in zones off the hour."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_datetime

    from webapp.i18n import DATE_PATTERNS, format_day, format_moment

    pattern = DATE_PATTERNS[lang]
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
    moment = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
    for step in range(0, 24 * 400, 7):  # every seventh hour of more than a year
        at = moment + timedelta(hours=step, minutes=step % 60)
        for name in zones:
            zone = ZoneInfo(name)
            expected = format_datetime(at, f"{pattern}, HH:mm", tzinfo=zone, locale=lang)
            assert format_moment(at, zone, lang) == expected
        assert format_day(at.date(), lang) == format_date(at.date(), pattern, locale=lang)


def test_templates_speak_a_forced_language_and_then_the_request_s_again(app):
    """Mail to a German recipient is drawn inside an English request (``force_locale``):
    the templates' texts follow the forced language, then the request's again."""
    from flask import render_template_string
    from flask_babel import force_locale

    def take() -> str:
        return render_template_string("{{ _('Take') }}")

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert take() == "Take"
        with force_locale("de"):
            assert take() == "Übernehmen"
        assert take() == "Take"


def test_counts_are_written_as_each_language_writes_numbers(app):
    """The tabs' counts: "1,000+" in English and "1.000+" in German, one after the other
    (each number is kept per language, not once for all)."""
    from flask_babel import force_locale

    from webapp.templating import capped

    with app.test_request_context("/"):
        for language, capped_text in (("en", "1,000+"), ("de", "1.000+"), ("en", "1,000+")):
            with force_locale(language):
                assert capped(1001, 1000) == capped_text
                assert capped(2500, 5000) == ("2,500" if language == "en" else "2.500")
                assert capped(312, 1000, partial=True) == "312+"


def test_a_template_s_texts_are_format_strings_escaped_in_html_only(app):
    """The templates' ``_`` is Jinja's newstyle gettext: every text is a format string
    ("%%" is "%", with values or without), its values escaped in HTML and written as they
    are in plain text (a mail's .txt); a text asked for again, kept, reads the same."""
    from flask import render_template_string

    source = "{{ _('Hello %(name)s,', name=name) }} {{ _('Take') }} {{ _('50%%') }}"
    plain = "{% autoescape false %}" + source + "{% endautoescape %}"
    name = "<b>O'Brien</b>"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for _ in range(2):
            assert render_template_string(source, name=name) == (
                "Hello &lt;b&gt;O&#39;Brien&lt;/b&gt;, Take 50%"
            )
            assert render_template_string(plain, name=name) == "Hello <b>O'Brien</b>, Take 50%"


def test_the_browser_language_is_used_before_sign_in(client):
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert 'lang="de"' in page.get_data(as_text=True)
    token = _token(client)
    response = client.post(
        "/login", data={"username": "nobody", "password": "wrong-password", "csrf_token": token},
        headers={"Accept-Language": "de"},
    )  # fmt: skip
    assert "Falscher Benutzername oder falsches Passwort." in response.get_data(as_text=True)
    english = client.post("/login", data={"username": "x", "password": "y", "csrf_token": token})
    assert "Wrong username or password." in english.get_data(as_text=True)


def test_the_form_library_s_own_messages_follow_each_person_s_language(app):
    from tests.conftest import AuthActions
    from tests.factories import make_user

    make_user("greta", language="de")
    make_user("alice")
    seen = []
    for name in ("greta", "alice", "greta"):  # the catalogue kept for one is not the other's
        client = app.test_client()
        AuthActions(client).login(name)
        response = client.post(
            "/tickets/new",
            data={"summary": "Kaputt", "description": "Geht nicht.", "site": "999",
                  "csrf_token": _token(client, "/tickets/new")},
        )  # fmt: skip
        assert response.status_code == 422
        text = response.text
        seen.append((name, "Keine gültige Auswahl." in text, "Not a valid choice." in text))
    assert seen == [("greta", True, False), ("alice", False, True), ("greta", True, False)]


def test_a_staff_only_refusal_is_told_in_each_person_s_language(app):
    """Translated when it is given (services._require_staff), for whoever asked."""
    from tests.conftest import AuthActions
    from tests.factories import make_ticket, make_user

    tickets = {
        "greta": make_ticket(make_user("greta", language="de")),
        "alice": make_ticket(make_user("alice")),
    }
    seen = []
    for name in ("greta", "alice", "greta"):  # the text kept for one is not the other's
        client = app.test_client()
        AuthActions(client).login(name)
        path = f"/tickets/{tickets[name].id}"
        response = client.post(f"{path}/take", data={"csrf_token": _token(client, path)})
        assert response.status_code == 403
        text = html.unescape(response.text)
        seen.append((name, "Nur das Team kann Tickets übernehmen." in text,
                     "Only staff can take tickets." in text))  # fmt: skip
    assert seen == [("greta", True, False), ("alice", False, True), ("greta", True, False)]


def test_a_german_recipient_gets_german_mail(app):
    from datetime import UTC, datetime

    from tests.factories import make_site, make_ticket, make_user
    from tests.mailsink import MailSink, text_of
    from webapp import notify_mail, services
    from webapp.models import clock_at

    sink = MailSink().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
    try:
        greta = make_user("greta", language="de", timezone="Europe/Berlin", display_name="Greta")
        sam = make_user("sam", role="staff", display_name="Sam")
        with clock_at(datetime(2026, 11, 16, 10, tzinfo=UTC)):
            ticket = make_ticket(greta, "Drucker streikt", site=make_site("Büro", greta))
            services.comment(actor=sam, ticket=ticket, body="Schon unterwegs.")
            notify_mail.deliver_pending()
    finally:
        sink.stop()
    (mail,) = sink.to("greta@example.com")
    assert mail["Subject"] == f"[Tessera] #{ticket.id} Drucker streikt: Sam hat kommentiert"
    text = text_of(mail)
    assert "Hallo Greta," in text and "16. Nov. 2026, 11:00 CET" in text
    assert "Ticket öffnen:" in text


def _token(client, path: str = "/login") -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, path)
