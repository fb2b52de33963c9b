"""The service items' versions (事项版本): one row per published version of an item, never changed; the
latest is the one in force. Version 1 of each shipped item is written from ``data/items.yaml``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

item_versions = Table(
    "onestop_item_versions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("department", String(64), nullable=False),
    Column("item", JSONDoc, nullable=False),  # the ServiceItem as JSON (cityos.onestop.catalogue.item_json)
    Column("by", String(256), nullable=False),
    Column("at", String(40), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
)
