"""Storage: one SQLAlchemy engine, one MetaData that every domain package adds its tables to."""

from cityos.store.engine import Database, JSONDoc, metadata

__all__ = ["Database", "JSONDoc", "metadata"]
