"""The store migrates on both databases and runs SQLite in WAL mode."""

from sqlalchemy import inspect, text

from cityos.store.engine import Database
from cityos.store.migrate import current, upgrade


def test_migrations_create_every_table(db: Database) -> None:
    names = set(inspect(db.engine).get_table_names())
    assert {"context_entities", "context_entity_types", "context_entity_geo", "auth_tokens"} <= names
    assert current(db) is not None
    upgrade(db)  # running again is harmless
    assert current(db) is not None


def test_sqlite_runs_in_wal_mode(sqlite_db: Database) -> None:
    with sqlite_db.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
