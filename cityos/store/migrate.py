"""Alembic migrations, run from code so that `cityos db upgrade` and the tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from cityos.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def load_all_tables() -> None:
    """Import every package's table module so that ``metadata`` knows all tables."""
    import cityos.auth.tables
    import cityos.cases.tables
    import cityos.context.tables
    import cityos.iot.tables
    import cityos.vitals.tables  # noqa: F401


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default). Safe to run again."""
    command.upgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
