"""Alembic migrations, run from code so that `cityos db upgrade` and the tests share one path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def include_object(_obj: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
    """What autogenerate compares: not the month partitions of the history, which PostgreSQL's history
    writes create as they are needed (cityos.context.temporal.history)."""
    return not (type_ == "table" and reflected and (name or "").startswith("context_attr_history_"))


def differences(db: Database, target: MetaData) -> list[Any]:
    """What the migrated schema of ``db`` lacks or has beyond ``target`` (empty: they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        return list(compare_metadata(context, target))


def revision(db: Database, target: MetaData, message: str) -> str:
    """Write a new migration for what ``target`` declares beyond the schema of ``db`` (migrated first); its
    path. Read it before committing: autogenerate does not see everything (renames, data moves)."""
    upgrade(db)
    script = command.revision(alembic_config(db, target), message=message, autogenerate=True)
    return str(getattr(script, "path", ""))


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default). Safe to run again."""
    command.upgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
