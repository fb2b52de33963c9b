"""The automatic decisions taken on applications (无人干预自动办理): one row per time the rules were asked, with the
outcome, the reasons and the whole rule trace, appended, never changed. Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table

from cityos.store import JSONDoc, metadata

decisions = Table(
    "onestop_decisions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),  # 1, 2, ...: the rules may be asked again (at submission, receipt)
    Column("at_ms", BigInteger, nullable=False),
    Column("stage", String(16), nullable=False),  # submission | receipt | request
    Column("item_code", String(64), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # approve | refuse | undecided
    Column("reasons", JSONDoc, nullable=False),  # the rule ids that made the outcome
    Column("trace", JSONDoc, nullable=False),  # every rule: holds, the facts it read, its reason
)
