"""Tessera's Jinja (webapp/template_engine.py) writes and calls as Jinja does: the same
escaping of every kind of value, and the same arguments for every kind of callable."""

from __future__ import annotations

import pytest
from flask import render_template_string
from jinja2 import pass_context, pass_eval_context
from markupsafe import Markup, escape


class Shown:
    def __html__(self) -> str:
        return "<em>shown as it is</em>"


@pytest.mark.parametrize(
    "value",
    ["<a href='x'>Tom & \"Jerry\"</a>", Markup("<b>safe</b>"), 42, 3.5, None, Shown(), ""],
)
def test_a_value_is_escaped_as_markupsafe_escapes_it(app, value):
    with app.test_request_context("/"):
        assert render_template_string("{{ value }}|{{ missing }}|", value=value) == (
            f"{escape(value)}||"
        )


def test_what_a_macro_or_a_set_block_writes_is_escaped_once(app):
    source = (
        "{% macro m(v) %}<i>{{ v }}</i>{% endmacro %}{{ m(value) }}"
        "{% set s %}<b>{{ value }}</b>{% endset %}{{ s }}"
        "{% autoescape false %}{{ value }}{% endautoescape %}"
    )
    with app.test_request_context("/"):
        assert render_template_string(source, value="<x>") == "<i>&lt;x&gt;</i><b>&lt;x&gt;</b><x>"


def test_templates_call_functions_as_jinja_does(app):
    """A function that wants the template's context gets the variables set in the loop
    around its call; one that wants the evaluation context gets it; a function that stops
    an iteration gives an undefined value, not an error."""

    def stop():
        raise StopIteration

    helpers = {
        "seen": pass_context(lambda context, name: context.get(name)),
        "escaping": pass_eval_context(lambda eval_ctx: eval_ctx.autoescape),
        "stop": stop,
    }
    source = "{% for i in [1, 2] %}{% set doubled = i * 2 %}{{ seen('doubled') }},{% endfor %}"
    with app.test_request_context("/"):
        assert render_template_string(source, **helpers) == "2,4,"
        assert render_template_string("{{ escaping() }}|{{ stop() }}|", **helpers) == "True||"
