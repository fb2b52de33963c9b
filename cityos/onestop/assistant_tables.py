"""The assistant's handovers (转人工): a question the assistant could not answer, or a citizen wanted a person
for, queued for the one-stop service desk (综合窗口 / 12345) with what the assistant found, and the answer a
clerk gave."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, String, Table, Text

from cityos.store import metadata

handovers = Table(
    "onestop_assistant_handovers",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(40), primary_key=True),  # a random id, also the asker's key to read the answer
    Column("question", Text, nullable=False),
    Column("channel", String(16), nullable=False),  # portal | guide | api
    Column("contact", String(128), nullable=True),  # how to reach the asker, when they left one
    Column("confidence", Float, nullable=True),  # the assistant's, on the question
    Column("nearest", String(96), nullable=True),  # the start the assistant found nearest (item:… | bundle:…)
    Column("department", String(64), nullable=True),  # whose queue: the nearest start's department; None: the desk
    Column("state", String(16), nullable=False),  # waiting | answered
    Column("created_at", String(40), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_by", String(256), nullable=True),
    Column("answered_at", String(40), nullable=True),
)
Index("ix_onestop_assistant_handovers_queue", handovers.c.tenant, handovers.c.state, handovers.c.created_at_ms)
