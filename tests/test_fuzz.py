"""Fuzzing: Hypothesis drives every page, form and htmx endpoint with arbitrary input — the
fields each form knows and made-up ones, filled with any text (NUL bytes, other scripts,
very long), numbers and nothing — as an admin, who may reach the most code. No answer may
be a server error. (The JSON API is fuzzed by Schemathesis: tests/test_api_schema.py.)"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.permissions_table import TABLE
from tests.test_permissions import scene, url_for_row, visitor_client
from webapp import listing
from webapp.forms import Form

REQUESTS = 2_000  # per database; CI runs both: 4,000 in all
FORMS = {(m, e): data or {} for m, e, _cells, data in TABLE}


def _form_fields() -> set[str]:
    """The names of every field of every form, and of the list's parameters."""
    names = {key for data in FORMS.values() for key in data}
    pending = list(Form.__subclasses__())
    while pending:
        form = pending.pop()
        pending += form.__subclasses__()
        names |= {name for name in vars(form) if not name.startswith("_")
                  and hasattr(getattr(form, name), "field_class")}  # fmt: skip
    names |= {
        "tab",
        "q",
        "sort",
        "after",
        "state",
        "priority",
        "site",
        "assignee",
        "ids",
        "all",
        "since",
        "before",
        "next",
        *listing.FLAG_FILTERS,
        *listing.DATE_FILTERS,
    }
    return names


FIELDS = sorted(_form_fields())
VALUES = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=string.printable + "\x00äß中\u202e", max_size=400),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "0", "-1", "yes", "no", "none", "me", "all", "1e309", "NaN",
                     "2026-02-30", "../../etc/passwd", "a" * 70_000]),
)  # fmt: skip
INPUT = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=20)), VALUES, max_size=8
)
ROUTES = sorted({(m, e) for m, e in FORMS if not e.startswith("api.") and e != "auth.logout"})


@pytest.mark.slow
def test_no_input_makes_a_server_error(app):
    ids = scene(app)
    app.config["WTF_CSRF_ENABLED"] = False  # so that the input reaches the code behind it
    examples = REQUESTS // len(ROUTES) + 1
    answers: list[tuple[str, int]] = []
    for method, endpoint in ROUTES:
        client = visitor_client(app, "admin", ids)
        fuzz(client, method, url_for_row(app, endpoint, ids), examples, answers)
    errors = [what for what, status in answers if status >= 500]
    assert errors == [], f"{len(errors)} server errors, first: {errors[:5]}"
    assert len(answers) >= REQUESTS


def fuzz(client, method: str, url: str, examples: int, answers: list) -> None:
    """Send ``examples`` generated requests to one route, noting each answer's status."""

    @given(data=INPUT, htmx=st.booleans())
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def probe(data, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            response = client.get(url, query_string=data, headers=headers)
        else:
            response = client.open(url, method=method, data=data, headers=headers)
        response.close()
        answers.append((f"{method} {url} {data!r}", response.status_code))

    probe()
