"""Tables of the context (data hub) package.

An entity is one row. Its attributes live in ``attrs``, a JSON document keyed by the *expanded*
attribute IRI, each holding a list of instances (one per ``datasetId``; the default instance has
no ``datasetId``)::

    {"https://uri.etsi.org/ngsi-ld/default-context/temperature": [
        {"type": "Property", "value": 21.5, "unitCode": "CEL", "observedAt": "2026-11-21T04:00:00.000Z",
         "createdAt": "...", "modifiedAt": "...",
         "https://uri.etsi.org/ngsi-ld/default-context/accuracy": {"type": "Property", "value": 0.1}}]}

Inside an instance the NGSI-LD member names (type, value, object, languageMap, observedAt, unitCode,
datasetId, createdAt, modifiedAt, ...) stay as they are; sub-attribute names are expanded IRIs.

Types are kept twice: in ``types`` for output, and one row per type in ``context_entity_types`` so
that type filters use an index. Every GeoProperty instance has a bounding box row in
``context_entity_geo`` so that geo-queries prefilter by index before the exact Shapely check.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cityos.store import PK, JSONDoc, metadata

entities = Table(
    "context_entities",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("id", String(512), nullable=False),
    Column("types", JSONDoc, nullable=False),
    Column("scope", JSONDoc, nullable=True),
    Column("attrs", JSONDoc, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("modified_at", String(32), nullable=False),
    # the department that owns the entity (its data source, 一数一源): a department's token changes and deletes
    # only its own; None: the city's (made by an operator or an administrator)
    Column("owner", String(128), nullable=True),
    # values derived from ``attrs`` and kept beside them by a reader that asks for them again and again (the
    # datahub's masked values, cityos.datahub.shadows): every write of the state empties it and moves
    # ``version`` (random on insert, +1 on each write), and a reader keeps what it derived only while the
    # version it read is still the row's, so that nothing kept outlives the values it was derived from. JSON
    # text (``json`` on PostgreSQL, not ``jsonb``): read back as it was written, the server sends it without
    # rendering it (a page's kept records, 1,000 of them, cost a jsonb column several ms of the server's CPU)
    Column("shadow", JSON, nullable=True),
    Column("version", BigInteger, nullable=False, server_default="0"),
    # expiresAt of a transient entity (NGSI-LD 4.22), stored form: past it the entity is not served, and the
    # next create of its id (or `cityos context reap`) removes the row; None: a durable entity
    Column("expires_at", String(32), nullable=True),
    UniqueConstraint("tenant", "id"),
    # what changed since a time (the district return's incremental runs, cityos.datahub.returns)
    Index("ix_context_entities_modified", "tenant", "modified_at"),
    Index("ix_context_entities_expires", "expires_at"),  # the reaper's: few rows have one
)

entity_types = Table(
    "context_entity_types",
    metadata,
    Column("entity_pk", PK, ForeignKey("context_entities.pk", ondelete="CASCADE"), primary_key=True),
    Column("type", String(512), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Index("ix_context_entity_types_tenant_type", "tenant", "type", "entity_pk"),
)

entity_geo = Table(
    "context_entity_geo",
    metadata,
    Column("entity_pk", PK, ForeignKey("context_entities.pk", ondelete="CASCADE"), primary_key=True),
    Column("attr", String(512), primary_key=True),
    Column("dataset_id", String(512), primary_key=True),  # "" for the default instance
    Column("tenant", String(64), nullable=False),
    Column("min_x", Float, nullable=False),
    Column("min_y", Float, nullable=False),
    Column("max_x", Float, nullable=False),
    Column("max_y", Float, nullable=False),
    Column("size_class", SmallInteger, nullable=False),  # see cityos.context.geo.SIZE_CLASSES
    # Covers every column a geo prefilter reads, so candidates come from the index alone.
    Index("ix_context_entity_geo_box", "tenant", "attr", "size_class", "min_x", "min_y", "max_x", "max_y", "entity_pk"),
)

jsonld_contexts = Table(
    "context_jsonld_contexts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # Hosted | Cached
    # the tenant a hosted context was stored in (its own to delete); None: a cached remote one, server-wide
    Column("tenant", String(64), nullable=True),
    Column("body", JSONDoc, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_used_at", String(32), nullable=True),
    Column("uses", Integer, nullable=False, default=0),
)


# Attribute history (temporal evolution): one row per attribute instance change, written in the same
# transaction as the current state. Time is epoch milliseconds (observedAt, else the write time), so
# a time range is an integer range of the primary key and period aggregation is integer arithmetic
# on both databases. PostgreSQL partitions this table by month (migration 0003).
attr_history = Table(
    "context_attr_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("entity_id", String(512), primary_key=True),
    Column("attr", String(512), primary_key=True),
    Column("dataset_id", String(512), primary_key=True),  # "" for the default instance
    Column("ts", BigInteger, primary_key=True),  # epoch ms of observedAt, else of the write
    # 0 for telemetry, whose replays (same observedAt) are one row; every other change gets a fresh number
    # (cityos.context.temporal.history.next_seq), so no accepted change overwrites another of the same ms
    Column("seq", BigInteger, primary_key=True, server_default="0"),
    Column("instance", JSONDoc, nullable=False),  # the attribute instance as stored in the entity
    Column("written_at", String(32), nullable=False),
)


# NGSI-LD subscriptions (cityos.context.subscriptions): ``body`` is the subscription as the client
# gave it (names as written, ``@context`` removed, ``id`` and ``type`` filled in) and ``context`` the
# @context of the request that created it; names are expanded with that context when the
# subscription is loaded. Delivery status is kept in its own columns, written by the notifier.
subscriptions = Table(
    "context_subscriptions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(512), primary_key=True),
    Column("body", JSONDoc, nullable=False),
    Column("context", JSONDoc, nullable=True),  # None: the core context alone
    Column("is_active", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # active | paused | failed (expired is computed)
    Column("times_sent", Integer, nullable=False, default=0),
    Column("last_notification", String(32), nullable=True),
    Column("last_success", String(32), nullable=True),
    Column("last_failure", String(32), nullable=True),
    Column("failures_in_a_row", Integer, nullable=False, default=0),
    Column("created_at", String(32), nullable=False),
    Column("modified_at", String(32), nullable=False),
    # who made it: a department's subscription is notified only what it may read (cityos.context.governance),
    # in the scenario and for the purpose it named; None: the city's (an operator's or the platform's)
    Column("principal", String(128), nullable=True),
    Column("department", String(64), nullable=True),
    Column("scenario", String(256), nullable=True),
    Column("purpose", String(512), nullable=True),
)


# Retention (issue 3): per tenant and entity type, how long raw instances, hourly rollups and daily
# rollups are kept. `cityos history compact` applies it.
retention_policies = Table(
    "context_retention",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("entity_type", String(512), primary_key=True),  # expanded IRI
    Column("raw_days", Integer, nullable=False),
    Column("hourly_days", Integer, nullable=False),
    Column("daily_days", Integer, nullable=True),  # None: daily rollups are kept
)

# Rollups of compacted history: one row per series and hour or day, with what aggregation needs.
attr_rollups = Table(
    "context_attr_rollup",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("entity_id", String(512), primary_key=True),
    Column("attr", String(512), primary_key=True),
    Column("dataset_id", String(512), primary_key=True),
    Column("period", String(8), primary_key=True),  # hour | day
    Column("start", BigInteger, primary_key=True),  # epoch ms
    Column("n", BigInteger, nullable=False),  # instances
    Column("num_n", BigInteger, nullable=False),  # numeric values among them
    Column("total", Float, nullable=True),
    Column("sumsq", Float, nullable=True),
    Column("low", Float, nullable=True),
    Column("high", Float, nullable=True),
)

# Notifications matched but not yet delivered (the outbox): one row for each batch of notifications the
# notifier matched, written in the transaction that precedes the bus events' acknowledgement. ``notifications`` is a
# JSON array of the notifications, each an array of the fields of ``subscriptions.outbox.Pending``. A row
# goes when every notification in it was taken by its receiver or given up; one whose notifications are half
# done or more is written again with the rest (so a restart repeats fewer than half of a row's). A restarted
# notifier sends what is left here.
notification_outbox = Table(
    "context_notification_outbox",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=False),  # from the notifier's clock sequence (SQLite: the rowid)
    Column("notifications", Text, nullable=False),
)


# NGSI-LD context source registrations (cityos.context.csources): ``body`` as the client gave it (names as
# written, ``@context`` removed, ``id`` filled in) and ``context`` the @context of the request that made it;
# mode, endpoint and expiresAt are kept in columns of their own too, for listing and expiry.
csource_registrations = Table(
    "context_csource_registrations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(512), primary_key=True),
    Column("body", JSONDoc, nullable=False),
    Column("context", JSONDoc, nullable=True),  # None: the core context alone
    Column("mode", String(16), nullable=False),  # inclusive | exclusive | redirect | auxiliary
    Column("endpoint", String(2048), nullable=False),
    Column("expires_at", String(32), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("modified_at", String(32), nullable=False),
)

# Subscriptions to registrations (csourceSubscriptions): as context_subscriptions, with their delivery status.
csource_subscriptions = Table(
    "context_csource_subscriptions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(512), primary_key=True),
    Column("body", JSONDoc, nullable=False),
    Column("context", JSONDoc, nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("times_sent", Integer, nullable=False, default=0),
    Column("times_failed", Integer, nullable=False, default=0),
    Column("last_notification", String(32), nullable=True),
    Column("last_success", String(32), nullable=True),
    Column("last_failure", String(32), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("modified_at", String(32), nullable=False),
)
