"""Alembic environment: uses the engine of the Database handed in by cityos.store.migrate."""

from __future__ import annotations

from alembic import context

from cityos.store.engine import Database
from cityos.store.migrate import include_object

config = context.config
db: Database | None = config.attributes.get("database")
if db is None:
    db = Database(config.get_main_option("sqlalchemy.url") or "")

with db.engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=config.attributes.get("target_metadata"),  # `cityos db revision` hands it in
        include_object=include_object,
        render_as_batch=db.is_sqlite,
    )
    context.run_migrations()
