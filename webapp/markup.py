"""User text to safe HTML: Markdown without raw HTML, links only to http, https and
mailto, sanitised by nh3; ``#123`` links to ticket 123 for viewers who may see it."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup, escape

REF = re.compile(r"(?<![\w&/#])#(\d{1,9})\b")
SCHEMES = {"http", "https", "mailto"}


def referenced_ids(texts: Iterable[str]) -> set[int]:
    """The ticket numbers ``#123`` mentioned in these texts."""
    return {int(m) for text in texts for m in REF.findall(text or "")}


def render(text: str, linkable: Container[int] = ()) -> Markup:
    """Markdown to sanitised HTML; ``linkable`` are the ticket numbers to link."""
    md = _markdown()
    html = md.render(text or "", {"linkable": linkable})
    return Markup(
        nh3.clean(
            html,
            url_schemes=SCHEMES,
            link_rel="noopener noreferrer nofollow",
            attributes={"a": {"href", "title", "class"}},
        )
    )


@cache
def _markdown() -> MarkdownIt:
    # No images: a picture from elsewhere would tell its host who reads the ticket.
    md = MarkdownIt("js-default", {"linkify": False, "typographer": False}).disable("image")
    md.inline.ruler.before("emphasis", "ticket_ref", _ticket_ref)
    md.add_render_rule("ticket_ref", _render_ticket_ref)
    md.validateLink = lambda url: url.split(":", 1)[0].lower() in SCHEMES or ":" not in url
    return md


def _ticket_ref(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "#":
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "&/#"):
        return False
    match = re.match(r"#(\d{1,9})\b", state.src[state.pos :])
    if not match:
        return False
    if not silent:
        token = state.push("ticket_ref", "", 0)
        token.meta = {"id": int(match.group(1))}
    state.pos += match.end()
    return True


def _render_ticket_ref(self, tokens, idx, options, env) -> str:
    number = tokens[idx].meta["id"]
    if number in env.get("linkable", ()):
        return f'<a href="/tickets/{number}" class="ticket-ref">#{number}</a>'
    return str(escape(f"#{number}"))
