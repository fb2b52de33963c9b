"""The data resource system's tables. Other packages never touch them: they call cityos.datahub."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

# The current version of each catalogue entry, with the columns the catalogue is searched by.
catalogue_entries = Table(
    "datahub_entries",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("provider", String(128), nullable=False),
    Column("classification", String(512), nullable=False),  # the path joined with "/", e.g. 基础信息/人口/户籍
    Column("sharing", String(16), nullable=False),
    Column("opening", String(16), nullable=False),
    Column("level", String(64), nullable=True),  # the dataset's level: its most protected item's
    Column("search", Text, nullable=False),  # name, abstract and item names, lower case, for free text
    Column("entry", JSONDoc, nullable=False),  # the entry as JSON (cityos.datahub.entries.to_doc)
    Column("updated_at", String(32), nullable=False),
)
Index("ix_datahub_entries_provider", catalogue_entries.c.tenant, catalogue_entries.c.provider)

# Every version of every entry, appended, never changed: who made it, when and why.
entry_versions = Table(
    "datahub_entry_versions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("entry", JSONDoc, nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("changed_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

# One data, one source (一数一源): the department that is the source of each data item, and its entry.
item_sources = Table(
    "datahub_item_sources",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("item_key", String(256), primary_key=True),
    Column("department", String(128), nullable=False),
    Column("code", String(64), nullable=False),  # the entry that registered the source
    Column("item", String(128), nullable=False),  # the item's name in that entry
)
Index("ix_datahub_item_sources_code", item_sources.c.tenant, item_sources.c.code)
