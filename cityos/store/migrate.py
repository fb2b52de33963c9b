"""Alembic migrations, run from code so that `cityos db upgrade` and the tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from cityos.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database, target: MetaData | None = None) -> Config:
    """Alembic's configuration for ``db``; ``target``: the metadata of every table, for autogenerate
    (``cityos.components.load_tables()``); the migrations themselves need none."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    cfg.attributes["target_metadata"] = target
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default). Safe to run again."""
    command.upgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
