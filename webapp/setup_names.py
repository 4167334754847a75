"""The names of every site and ticket type, kept by the worker between setup changes
(``stamps.keep``), which every change to a site or a type is: a list's filter form offers
them all, and a row names its ticket's site from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import sqlalchemy as sa

from . import stamps
from .extensions import db
from .models import Site, TicketType

Choice = tuple[int, str]


class Names(NamedTuple):
    sites: tuple[Choice, ...]  # (id, name), by name
    types: tuple[Choice, ...]
    site_names: dict[int, str]


def filter_choices() -> tuple[tuple[Choice, ...], tuple[Choice, ...]]:
    """The sites and the ticket types a filter can pick, as (id, name), by name."""
    names = _kept()
    return names.sites, names.types


def site_names() -> Mapping[int, str]:
    """Every site's name, by id."""
    return _kept().site_names


def _kept() -> Names:
    return stamps.keep("setup_names", _read)


def _read() -> Names:
    """Both kinds in one statement."""
    sites = sa.select(sa.literal("site"), Site.id, Site.name)
    types = sa.select(sa.literal("type"), TicketType.id, TicketType.name)
    rows = db.session.execute(sa.union_all(sites, types).order_by(sa.text("3"))).all()
    site_choices = tuple((i, name) for kind, i, name in rows if kind == "site")
    return Names(
        sites=site_choices,
        types=tuple((i, name) for kind, i, name in rows if kind == "type"),
        site_names=dict(site_choices),
    )
