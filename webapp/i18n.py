"""Languages: the interface, e-mails included, in English or German (Flask-Babel).

A signed-in person reads their own language (their settings); anyone else the best match
of the browser's Accept-Language, else DEFAULT_LANGUAGE. Dates and times are formatted for
the language, in the person's timezone. The catalogues are in ``webapp/translations``; the
``.mo`` files are compiled from them by the install and the test setup (``compile_catalogs``).
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context
from flask.globals import _cv_app
from flask_babel import Babel, LazyString, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from . import current

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = {"en": "English", "de": "Deutsch"}
# How a day and a moment are written: "22 Nov 2026, 14:05" / "22. Nov. 2026, 14:05".
DATE_PATTERNS = {"en": "d MMM y", "de": "d. MMM y"}
KEPT_TEXTS = 4096  # per catalogue: the templates ask for some 460 texts in all
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}

babel = Babel()


def init_app(app: Flask) -> None:
    try:  # an install that skipped the compile step (a wheel) compiles on first start
        compile_catalogs()
    except OSError:
        app.logger.warning("cannot compile the translations in %s", TRANSLATIONS)
    babel.init_app(
        app,
        locale_selector=_locale,
        default_translation_directories=str(TRANSLATIONS),
    )
    _remember_translations(app)


def _remember_translations(app: Flask) -> None:
    """A page asks for hundreds of texts; Flask-Babel finds the catalogue anew for each
    (the request's domain, locale and cache key, through several context lookups). Keep
    the catalogue with the locale it is for, in the request's Babel state: a forced or
    refreshed locale is another object and finds its own catalogue again. The templates'
    ``_`` and ``ngettext`` go to the domain's (kept) catalogue straight away, not through
    Flask-Babel's lookup of the request's domain."""
    with app.app_context():
        domain = babel.domain_instance
    if not getattr(domain, "tessera_remembers", False):  # one Babel serves every app
        _remember(domain)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @pass_context
    def gettext(context, string: str, **variables):
        """The templates' ``_`` and ``gettext``: Jinja's newstyle gettext (the text is a
        format string, escaped in HTML), in one call rather than three, and a text without
        variables kept with its catalogue (a page asks for a hundred, each the same every
        time: 8 µs apiece through Jinja's own)."""
        autoescape = context.eval_ctx.autoescape
        translations = domain.get_translations()
        if variables:
            text = translations.ugettext(string)
            return (Markup(text) if autoescape else text) % variables
        kept = translations.__dict__.get("tessera_texts")
        if kept is None:
            kept = translations.tessera_texts = {}
        found = kept.get((string, autoescape))
        if found is None:
            text = translations.ugettext(string)
            found = (Markup(text) if autoescape else text) % {}
            if len(kept) < KEPT_TEXTS:  # the templates' texts, not any string at all
                kept[(string, autoescape)] = found
        return found

    app.jinja_env.globals.update(_=gettext, gettext=gettext)


def _remember(domain) -> None:
    find = domain.get_translations

    def get_translations():
        kept = _kept_translations()
        if kept is not None:
            return kept
        translations = find()
        state = _babel_state()
        if state is not None and "babel_locale" in state.__dict__:
            state.tessera_translations = (state.babel_locale, translations)
        return translations

    domain.get_translations = get_translations
    domain.tessera_remembers = True


def _babel_state():
    app_ctx = _cv_app.get(None)
    return app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None


def _kept_translations():
    """The catalogue kept for the request's locale, if there is one."""
    state = _babel_state()
    if state is None:
        return None
    kept = state.__dict__.get("tessera_translations")
    if kept is not None and kept[0] is state.__dict__.get("babel_locale"):
        return kept[1]
    return None


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, for Python code: the catalogue kept for the request's
    locale is found without Flask-Babel's three look-ups through ``g`` a text."""
    translations = _kept_translations()
    if translations is None:
        translations = get_translations()
    text = translations.ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's ``lazy_gettext``: translated, by ``gettext``, when used."""
    return LazyString(gettext, string, **variables)


def locale() -> Locale | None:
    """Flask-Babel's ``get_locale``, read where it keeps the request's locale once chosen
    (its own look-up goes through ``g`` three times)."""
    state = _babel_state()
    found = state.__dict__.get("babel_locale") if state is not None else None
    return found if found is not None else get_locale()


def _locale() -> Locale:
    """The request's language, as one Locale object per language: Flask-Babel would parse
    a language's name into a new one for every request."""
    if has_request_context():
        user = current.user()
        if user.is_authenticated and user.language in LANGUAGES:
            return _LOCALES[user.language]
        best = current.request().accept_languages.best_match(LANGUAGES)
        if best:
            return _LOCALES[best]
    return Locale.parse(current_app.config["DEFAULT_LANGUAGE"])


def language() -> str:
    """The language being spoken now (a request's, or the one ``force_locale`` set)."""
    found = locale()
    return found.language if found is not None and found.language in LANGUAGES else "en"


def format_day(day: date, lang: str | None = None) -> str:
    return _day(day.year, day.month, day.day, lang or language())


def format_moment(moment: datetime, zone: ZoneInfo, lang: str | None = None) -> str:
    """A stored UTC moment, as a local time in ``zone``: its day as ``format_day`` writes
    it, then ", HH:mm" (Babel's pattern ``DATE_PATTERNS[lang] + ", HH:mm"``)."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    day = _day(local.year, local.month, local.day, lang or language())
    return f"{day}, {local.hour:02d}:{local.minute:02d}"


@functools.lru_cache(maxsize=4096)
def _day(year: int, month: int, day: int, lang: str) -> str:
    """A day as Babel writes it in ``lang``, kept: a list shows fifty times and dates of a
    few days, and Babel takes some 50 µs to write each."""
    return babel_date(date(year, month, day), DATE_PATTERNS[lang], locale=lang)


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` below ``directory`` into its ``messages.mo`` (what
    ``pybabel compile`` does) unless the ``.mo`` is newer; returns the files written."""
    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        # Written aside and moved into place: processes starting together never read half.
        part = mo.with_name(f".{mo.name}.{os.getpid()}")
        with part.open("wb") as f:
            write_mo(f, catalog)
        os.replace(part, mo)
        written.append(mo)
    return written
