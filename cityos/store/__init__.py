"""Storage: one SQLAlchemy engine, one MetaData that every domain package adds its tables to."""

from cityos.store.engine import PK, Database, JSONDoc, metadata

__all__ = ["PK", "Database", "JSONDoc", "metadata"]
