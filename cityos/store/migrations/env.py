"""Alembic environment: uses the engine of the Database handed in by cityos.store.migrate."""

from __future__ import annotations

from alembic import context

from cityos.store.engine import Database, metadata
from cityos.store.migrate import load_all_tables

load_all_tables()
config = context.config
db: Database | None = config.attributes.get("database")
if db is None:
    db = Database(config.get_main_option("sqlalchemy.url"))

with db.engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=db.is_sqlite)
    context.run_migrations()
