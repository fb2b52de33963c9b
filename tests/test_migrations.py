"""The migrations make the tables the components declare: nothing more, nothing less (so a new table is
not forgotten in a migration, and `cityos db revision` starts from an empty difference)."""

from __future__ import annotations

from cityos.components import load_tables
from cityos.store.engine import Database
from cityos.store.migrate import differences


def test_the_migrated_schema_is_the_declared_one(db: Database) -> None:
    assert differences(db, load_tables()) == []
