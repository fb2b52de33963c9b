"""The portal's usage table: views, downloads and API calls per dataset and day (issue 19 item 7), one row per
(tenant, dataset, day, kind) whose count grows by upserts of batched counts."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from cityos.store import metadata

usage = Table(
    "opendata_usage",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("dataset", String(128), primary_key=True),  # the package name
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("kind", String(16), primary_key=True),  # view, download, api
    Column("count", BigInteger, nullable=False),
)
