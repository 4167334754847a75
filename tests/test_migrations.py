from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db
from webapp.search import include_name


def test_migrations_build_exactly_the_models(app):
    """What `flask db check` checks, on every backend the suite runs on."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, db.metadata) == []
