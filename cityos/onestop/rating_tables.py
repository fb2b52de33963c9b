"""The tables of 好差评: one row per rating (of an application or a case, by one rater), one per follow-up of a
差评 as it is now, and the follow-ups' history, appended, never changed. Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

ratings = Table(
    "onestop_ratings",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("subject_kind", String(16), nullable=False),  # application | case
    Column("subject_id", String(32), nullable=False),
    Column("rater", String(128), nullable=False),  # person:<key>, enterprise:<key>, case-reporter, case-report:<n>
    Column("level", Integer, nullable=False),  # 1 非常不满意 … 5 非常满意
    Column("reasons", JSONDoc, nullable=False),  # reason codes of the level
    Column("comment", Text, nullable=True),
    Column("channel", String(16), nullable=False),  # online | app | window | phone-12345
    Column("item", String(64), nullable=False),  # the service item's code; a case's category
    Column("item_name", String(256), nullable=False),
    Column("department", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),  # the application's state when rated; closed for a case
    Column("rated_at_ms", BigInteger, nullable=False),
)
# one rating per handled thing per rater: the second insert fails here, also when two race
Index("ux_onestop_ratings_once", ratings.c.tenant, ratings.c.subject_kind, ratings.c.subject_id, ratings.c.rater,
      unique=True)  # fmt: skip
Index("ix_onestop_ratings_time", ratings.c.tenant, ratings.c.rated_at_ms)
Index("ix_onestop_ratings_rater", ratings.c.tenant, ratings.c.rater, ratings.c.rated_at_ms)

follow_ups = Table(
    "onestop_rating_follow_ups",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("rating_id", String(32), nullable=False),
    Column("department", String(64), nullable=False),  # the rated department: it owns the follow-up
    Column("holder", String(64), nullable=False),  # who answers now: the department, or whom it was escalated to
    Column("state", String(16), nullable=False),
    Column("round", Integer, nullable=False),  # 1, then one more per dispute
    Column("opened_at_ms", BigInteger, nullable=False),
    Column("remind_at_ms", BigInteger, nullable=False),  # this round's 80 %
    Column("due_at_ms", BigInteger, nullable=False),  # this round's limit: 15 working days
    Column("first_due_at_ms", BigInteger, nullable=False),  # the first round's limit: what "on time" is judged by
    Column("reminded", Integer, nullable=False),  # 1: this round's reminder went
    Column("escalated", Integer, nullable=False),
    Column("answered_at_ms", BigInteger, nullable=True),  # the first answer
    Column("answer", Text, nullable=True),  # the last answer
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of moves: a write expects the one it read
)
Index("ux_onestop_rating_follow_ups_rating", follow_ups.c.tenant, follow_ups.c.rating_id, unique=True)
Index("ix_onestop_rating_follow_ups_queue", follow_ups.c.tenant, follow_ups.c.holder, follow_ups.c.state)
Index("ix_onestop_rating_follow_ups_due", follow_ups.c.tenant, follow_ups.c.state, follow_ups.c.due_at_ms)

follow_up_history = Table(
    "onestop_rating_follow_up_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("follow_up_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("text", Text, nullable=True),
)
